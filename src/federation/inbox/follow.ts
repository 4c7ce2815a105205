// Follow: someone wants to follow one of our actors.
import type { InboxContext } from "@fedify/fedify";
import type { Follow } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { receiveFollow } from "../../social/follows.ts";
import { localActorOf, senderOf } from "./common.ts";

export async function onFollow(ctx: InboxContext<Services>, follow: Follow): Promise<void> {
  if (!follow.id) return;
  const target = localActorOf(ctx, follow.objectId);
  if (!target) return;
  const follower = await senderOf(ctx, follow);
  if (!follower) return;
  await receiveFollow(ctx.data, follower, target, follow.id.href);
}
