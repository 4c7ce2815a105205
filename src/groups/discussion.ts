// A group's discussion: which posts belong to it, who may post, and the
// threads (a topic with a title, and its replies). A post joins a group when
// it addresses (mentions) the group's actor or replies inside one of its
// threads; a local group then checks the author and relays the post to every
// member's server (through the outbox: federation/send-groups.ts).
import { and, desc, eq, inArray, isNotNull, isNull, sql, type SQL } from "drizzle-orm";
import type { Services } from "../services.ts";
import type { NewPoll } from "../polls/polls.ts";
import type { Db } from "../storage/db.ts";
import { actors, groupPosts, groups, hiddenPosts, posts } from "../storage/schema.ts";
import type { ActorRow } from "../federation/actors.ts";
import { createLocalPost, type PostRow } from "../posts/posts.ts";
import type { User } from "../members/members.ts";
import { UserError } from "../errors.ts";
import { findFollow } from "../social/follows.ts";
import { visibleTo, type Viewer } from "../posts/visibility.ts";
import { groupActor, isBanned, isMember, roleOf, touchGroup, type GroupRow } from "./groups.ts";
import { record } from "../outbox/outbox.ts";
import { proposalJoined } from "./proposals.ts";

export const MAX_TITLE_LENGTH = 200;

export function cleanTitle(title: unknown): string | null {
  const text = typeof title === "string" ? title.replace(/\s+/g, " ").trim().slice(0, MAX_TITLE_LENGTH) : "";
  return text || null;
}

/** Groups (local or remote) among a set of actors, e.g. those a post mentions. */
export function groupsAmong(db: Db, actorIds: number[]): GroupRow[] {
  if (actorIds.length === 0) return [];
  return db
    .select()
    .from(groups)
    .where(and(inArray(groups.actorId, actorIds), eq(groups.state, "active")))
    .all();
}

export interface GroupLink {
  group: GroupRow;
  title: string | null;
  rootId: number;
}

/** The groups a post belongs to. */
export function groupsOfPost(db: Db, postId: number): GroupLink[] {
  return db
    .select({ group: groups, title: groupPosts.title, rootId: groupPosts.rootId })
    .from(groupPosts)
    .innerJoin(groups, eq(groups.id, groupPosts.groupId))
    .where(eq(groupPosts.postId, postId))
    .all();
}

/** The thread title of a post, if it opens a group's topic (sent as the Note's `name`). */
export function titleOfPost(db: Db, postId: number): string | null {
  return db.select({ title: groupPosts.title }).from(groupPosts).where(eq(groupPosts.postId, postId)).get()?.title ?? null;
}

/**
 * For a member's new post: the group it goes to, if any. A reply inside a
 * group's thread stays in that group even if the group is not mentioned.
 */
export function groupOfNewPost(db: Db, mentionIds: number[], parent: PostRow | undefined): GroupRow | undefined {
  const mentioned = groupsAmong(db, mentionIds)[0];
  if (mentioned) return mentioned;
  return parent ? groupsOfPost(db, parent.id)[0]?.group : undefined;
}

/**
 * Records that a post belongs to a group's discussion; false if it already did.
 * A reply joins the thread of the post it answers if that post is in the group
 * (known by id, or by URI when it came after the reply); replies that reached
 * us before the post they answer, taken as threads of their own then, join its
 * thread now: deliveries from the group's server are not ordered.
 */
export function recordGroupPost(db: Db, group: GroupRow, post: PostRow, title: string | null): boolean {
  const parentId = post.inReplyToId ?? (post.inReplyToUri ? db.select({ id: posts.id }).from(posts).where(eq(posts.uri, post.inReplyToUri)).get()?.id : undefined);
  const parentLink = parentId
    ? db.select({ rootId: groupPosts.rootId }).from(groupPosts).where(and(eq(groupPosts.groupId, group.id), eq(groupPosts.postId, parentId))).get()
    : undefined;
  const rootId = parentLink?.rootId ?? post.id;
  const inserted = db.transaction((tx) => {
    const row = tx
      .insert(groupPosts)
      .values({ groupId: group.id, postId: post.id, title: parentLink ? null : title, rootId })
      .onConflictDoNothing()
      .returning()
      .get();
    if (row) adoptEarlyReplies(tx, group, post, rootId);
    return row;
  });
  if (inserted) touchGroup(db, group);
  return !!inserted;
}

