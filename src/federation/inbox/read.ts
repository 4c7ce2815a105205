// Read: the fédération (or national) tells that someone there opened one of our reports.
import type { InboxContext } from "@fedify/fedify";
import type { Read } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { reportAcknowledged } from "../../reports/reports.ts";
import { senderOf } from "./common.ts";

export async function onRead(ctx: InboxContext<Services>, read: Read): Promise<void> {
  const objectUri = read.objectId?.href;
  if (!objectUri) return;
  const reader = await senderOf(ctx, read);
  if (reader) reportAcknowledged(ctx.data.db, objectUri, "Read", reader);
}
