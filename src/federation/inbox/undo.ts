// Undo: a remote actor takes back a Follow, a Like or an Announce of its own.
import type { InboxContext } from "@fedify/fedify";
import { Announce, Follow, Like, type Undo } from "@fedify/vocab";
import { and, eq, sql } from "drizzle-orm";
import type { Services } from "../../services.ts";
import { actors, follows, likes, posts } from "../../storage/schema.ts";
import { findPostByUri, removePost } from "../../posts/posts.ts";
import { afterGroupUnannounce } from "./group.ts";

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
    const like = object.id
      ? db.delete(likes).where(and(eq(likes.uri, object.id.href), eq(likes.actorId, actor.id))).returning().get()
      : undefined;
    if (like) db.update(posts).set({ favouritesCount: sql`max(${posts.favouritesCount} - 1, 0)` }).where(eq(posts.id, like.postId)).run();
  } else if (object instanceof Announce) {
    const reblog = object.id ? findPostByUri(db, object.id.href) : undefined;
    if (reblog && reblog.actorId === actor.id && reblog.reblogOfId) removePost(ctx.data, reblog);
    // A group's moderators took the post out of the group (members-only groups have no boost row).
    if (object.objectId) afterGroupUnannounce(ctx, actor, object.objectId.href);
  }
}
