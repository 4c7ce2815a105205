// A member's own marks on posts: bookmarks (private) and pins (shown on their profile).
import { and, count, eq } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Db } from "../storage/db.ts";
import { bookmarks, pins } from "../storage/schema.ts";
import type { User } from "../members/members.ts";
import { findPost, getVisiblePost, viewerOf, type PostRow } from "./posts.ts";

export const MAX_PINS = 5;

export function bookmark(db: Db, user: User, id: number): PostRow {
  const post = getVisiblePost(db, viewerOf(user), id);
  db.insert(bookmarks).values({ userId: user.id, postId: post.id, createdAt: Date.now() }).onConflictDoNothing().run();
  return post;
}

export function unbookmark(db: Db, user: User, id: number): PostRow {
  const post = getVisiblePost(db, viewerOf(user), id);
  db.delete(bookmarks).where(and(eq(bookmarks.userId, user.id), eq(bookmarks.postId, post.id))).run();
  return post;
}

/** Pins one's own post; direct messages cannot be pinned, as on Mastodon. */
export function pin(db: Db, user: User, id: number): PostRow {
  const post = findPost(db, id);
  if (!post || post.actorId !== user.actorId || post.reblogOfId) throw new UserError("post_not_found", 404);
  if (post.visibility === "direct") throw new UserError("pin_direct", 422);
  const pinned = db.select({ n: count() }).from(pins).where(eq(pins.actorId, user.actorId)).get()?.n ?? 0;
  if (pinned >= MAX_PINS) throw new UserError("pin_limit", 422, { max: MAX_PINS });
  db.insert(pins).values({ actorId: user.actorId, postId: post.id, createdAt: Date.now() }).onConflictDoNothing().run();
  return post;
}

export function unpin(db: Db, user: User, id: number): PostRow {
  const post = findPost(db, id);
  if (!post || post.actorId !== user.actorId) throw new UserError("post_not_found", 404);
  db.delete(pins).where(and(eq(pins.actorId, user.actorId), eq(pins.postId, post.id))).run();
  return post;
}
