// Undo: a remote actor takes back a Follow, a Like or an Announce of its own.
import type { InboxContext } from "@fedify/fedify";
import { Announce, Follow, Like, type Undo } from "@fedify/vocab";
import { and, eq, sql } from "drizzle-orm";
import type { Services } from "../../services.ts";
import type { Db } from "../../storage/db.ts";
import { actors, follows, likes, posts } from "../../storage/schema.ts";
import { findPost, findPostByUri, removePost, type PostRow } from "../../posts/posts.ts";
import { groupPostReacted } from "../group-relays.ts";
import { afterGroupUnannounce } from "./group.ts";
import { removeLike } from "./like.ts";

export async function onUndo(ctx: InboxContext<Services>, undo: Undo): Promise<void> {
  const { db } = ctx.data;
  if (!undo.actorId) return;
  const actor = db.select().from(actors).where(eq(actors.uri, undo.actorId.href)).get();
  if (!actor) return;
  const object = await undo.getObject();
  // Each branch also matches the actor: nobody can undo someone else's activity.
  if (object instanceof Follow) {
    const target = object.objectId ? db.select().from(actors).where(eq(actors.uri, object.objectId.href)).get() : undefined;
    if (target) db.delete(follows).where(and(eq(follows.followerId, actor.id), eq(follows.followingId, target.id))).run();
  } else if (object instanceof Like) {
    const post = object.id ? removeLike(db, actor.id, object.id.href) : undefined;
    // A like our groups relayed: its undo is relayed too.
    if (post) await groupPostReacted(ctx.data, post, actor, undo, true);
  } else if (object instanceof Announce) {
    const reblog = object.id ? findPostByUri(db, object.id.href) : undefined;
    if (reblog && reblog.actorId === actor.id && reblog.reblogOfId) removePost(ctx.data, reblog);
    // A group's moderators took the post out of the group (members-only groups have no boost row).
    if (object.objectId) afterGroupUnannounce(ctx, actor, object.objectId.href);
  }
}
