// Posts: writing, deleting, liking and boosting, and the timelines that list
// them. Each change records what happened in the outbox (outbox/outbox.ts),
// in its own transaction; federation/outbox-worker.ts tells other servers.
import { and, desc, eq, gt, inArray, isNull, lt, sql, type SQL } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { actorFilters, actors, follows, likes, media, mentions, posts, postTags, timelineEntries, users, type Visibility, VISIBILITIES } from "../storage/schema.ts";
import { actorOf, isCardHolder, type User } from "../members/members.ts";
import { formatText, parseText, tagUrl } from "./content.ts";
import { canSee, countsAsReply, visibleTo, type Viewer } from "./visibility.ts";
import { availableAudiences, isPartyAudience, PARTY_AUDIENCES } from "../party/audiences.ts";
import { record } from "../outbox/outbox.ts";
import { notify, notifyMentions } from "../notifications/notifications.ts";
import { attach, attachmentsOf, checkAttachable } from "../media/media.ts";
import { checkPoll, insertPoll, replacePoll, type NewPoll } from "../polls/polls.ts";
import { groupOfNewPost, groupsAmong, groupsOfPost, postAddressedToGroups } from "../groups/discussion.ts";
import { insertProposal } from "../groups/proposals.ts";

export type PostRow = typeof posts.$inferSelect;
export const MAX_POST_LENGTH = 5000;

export function viewerOf(user: User | null | undefined): Viewer {
  return user ? { kind: "local", actorId: user.actorId, role: user.role } : { kind: "anonymous" };
}

export interface NewPost {
  text: string;
  visibility: Visibility;
  /** Section posts only: sympathisants may read it too. */
  sympathisants?: boolean;
  summary?: string;
  sensitive?: boolean;
  language?: string | null;
  inReplyToId?: number | null;
  /** Uploaded images (media ids of the author's), in order. */
  mediaIds?: number[];
  /** The event this post shows in Mastodon apps (never federated). */
  eventId?: number | null;
  poll?: NewPoll | null;
  /** A post to a thematic group from its page: the group's actor (added to the mentions). */
  groupActorId?: number | null;
  /** A group thread's topic (the Note's `name`). */
  title?: string | null;
  /** The post is a proposal (or an amendment) of the group it goes to (groups/proposals.ts). */
  proposal?: { amendsId: number | null } | null;
}

