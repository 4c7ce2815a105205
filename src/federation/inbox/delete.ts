// Delete: a post (or a whole account) is gone from its server.
import type { InboxContext } from "@fedify/fedify";
import type { Delete } from "@fedify/vocab";
import { eq, or } from "drizzle-orm";
import type { Services } from "../../services.ts";
import { actors, follows, posts } from "../../storage/schema.ts";
import { findPostByUri, removePost } from "../../posts/posts.ts";
import { localGroupLinks, onGroupPostChanged } from "./group.ts";

export async function onDelete(ctx: InboxContext<Services>, del: Delete): Promise<void> {
  const { db } = ctx.data;
  const objectId = del.objectId;
  if (!objectId || !del.actorId || objectId.origin !== del.actorId.origin) return;
  const actor = db.select().from(actors).where(eq(actors.uri, del.actorId.href)).get();
  if (!actor || actor.local) return;
  if (objectId.href === actor.uri) {
    // The account itself is deleted: drop its posts and follow relations.
    db.transaction((tx) => {
      tx.delete(posts).where(eq(posts.actorId, actor.id)).run();
      tx.delete(follows).where(or(eq(follows.followerId, actor.id), eq(follows.followingId, actor.id))).run();
    });
    return;
  }
  const post = findPostByUri(db, objectId.href);
  if (!post || post.actorId !== actor.id) return;
  const inGroups = localGroupLinks(ctx, post);
  removePost(ctx.data, post);
  await onGroupPostChanged(ctx, inGroups, post, actor, del);
}
