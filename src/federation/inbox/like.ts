// Like: a remote actor favourites one of our posts.
import type { InboxContext } from "@fedify/fedify";
import type { Like } from "@fedify/vocab";
import { sql, eq } from "drizzle-orm";
import type { Services } from "../../services.ts";
import { newId } from "../../storage/ids.ts";
import { likes, posts } from "../../storage/schema.ts";
import { findPostByUri } from "../../posts/posts.ts";
import { canSee } from "../../posts/visibility.ts";
import { senderOf } from "./common.ts";
import { notify } from "../../notifications/notifications.ts";

export async function onLike(ctx: InboxContext<Services>, like: Like): Promise<void> {
  const { db } = ctx.data;
  if (!like.id || !like.objectId) return;
  const post = findPostByUri(db, like.objectId.href);
  if (!post) return;
  const actor = await senderOf(ctx, like);
  // Liking a post one cannot read would reveal that it exists: ignore.
  if (!actor || !canSee(db, { kind: "remote", actorId: actor.id }, post)) return;
  const inserted = db
    .insert(likes)
    .values({ id: newId(), actorId: actor.id, postId: post.id, uri: like.id.href })
    .onConflictDoNothing()
    .returning()
    .get();
  if (!inserted) return;
  db.update(posts).set({ favouritesCount: sql`${posts.favouritesCount} + 1` }).where(eq(posts.id, post.id)).run();
  notify(ctx.data, { recipientActorId: post.actorId, type: "favourite", fromActorId: actor.id, postId: post.id });
}