/** Threads of their own (no title) that are replies to `post`: they and their replies move into its thread. */
function adoptEarlyReplies(db: Db, group: GroupRow, post: PostRow, rootId: number): void {
  const early = db
    .select({ postId: groupPosts.postId })
    .from(groupPosts)
    .where(
      and(
        eq(groupPosts.groupId, group.id),
        sql`${groupPosts.postId} in (select ${posts.id} from ${posts} where ${posts.inReplyToId} = ${post.id}
          union all select ${posts.id} from ${posts} where ${posts.inReplyToId} is null and ${posts.inReplyToUri} is not null and ${posts.inReplyToUri} = ${post.uri})`,
        sql`${groupPosts.rootId} = ${groupPosts.postId}`,
        isNull(groupPosts.title),
      ),
    )
    .all();
  for (const { postId } of early) {
    db.update(groupPosts).set({ rootId }).where(and(eq(groupPosts.groupId, group.id), eq(groupPosts.rootId, postId))).run();
  }
}

/**
 * Takes a post out of a group's discussion; a thread's first post takes its
 * replies with it. Returns the ids of the posts taken out.
 */
export function unrecordGroupPost(db: Db, group: GroupRow, postId: number): number[] {
  return db.transaction((tx) => {
    const ids = tx
      .delete(groupPosts)
      .where(and(eq(groupPosts.groupId, group.id), sql`(${groupPosts.postId} = ${postId} or ${groupPosts.rootId} = ${postId})`))
      .returning({ postId: groupPosts.postId })
      .all()
      .map((r) => r.postId);
    if (ids.length) tx.delete(hiddenPosts).where(and(eq(hiddenPosts.groupId, group.id), inArray(hiddenPosts.postId, ids))).run();
    return ids;
  });
}

/** Posts a moderator hid in the group's discussion are left out of its pages, outbox and API. */
function notHidden(group: GroupRow): SQL {
  return sql`not exists (select 1 from ${hiddenPosts} where ${hiddenPosts.groupId} = ${group.id} and ${hiddenPosts.postId} = ${posts.id})`;
}

export type Refusal = "not_member" | "banned" | "not_public" | "section";

/** Whether a local group takes this post into its discussion. */
export function refusalOf(db: Db, group: GroupRow, post: PostRow, author: ActorRow): Refusal | null {
  if (post.visibility === "section" || post.eventId != null || post.reblogOfId) return "section";
  if (isBanned(db, group, author)) return "banned";
  if (!isMember(db, group, author.id) && !roleOf(db, group, author.id)) return "not_member";
  // A public group relays by boosting: only posts anyone may read can be boosted.
  if (group.visibility === "public" && post.visibility !== "public" && post.visibility !== "unlisted") return "not_public";
  return null;
}

/**
 * A post addressed to groups: local groups check the author and take it into
 * their discussion, and the outbox has them relay it; remote groups are only
 * noted here (their own server decides and relays). `received` is the
 * author's activity as it came in, as JSON-LD (relayed as is). Pass the
 * transaction that stores the post as `db`, so the relay is never lost.
 */
export function postAddressedToGroups(
  services: Services,
  post: PostRow,
  author: ActorRow,
  targets: GroupRow[],
  options: { title?: string | null; received?: unknown } = {},
  db: Db = services.db,
): void {
  for (const group of targets) {
    if (!group.local) {
      recordGroupPost(db, group, post, cleanTitle(options.title));
      continue;
    }
    const refusal = refusalOf(db, group, post, author);
    if (refusal) {
      services.log.info({ group: group.slug, post: post.uri, refusal }, "group: post not taken");
      continue;
    }
    db.transaction((tx) => {
      if (!recordGroupPost(tx, group, post, cleanTitle(options.title))) return;
      record(tx, { kind: "group.post.accepted", groupId: group.id, postId: post.id, received: options.received });
      proposalJoined(tx, group, post);
    });
  }
}

/** Whether a moderator hid the post in the group (its edits are not relayed). */
export function isHidden(db: Db, group: GroupRow, postId: number): boolean {
  return !!db.select({ id: hiddenPosts.postId }).from(hiddenPosts).where(and(eq(hiddenPosts.groupId, group.id), eq(hiddenPosts.postId, postId))).get();
}

/**
 * A member starts a thread in a group (a title and a text) or replies in one
 * (the web page and the API). Returns the post and the thread it is in.
 */
export async function postInGroup(services: Services, user: User, group: GroupRow, input: { text: string; title?: string | null; inReplyToId?: number | null; proposal?: { amendsId: number | null }; poll?: NewPoll }): Promise<{ post: PostRow; rootId: number }> {
  const { db } = services;
  const actor = groupActor(db, group);
  if (!actor || group.state !== "active") throw new UserError("group_not_found", 404);
  if (!findFollow(db, user.actorId, actor.id)?.acceptedAt) throw new UserError("group_not_member", 403);
  const inReplyToId = input.inReplyToId ?? null;
  if (inReplyToId && !groupsOfPost(db, inReplyToId).some((l) => l.group.id === group.id)) throw new UserError("post_not_found", 404);
  const post = await createLocalPost(services, user, {
    text: input.text,
    // createLocalPost makes it direct in a members-only group.
    visibility: "public",
    groupActorId: actor.id,
    title: inReplyToId ? null : input.title,
    inReplyToId,
    proposal: input.proposal,
    poll: input.poll,
  });
  return { post, rootId: groupsOfPost(db, post.id).find((l) => l.group.id === group.id)?.rootId ?? post.id };
}

