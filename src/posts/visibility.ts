// Who may read a post. This file is the single place where the rule lives:
// the SQL filter used by every listing and the check used for single posts
// are built side by side so they cannot drift apart.
//
// Party membership is political opinion (special-category data under the
// GDPR): a section-only post is readable by this instance's card-holding
// members only, and never leaves the instance.
import { and, eq, inArray, isNotNull, or, sql, type SQL } from "drizzle-orm";
import { isCardHolder } from "../members/members.ts";
import type { Db } from "../storage/db.ts";
import { follows, groups, mentions, posts, type Role, type Visibility } from "../storage/schema.ts";

/** Who is looking: nobody, a local account, or a remote actor that signed its request. */
export type Viewer =
  | { kind: "anonymous" }
  | { kind: "local"; actorId: number; role: Role }
  | { kind: "remote"; actorId: number };

export const ANONYMOUS: Viewer = { kind: "anonymous" };

type PostAudience = { id: number; actorId: number; visibility: Visibility; sympathisants: boolean };

export function canSee(db: Db, viewer: Viewer, post: PostAudience): boolean {
  if (post.visibility === "public" || post.visibility === "unlisted") return true;
  if (viewer.kind === "anonymous") return false;
  if (viewer.actorId === post.actorId) return true;
  switch (post.visibility) {
    case "section":
      return readsSection(viewer, post.sympathisants);
    // The party's audiences: card-holders here (sympathisants never); a
    // remote actor never reads one through this rule (federation.ts decides fetches).
    case "federation":
    case "party":
      return readsSection(viewer);
    case "private":
      return isFollower(db, viewer.actorId, post.actorId) || isMentioned(db, viewer.actorId, post.id);
    case "direct":
      return isMentioned(db, viewer.actorId, post.id) || inAddressedGroup(db, viewer.actorId, post.id);
  }
}

/** Section-only things (posts, events): the instance's card-holders, and sympathisants where allowed. */
export function readsSection(viewer: Viewer, sympathisants = false): boolean {
  return viewer.kind === "local" && (isCardHolder(viewer.role) || sympathisants);
}

/** The same rule as canSee, as a WHERE clause over `posts`. */
export function visibleTo(viewer: Viewer): SQL {
  const open = inArray(posts.visibility, ["public", "unlisted"]);
  if (viewer.kind === "anonymous") return open;
  const me = viewer.actorId;
  const clauses: SQL[] = [
    open,
    eq(posts.actorId, me),
    and(
      eq(posts.visibility, "private"),
      sql`exists (select 1 from ${follows} where ${follows.followerId} = ${me} and ${follows.followingId} = ${posts.actorId} and ${follows.acceptedAt} is not null)`,
    )!,
    and(
      inArray(posts.visibility, ["private", "direct"]),
      sql`exists (select 1 from ${mentions} where ${mentions.postId} = ${posts.id} and ${mentions.actorId} = ${me})`,
    )!,
    and(eq(posts.visibility, "direct"), sql`exists (${addressedGroupOf(me, sql`${posts.id}`)})`)!,
  ];
  if (viewer.kind === "local") {
    clauses.push(
      isCardHolder(viewer.role)
        ? inArray(posts.visibility, ["section", "federation", "party"])
        : and(eq(posts.visibility, "section"), eq(posts.sympathisants, true))!,
    );
  }
  return or(...clauses)!;
}

function isFollower(db: Db, followerId: number, followingId: number): boolean {
  return !!db
    .select({ id: follows.id })
    .from(follows)
    .where(and(eq(follows.followerId, followerId), eq(follows.followingId, followingId), isNotNull(follows.acceptedAt)))
    .get();
}

/**
 * A direct post addressed to a thematic group (a members-only group's post)
 * is readable by the group's members: the accepted followers of its actor.
 */
function addressedGroupOf(me: number, postId: SQL) {
  return sql`select 1 from ${mentions}
    join ${groups} on ${groups.actorId} = ${mentions.actorId}
    join ${follows} on ${follows.followingId} = ${mentions.actorId} and ${follows.followerId} = ${me} and ${follows.acceptedAt} is not null
    where ${mentions.postId} = ${postId}`;
}

function inAddressedGroup(db: Db, actorId: number, postId: number): boolean {
  return !!db.get(sql`${addressedGroupOf(actorId, sql`${postId}`)} limit 1`);
}

function isMentioned(db: Db, actorId: number, postId: number): boolean {
  return !!db
    .select({ postId: mentions.postId })
    .from(mentions)
    .where(and(eq(mentions.postId, postId), eq(mentions.actorId, actorId)))
    .get();
}

/**
 * Replies that count in a post's public reply counter: a counter that anyone
 * can read must not reveal that hidden (followers-only, direct, section) replies exist.
 */
export function countsAsReply(post: { visibility: Visibility }): boolean {
  return post.visibility === "public" || post.visibility === "unlisted";
}

/** Posts that may travel to other servers at all. */
export function isFederated(post: { visibility: Visibility; eventId: number | null }): boolean {
  return post.visibility !== "section" && post.eventId == null;
}