export async function createLocalPost(services: Services, user: User, input: NewPost): Promise<PostRow> {
  const { db, config } = services;
  const text = input.text.trim();
  const mediaIds = input.mediaIds ?? [];
  if (!text && mediaIds.length === 0) throw new UserError("post_empty");
  if (text.length > MAX_POST_LENGTH) throw new UserError("post_too_long", 422, { max: MAX_POST_LENGTH });
  if (!VISIBILITIES.includes(input.visibility)) throw new UserError("visibility_invalid", 422);
  const author = actorOf(db, user);
  checkAttachable(db, author.id, mediaIds);
  // As on Mastodon, a post carries images or a poll, not both.
  if (input.poll && mediaIds.length) throw new UserError("poll_with_media", 422);
  const poll = input.poll ? checkPoll(input.poll) : null;
  const viewer = viewerOf(user);

  let parent: PostRow | undefined;
  if (input.inReplyToId != null) {
    parent = db.select().from(posts).where(eq(posts.id, input.inReplyToId)).get();
    if (!parent || !canSee(db, viewer, parent)) throw new UserError("post_not_found", 404);
  }
  // A reply never widens the audience of a section, fédération or party thread, nor narrows it.
  const closed = parent && (parent.visibility === "section" || isPartyAudience(parent.visibility)) ? parent : undefined;
  let visibility = closed ? closed.visibility : input.visibility;
  const sympathisants = parent?.visibility === "section" ? parent.sympathisants : !!input.sympathisants;
  // Sympathisants cannot read the section's own posts, so they cannot start one either.
  if ((visibility === "section" || isPartyAudience(visibility)) && !parent && !isCardHolder(user.role)) throw new UserError("visibility_forbidden", 403);
  if (isPartyAudience(visibility) && !availableAudiences(services).includes(visibility)) throw new UserError("visibility.audience_unavailable", 422);

  const { html, mentionIds, tags } = await renderSource(services, text);
  // A post to a thematic group (mentioned, or a reply in one of its threads)
  // is addressed to the group's actor; a members-only group's posts are never public.
  if (input.groupActorId && !mentionIds.includes(input.groupActorId)) mentionIds.push(input.groupActorId);
  const group = groupOfNewPost(db, mentionIds, parent);
  if (group?.actorId && !mentionIds.includes(group.actorId)) mentionIds.push(group.actorId);
  if (group?.visibility === "members" && visibility !== "section") visibility = "direct";
  // A thematic group relays its posts to its members, who are not the fédération or the party.
  if (group && isPartyAudience(visibility)) throw new UserError("visibility_forbidden", 422);
  const id = newId();
  const post = db.transaction((tx) => {
    const row = tx
      .insert(posts)
      .values({
        id,
        uri: `${config.origin}/users/${author.username}/posts/${id}`,
        url: `${config.origin}/@${author.username}/${id}`,
        actorId: author.id,
        inReplyToId: parent?.id ?? null,
        inReplyToUri: parent?.uri ?? null,
        content: html,
        source: text,
        summary: input.summary?.trim() ?? "",
        sensitive: input.sensitive ?? !!input.summary?.trim(),
        language: input.language ?? null,
        visibility,
        sympathisants: visibility === "section" && sympathisants,
        eventId: input.eventId ?? null,
        publishedAt: Date.now(),
      })
      .returning()
      .get();
    replaceLinks(tx, id, mentionIds, tags);
    attach(tx, id, mediaIds);
    if (poll) insertPoll(tx, id, poll);
    // Before anything goes out: the Note then carries the proposal marker.
    if (input.proposal && group) insertProposal(tx, { postId: id, groupId: group.id, amendsId: input.proposal.amendsId });
    if (parent && countsAsReply(row)) tx.update(posts).set({ repliesCount: sql`${posts.repliesCount} + 1` }).where(eq(posts.id, parent.id)).run();
    fanOut(tx, row);
    record(tx, { kind: "post.created", postId: id });
    // In the same transaction: the group's thread title travels in the Note, and its relay is never lost.
    if (group) postAddressedToGroups(services, row, author, groupsAmong(tx, mentionIds), { title: input.title }, tx);
    return row;
  });
  notifyMentions(services, post, mentionIds);
  services.events.emit("post.created", post);
  return post;
}

/**
 * Turns what a member typed into HTML, resolving mentions (local accounts, or
 * remote ones by WebFinger) and collecting hashtags.
 */
async function renderSource(services: Services, text: string): Promise<{ html: string; mentionIds: number[]; tags: string[] }> {
  const { db, config } = services;
  const parsed = parseText(text);
  const host = new URL(config.origin).host;
  const mentioned = new Map<string, { id: number; uri: string; url: string | null }>();
  for (const ref of parsed.mentions) {
    const row = ref.domain === null || ref.domain === host
      ? db.select().from(actors).where(and(eq(actors.username, ref.username), eq(actors.local, true))).get()
      : await services.remote.lookup(`@${ref.username}@${ref.domain}`);
    if (row) mentioned.set(`${ref.username}@${ref.domain ?? ""}`, row);
  }
  const html = formatText(text, {
    mentionUrl: (ref) => {
      const row = mentioned.get(`${ref.username}@${ref.domain ?? ""}`);
      return row ? (row.url ?? row.uri) : null;
    },
    tagUrl: (tag) => tagUrl(config.origin, tag),
  });
  return { html, mentionIds: [...new Set([...mentioned.values()].map((m) => m.id))], tags: parsed.tags };
}

/** Mentions and hashtags of a post, replaced as a whole (new post, edit, remote update). */
export function replaceLinks(db: Db, postId: number, mentionIds: number[], tags: string[]): void {
  db.delete(mentions).where(eq(mentions.postId, postId)).run();
  db.delete(postTags).where(eq(postTags.postId, postId)).run();
  if (mentionIds.length) db.insert(mentions).values([...new Set(mentionIds)].map((actorId) => ({ postId, actorId }))).run();
  if (tags.length) db.insert(postTags).values([...new Set(tags)].map((tag) => ({ postId, tag }))).run();
}

/**
 * Edits a member's own post; followers' servers receive an Update. `poll`:
 * undefined keeps the poll as it is, null removes it, a poll replaces it.
 */
