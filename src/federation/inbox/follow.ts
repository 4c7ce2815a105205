// Follow: someone wants to follow one of our actors, or (marked "oversight")
// a fédération or the national node asks to oversee this node.
import type { InboxContext } from "@fedify/fedify";
import type { Follow } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { receiveFollow } from "../../social/follows.ts";
import { localActorOf, senderOf } from "./common.ts";
import { receiveOversight } from "../../territory/links.ts";
import { readPayload } from "../territory.ts";
import { afterParentLinked } from "../../territory/sync.ts";
import { localGroupOfActor, receiveGroupFollow } from "../../groups/groups.ts";

export async function onFollow(ctx: InboxContext<Services>, follow: Follow): Promise<void> {
  if (!follow.id) return;
  const target = localActorOf(ctx, follow.objectId);
  if (!target) return;
  const follower = await senderOf(ctx, follow);
  if (!follower) return;
  const marker = await readPayload(follow, false);
  if (marker?.oversight === true && target.username === ctx.data.config.handle) {
    if (await receiveOversight(ctx.data, follower, follow.id.href)) await afterParentLinked(ctx.data);
    return;
  }
  // Joining a thematic group: its membership policy answers.
  const group = localGroupOfActor(ctx.data.db, target.id);
  if (group) return receiveGroupFollow(ctx.data, follower, group, target, follow.id.href);
  await receiveFollow(ctx.data, follower, target, follow.id.href);
}
