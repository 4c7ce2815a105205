// Reject(Follow): a remote actor refused (or removed) one of our members as follower.
import type { InboxContext } from "@fedify/fedify";
import type { Reject } from "@fedify/vocab";
import { and, eq } from "drizzle-orm";
import type { Services } from "../../services.ts";
import { actors, follows } from "../../storage/schema.ts";
import { answerReceived } from "../../agenda/rsvp.ts";
import { oversightAnswered } from "../../territory/links.ts";

export async function onReject(ctx: InboxContext<Services>, reject: Reject): Promise<void> {
  const followUri = reject.objectId?.href;
  if (!followUri || !reject.actorId) return;
  const { db } = ctx.data;
  const target = db.select().from(actors).where(eq(actors.uri, reject.actorId.href)).get();
  if (!target) return;
  db.delete(follows).where(and(eq(follows.uri, followUri), eq(follows.followingId, target.id))).run();
  answerReceived(db, followUri, target.id, false);
  oversightAnswered(db, followUri, target, false);
}