export async function editLocalPost(services: Services, user: User, id: number, input: { text: string; summary?: string; poll?: NewPoll | null }): Promise<PostRow> {
  const { db } = services;
  const author = actorOf(db, user);
  const post = findPost(db, id);
  if (!post || post.actorId !== author.id || post.reblogOfId) throw new UserError("post_not_found", 404);
  const text = input.text.trim();
  if (!text) throw new UserError("post_empty");
  if (text.length > MAX_POST_LENGTH) throw new UserError("post_too_long", 422, { max: MAX_POST_LENGTH });
  const poll = input.poll ? checkPoll(input.poll) : input.poll;
  if (poll && attachmentsOf(db, [id]).get(id)?.length) throw new UserError("poll_with_media", 422);
  const { html, mentionIds, tags } = await renderSource(services, text);
  const updated = db.transaction((tx) => {
    const row = tx
      .update(posts)
      .set({ content: html, source: text, summary: input.summary?.trim() ?? post.summary, editedAt: Date.now() })
      .where(eq(posts.id, id))
      .returning()
      .get();
    replaceLinks(tx, id, mentionIds, tags);
    if (poll !== undefined) replacePoll(tx, id, poll);
    record(tx, { kind: "post.updated", postId: id });
    return row;
  });
  services.events.emit("post.updated", updated);
  return updated;
}

/**
 * Adds a post to the home timeline of every local account that should see it
 * there: its author, local followers of its author, local accounts it mentions.
 */
export function fanOut(db: Db, post: PostRow): void {
  const audience = post.visibility === "direct" ? sql`0` : sql`1`;
  db.run(sql`
    insert or ignore into ${timelineEntries} (user_id, post_id)
    select ${users.id}, ${post.id} from ${users} where ${users.actorId} = ${post.actorId}
    union
    select ${users.id}, ${post.id} from ${follows}
      join ${users} on ${users.actorId} = ${follows.followerId}
      where ${follows.followingId} = ${post.actorId} and ${follows.acceptedAt} is not null and ${audience}
    union
    select ${users.id}, ${post.id} from ${mentions}
      join ${users} on ${users.actorId} = ${mentions.actorId}
      where ${mentions.postId} = ${post.id}`);
}

export function findPost(db: Db, id: number): PostRow | undefined {
  return db.select().from(posts).where(eq(posts.id, id)).get();
}

export function findPostByUri(db: Db, uri: string): PostRow | undefined {
  return db.select().from(posts).where(eq(posts.uri, uri)).get();
}

/** A post as the viewer may see it, or a 404 that does not tell whether it exists. */
export function getVisiblePost(db: Db, viewer: Viewer, id: number): PostRow {
  const post = findPost(db, id);
  if (!post || !canSee(db, viewer, post)) throw new UserError("post_not_found", 404);
  return post;
}

export async function deleteLocalPost(services: Services, user: User, id: number): Promise<void> {
  const { db } = services;
  const post = findPost(db, id);
  const author = actorOf(db, user);
  if (!post || post.actorId !== author.id) throw new UserError("post_not_found", 404);
  await deletePostOf(services, post, author);
}

/** Deletes a local post and tells every server that got it (the author, or a moderator of the instance). */
export async function deletePostOf(services: Services, post: PostRow, author: typeof actors.$inferSelect): Promise<void> {
  removePost(services, post, (tx) => {
    // What the Delete needs goes with the post: who it mentioned, the groups it was in.
    const mentionedIds = tx.select({ id: mentions.actorId }).from(mentions).where(eq(mentions.postId, post.id)).all().map((m) => m.id);
    const groupIds = groupsOfPost(tx, post.id).map((l) => l.group.id);
    record(tx, { kind: "post.deleted", post, mentionedIds, groupIds });
  });
}

/**
 * Deletes a post and its boosts, keeping reply counters right. `also` runs
 * first, in the same transaction (recording the deletion in the outbox).
 */
export function removePost(services: Services, post: PostRow, also?: (tx: Db) => void): void {
  services.db.transaction((tx) => {
    also?.(tx);
    tx.delete(posts).where(eq(posts.reblogOfId, post.id)).run();
    tx.delete(posts).where(eq(posts.id, post.id)).run();
    if (post.inReplyToId && countsAsReply(post)) {
      tx.update(posts).set({ repliesCount: sql`max(${posts.repliesCount} - 1, 0)` }).where(eq(posts.id, post.inReplyToId)).run();
    }
    if (post.reblogOfId) {
      tx.update(posts).set({ reblogsCount: sql`max(${posts.reblogsCount} - 1, 0)` }).where(eq(posts.id, post.reblogOfId)).run();
    }
  });
  services.events.emit("post.deleted", post);
}

