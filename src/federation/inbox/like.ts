// Like: a remote actor favourites one of our posts (or a post of one of our
// groups, which the group then relays to its members' servers); also a like
// relayed by a remote group (inbox/group.ts calls storeLike).
import type { InboxContext } from "@fedify/fedify";
import type { Like } from "@fedify/vocab";
import { and, sql, eq } from "drizzle-orm";
import type { Services } from "../../services.ts";
import type { Db } from "../../storage/db.ts";
import { newId } from "../../storage/ids.ts";
import { likes, posts } from "../../storage/schema.ts";
import { findPost, findPostByUri, type PostRow } from "../../posts/posts.ts";
import { remoteMayRead } from "../party-audience.ts";
import type { ActorRow } from "../actors.ts";
import { senderOf } from "./common.ts";
import { notify } from "../../notifications/notifications.ts";
import { groupPostReacted } from "../group-relays.ts";

/** Counts a like once (per actor and post); false if it was already counted. */
export function storeLike(services: Services, actor: ActorRow, post: PostRow, uri: string): boolean {
  const { db } = services;
  const inserted = db.insert(likes).values({ id: newId(), actorId: actor.id, postId: post.id, uri }).onConflictDoNothing().returning().get();
  if (!inserted) return false;
  db.update(posts).set({ favouritesCount: sql`${posts.favouritesCount} + 1` }).where(eq(posts.id, post.id)).run();
  notify(services, { recipientActorId: post.actorId, type: "favourite", fromActorId: actor.id, postId: post.id });
  return true;
}

/** Takes back an actor's own like (by the Like's id); the post it was on, if there was one. */
export function removeLike(db: Db, actorId: number, likeUri: string): PostRow | undefined {
  const like = db.delete(likes).where(and(eq(likes.uri, likeUri), eq(likes.actorId, actorId))).returning().get();
  if (!like) return undefined;
  db.update(posts).set({ favouritesCount: sql`max(${posts.favouritesCount} - 1, 0)` }).where(eq(posts.id, like.postId)).run();
  return findPost(db, like.postId);
}

export async function onLike(ctx: InboxContext<Services>, like: Like): Promise<void> {
  const { db } = ctx.data;
  if (!like.id || !like.objectId) return;
  const post = findPostByUri(db, like.objectId.href);
  if (!post) return;
  const actor = await senderOf(ctx, like);
  // Liking a post one cannot read would reveal that it exists: ignore.
  if (!actor || !remoteMayRead(ctx.data, actor, post)) return;
  if (!storeLike(ctx.data, actor, post, like.id.href)) return;
  // A post of one of our groups: the group relays a member's like to the other members' servers.
  await groupPostReacted(ctx.data, post, actor, like);
}