export interface Thread {
  root: PostRow;
  title: string | null;
  replies: number;
  lastAt: number;
}

/** How many threads a group's page and the API show at once. */
export const THREADS_PAGE = 50;

/**
 * A group's threads the viewer may read, most recently active first, `limit`
 * at a time; `maxId` (a thread's first post) continues a list after that
 * thread: the threads less recently active than it is now. Replies counts and
 * last activity are kept per thread on its first post's group_posts row (the
 * triggers of migration 0016: hidden replies left out), so a page reads
 * `limit` rows from the index group_posts_threads whatever the group's size.
 */
export function groupThreads(db: Db, viewer: Viewer, group: GroupRow, limit = THREADS_PAGE, options: { withHidden?: boolean; maxId?: number | null } = {}): Thread[] {
  const shown = options.withHidden ? undefined : notHidden(group);
  const after = options.maxId != null ? threadCursor(db, group, options.maxId) : undefined;
  // A thread the list cannot continue after (unknown, or not in this group): nothing further.
  if (after === null) return [];
  const rows = db
    .select({ root: posts, title: groupPosts.title, replies: groupPosts.repliesCount, lastAt: groupPosts.lastActivityAt })
    .from(groupPosts)
    .innerJoin(posts, eq(posts.id, groupPosts.postId))
    .where(
      and(
        eq(groupPosts.groupId, group.id),
        isNotNull(groupPosts.lastActivityAt),
        after ? sql`(${groupPosts.lastActivityAt}, ${groupPosts.postId}) < (${after.lastAt}, ${after.rootId})` : undefined,
        visibleTo(viewer),
        shown,
      ),
    )
    .orderBy(desc(groupPosts.lastActivityAt), desc(groupPosts.postId))
    .limit(limit)
    .all();
  return rows.map((r) => ({ root: r.root, title: r.title, replies: r.replies, lastAt: r.lastAt ?? r.root.publishedAt }));
}

/** Where a list of threads continues after the thread `rootId`: its last activity now. */
function threadCursor(db: Db, group: GroupRow, rootId: number): { lastAt: number; rootId: number } | null {
  const row = db
    .select({ lastAt: groupPosts.lastActivityAt })
    .from(groupPosts)
    .where(and(eq(groupPosts.groupId, group.id), eq(groupPosts.postId, rootId), eq(groupPosts.rootId, rootId)))
    .get();
  return row?.lastAt != null ? { lastAt: row.lastAt, rootId } : null;
}

/** One thread: its first post, then the replies the viewer may read, oldest first (moderators see hidden posts too). */
export function groupThread(db: Db, viewer: Viewer, group: GroupRow, rootId: number, options: { withHidden?: boolean } = {}): { root: PostRow; title: string | null; replies: PostRow[] } | null {
  const shown = options.withHidden ? undefined : notHidden(group);
  const head = db
    .select({ root: posts, title: groupPosts.title })
    .from(groupPosts)
    .innerJoin(posts, eq(posts.id, groupPosts.postId))
    .where(and(eq(groupPosts.groupId, group.id), eq(groupPosts.postId, rootId), eq(groupPosts.rootId, rootId), visibleTo(viewer), shown))
    .get();
  if (!head) return null;
  const replies = db
    .select({ post: posts })
    .from(groupPosts)
    .innerJoin(posts, eq(posts.id, groupPosts.postId))
    .where(and(eq(groupPosts.groupId, group.id), eq(groupPosts.rootId, rootId), sql`${groupPosts.postId} <> ${rootId}`, visibleTo(viewer), shown))
    .orderBy(posts.id)
    .all()
    .map((r) => r.post);
  return { root: head.root, title: head.title, replies };
}

/** Public groups' posts, newest first, for the group's outbox (members-only groups publish nothing). */
export function publicGroupPosts(db: Db, group: GroupRow, before: number | null, limit: number): PostRow[] {
  if (group.visibility !== "public") return [];
  return db
    .select({ post: posts })
    .from(groupPosts)
    .innerJoin(posts, eq(posts.id, groupPosts.postId))
    .where(and(eq(groupPosts.groupId, group.id), eq(posts.visibility, "public"), notHidden(group), before ? sql`${posts.id} < ${before}` : undefined))
    .orderBy(desc(posts.id))
    .limit(limit)
    .all()
    .map((r) => r.post);
}

export function authorOf(db: Db, post: PostRow): ActorRow | undefined {
  return db.select().from(actors).where(eq(actors.id, post.actorId)).get();
}