export async function likePost(services: Services, user: User, id: number): Promise<PostRow> {
  const { db } = services;
  const post = getVisiblePost(db, viewerOf(user), id);
  const actor = actorOf(db, user);
  const likeId = newId();
  const inserted = db.transaction((tx) => {
    const row = tx
      .insert(likes)
      .values({ id: likeId, actorId: actor.id, postId: post.id, uri: `${actor.uri}#likes/${likeId}` })
      .onConflictDoNothing()
      .returning()
      .get();
    if (!row) return null;
    tx.update(posts).set({ favouritesCount: sql`${posts.favouritesCount} + 1` }).where(eq(posts.id, post.id)).run();
    record(tx, { kind: "post.liked", likeUri: row.uri, actorId: actor.id, postId: post.id });
    return row;
  });
  if (!inserted) return post;
  notify(services, { recipientActorId: post.actorId, type: "favourite", fromActorId: actor.id, postId: post.id });
  return findPost(db, id)!;
}

export async function unlikePost(services: Services, user: User, id: number): Promise<PostRow> {
  const { db } = services;
  const post = getVisiblePost(db, viewerOf(user), id);
  const actor = actorOf(db, user);
  const like = db.transaction((tx) => {
    const row = tx.delete(likes).where(and(eq(likes.actorId, actor.id), eq(likes.postId, post.id))).returning().get();
    if (!row) return null;
    tx.update(posts).set({ favouritesCount: sql`max(${posts.favouritesCount} - 1, 0)` }).where(eq(posts.id, post.id)).run();
    record(tx, { kind: "post.unliked", likeUri: row.uri, actorId: actor.id, postId: post.id });
    return row;
  });
  if (!like) return post;
  return findPost(db, id)!;
}

/** Boosts: only public and unlisted posts can be boosted, as on Mastodon. */
export async function reblogPost(services: Services, user: User, id: number): Promise<PostRow> {
  const { db, config } = services;
  const original = getVisiblePost(db, viewerOf(user), id);
  if (original.visibility !== "public" && original.visibility !== "unlisted") throw new UserError("reblog_forbidden", 422);
  const actor = actorOf(db, user);
  const existing = db.select().from(posts).where(and(eq(posts.actorId, actor.id), eq(posts.reblogOfId, original.id))).get();
  if (existing) return existing;
  const reblogId = newId();
  const reblog = db.transaction((tx) => {
    const row = tx
      .insert(posts)
      .values({
        id: reblogId,
        uri: `${config.origin}/users/${actor.username}/posts/${reblogId}/activity`,
        actorId: actor.id,
        reblogOfId: original.id,
        visibility: "public",
        publishedAt: Date.now(),
      })
      .returning()
      .get();
    tx.update(posts).set({ reblogsCount: sql`${posts.reblogsCount} + 1` }).where(eq(posts.id, original.id)).run();
    fanOut(tx, row);
    record(tx, { kind: "post.boosted", reblogId: row.id });
    return row;
  });
  notify(services, { recipientActorId: original.actorId, type: "reblog", fromActorId: actor.id, postId: original.id });
  services.events.emit("post.created", reblog);
  return reblog;
}

export async function unreblogPost(services: Services, user: User, id: number): Promise<void> {
  const { db } = services;
  const actor = actorOf(db, user);
  const reblog = db.select().from(posts).where(and(eq(posts.actorId, actor.id), eq(posts.reblogOfId, id))).get();
  if (!reblog) return;
  removePost(services, reblog, (tx) => record(tx, { kind: "post.unboosted", reblog }));
}

export interface Page {
  maxId?: number;
  sinceId?: number;
  minId?: number;
  limit?: number;
}

function pageClauses(page: Page, column: typeof posts.id | typeof timelineEntries.postId = posts.id): SQL[] {
  const clauses: SQL[] = [];
  if (page.maxId != null) clauses.push(lt(column, page.maxId));
  if (page.sinceId != null) clauses.push(gt(column, page.sinceId));
  if (page.minId != null) clauses.push(gt(column, page.minId));
  return clauses;
}

function pageLimit(page: Page): number {
  return Math.min(Math.max(page.limit ?? 20, 1), 40);
}

/** min_id pages run forward from the given id, then come back newest first. */
function ordered(rows: PostRow[], page: Page): PostRow[] {
  return page.minId != null ? rows.reverse() : rows;
}

/** One page of the posts matching `where`, newest first (see `ordered`). */
function pageOfPosts(db: Db, where: SQL[], page: Page): PostRow[] {
  const rows = db
    .select()
    .from(posts)
    .where(and(...where))
    .orderBy(page.minId != null ? posts.id : desc(posts.id))
    .limit(pageLimit(page))
    .all();
  return ordered(rows, page);
}

/** Leaves out accounts the viewer blocked or muted. */
function notFilteredBy(viewer: Viewer): SQL {
  if (viewer.kind !== "local") return sql`1`;
  return sql`${posts.actorId} not in (select ${actorFilters.targetId} from ${actorFilters} join ${users} on ${users.id} = ${actorFilters.userId} where ${users.actorId} = ${viewer.actorId})`;
}

export function homeTimeline(db: Db, user: User, page: Page = {}): PostRow[] {
  const rows = db
    .select({ post: posts })
    .from(timelineEntries)
    .innerJoin(posts, eq(posts.id, timelineEntries.postId))
    .where(and(eq(timelineEntries.userId, user.id), visibleTo(viewerOf(user)), notFilteredBy(viewerOf(user)), ...pageClauses(page, timelineEntries.postId)))
    .orderBy(page.minId != null ? timelineEntries.postId : desc(timelineEntries.postId))
    .limit(pageLimit(page))
    .all()
    .map((r) => r.post);
  return ordered(rows, page);
}

/** Posts of the instance's own members, as a viewer may see them. */
export function localTimeline(db: Db, viewer: Viewer, page: Page = {}, options: { remote?: boolean; local?: boolean; tag?: string; onlyMedia?: boolean; silenced?: string[] } = {}): PostRow[] {
  const where: SQL[] = [visibleTo(viewer), notFilteredBy(viewer), isNull(posts.reblogOfId), ...pageClauses(page)];
  // Public timelines show public posts only, never followers-only or section ones.
  where.push(eq(posts.visibility, "public"));
  if (options.local) where.push(sql`${posts.actorId} in (select ${actors.id} from ${actors} where ${actors.local} = 1)`);
  if (options.remote) where.push(sql`${posts.actorId} in (select ${actors.id} from ${actors} where ${actors.local} = 0)`);
  if (options.tag) where.push(sql`${posts.id} in (select ${postTags.postId} from ${postTags} where ${postTags.tag} = ${options.tag.toLowerCase()})`);
  if (options.onlyMedia) where.push(sql`exists (select 1 from ${media} where ${media.postId} = ${posts.id})`);
  // Servers the admins silenced (party/modes.ts) stay out of public timelines.
  if (options.silenced?.length) where.push(sql`${posts.actorId} not in (select ${actors.id} from ${actors} where ${inArray(actors.domain, options.silenced)})`);
  return pageOfPosts(db, where, page);
}

/**
 * A new member's home (few follows yet, so an empty home timeline): their
 * home timeline together with the section's posts they may read — public
 * posts of the instance's members and section-only posts — newest first.
 */
export function welcomeTimeline(db: Db, user: User, page: Page = {}): PostRow[] {
  const viewer = viewerOf(user);
  const merged = new Map<number, PostRow>();
  for (const row of [...homeTimeline(db, user, page), ...localTimeline(db, viewer, page, { local: true }), ...sectionTimeline(db, viewer, page)]) merged.set(row.id, row);
  const newestFirst = [...merged.values()].sort((a, b) => b.id - a.id).slice(0, pageLimit(page));
  return page.minId != null ? newestFirst.reverse() : newestFirst;
}

/**
 * Each post once in a page: a member's post in a public group comes back as
 * the group's boost of it (both are in the member's home timeline); the first
 * one listed (the newest) stays.
 */
export function onceEach(rows: PostRow[]): PostRow[] {
  const seen = new Set<number>();
  return rows.filter((row) => {
    const shown = row.reblogOfId ?? row.id;
    if (seen.has(shown)) return false;
    seen.add(shown);
    return true;
  });
}

/** What the section's members post for the section, and what reached them for the fédération or the party, newest first. */
export function sectionTimeline(db: Db, viewer: Viewer, page: Page = {}): PostRow[] {
  if (viewer.kind !== "local") return [];
  return pageOfPosts(db, [visibleTo(viewer), inArray(posts.visibility, ["section", ...PARTY_AUDIENCES]), ...pageClauses(page)], page);
}

export function actorPosts(
  db: Db,
  viewer: Viewer,
  actorId: number,
  page: Page = {},
  options: { excludeReplies?: boolean; excludeReblogs?: boolean; onlyMedia?: boolean; tagged?: string } = {},
): PostRow[] {
  const where: SQL[] = [eq(posts.actorId, actorId), visibleTo(viewer), ...pageClauses(page)];
  if (options.excludeReplies) where.push(isNull(posts.inReplyToId));
  if (options.excludeReblogs) where.push(isNull(posts.reblogOfId));
  if (options.onlyMedia) where.push(sql`exists (select 1 from ${media} where ${media.postId} = ${posts.id})`);
  if (options.tagged) where.push(sql`${posts.id} in (select ${postTags.postId} from ${postTags} where ${postTags.tag} = ${options.tagged.toLowerCase()})`);
  return pageOfPosts(db, where, page);
}

/** Replies to a post that the viewer may see, oldest first. */
export function repliesOf(db: Db, viewer: Viewer, id: number): PostRow[] {
  return db.select().from(posts).where(and(eq(posts.inReplyToId, id), visibleTo(viewer))).orderBy(posts.id).all();
}

// Every page of posts asks these: built once, the ids passed as a JSON array (storage/prepared.ts).
const postsByIdsQuery = preparedOnce((db) => db.select().from(posts).where(sql`${posts.id} in (select value from json_each(${sql.placeholder("ids")}))`).prepare());
const actorsByIdsQuery = preparedOnce((db) => db.select().from(actors).where(sql`${actors.id} in (select value from json_each(${sql.placeholder("ids")}))`).prepare());

/** Actors (rows) of a set of posts, including the authors of boosted posts. */
export function authorsOf(db: Db, rows: PostRow[]) {
  const ids = new Set(rows.map((p) => p.actorId));
  const reblogged = rows.map((p) => p.reblogOfId).filter((x): x is number => x != null);
  const originals = reblogged.length ? postsByIdsQuery(db).all({ ids: JSON.stringify(reblogged) }) : [];
  for (const o of originals) ids.add(o.actorId);
  const actorRows = ids.size ? actorsByIdsQuery(db).all({ ids: JSON.stringify([...ids]) }) : [];
  return { actors: new Map(actorRows.map((a) => [a.id, a])), originals: new Map(originals.map((o) => [o.id, o])) };
}

// Asked for each post a page shows: built once (storage/prepared.ts).
const likedQuery = preparedOnce((db) =>
  db
    .select({ id: likes.id })
    .from(likes)
    .where(and(eq(likes.actorId, sql.placeholder("actorId")), eq(likes.postId, sql.placeholder("postId"))))
    .prepare(),
);

export function hasLiked(db: Db, actorId: number, postId: number): boolean {
  return !!likedQuery(db).get({ actorId, postId });
}


/** A post's thread as the viewer may see it: ancestors oldest first, then every reply below it. */
export function threadOf(db: Db, viewer: Viewer, id: number): { ancestors: PostRow[]; descendants: PostRow[] } {
  const post = getVisiblePost(db, viewer, id);
  const ancestors: PostRow[] = [];
  const seen = new Set([post.id]);
  for (let parentId = post.inReplyToId; parentId != null && ancestors.length < 100; ) {
    const parent = findPost(db, parentId);
    if (!parent || seen.has(parent.id) || !canSee(db, viewer, parent)) break;
    seen.add(parent.id);
    ancestors.unshift(parent);
    parentId = parent.inReplyToId;
  }
  const descendants: PostRow[] = [];
  const queue = [post.id];
  while (queue.length && descendants.length < 500) {
    for (const reply of repliesOf(db, viewer, queue.shift()!)) {
      if (seen.has(reply.id)) continue;
      seen.add(reply.id);
      descendants.push(reply);
      queue.push(reply.id);
    }
  }
  return { ancestors, descendants };
}

/** Accounts that liked or boosted a post the viewer can see. */
export function likersOf(db: Db, viewer: Viewer, id: number) {
  const post = getVisiblePost(db, viewer, id);
  return db.select({ actor: actors }).from(likes).innerJoin(actors, eq(actors.id, likes.actorId)).where(eq(likes.postId, post.id)).orderBy(desc(likes.id)).limit(80).all().map((r) => r.actor);
}

export function rebloggersOf(db: Db, viewer: Viewer, id: number) {
  const post = getVisiblePost(db, viewer, id);
  return db.select({ actor: actors }).from(posts).innerJoin(actors, eq(actors.id, posts.actorId)).where(eq(posts.reblogOfId, post.id)).orderBy(desc(posts.id)).limit(80).all().map((r) => r.actor);
}
