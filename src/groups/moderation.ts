// Moderation of thematic groups (and of the instance's own posts): reports
// (`Flag`s, made here or received), the moderators' queue, hiding a post in a
// group's discussion, removing it from the group, and the journal of every
// action with who did it and why.
//
// Who handles a report: a post in one of our groups goes to that group's
// moderators (owner, moderators, the instance's secretaries and admins, as
// canModerate says); any other post goes to the instance's admins and
// moderators. What travels is in federation/send-flags.ts and inbox/flag.ts.
import { and, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { actorOf, INSTANCE_ACTOR_USERNAME, type User } from "../members/members.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { actors, groupPosts, groupRoles, hiddenPosts, moderationLog, postFlags, posts, users, type FlagState, type ModerationAction, type Role } from "../storage/schema.ts";
import { findLocalActor, type ActorRow } from "../federation/actors.ts";
import { notify } from "../notifications/notifications.ts";
import { deletePostOf, findPost, findPostByUri, getVisiblePost, removePost, viewerOf, type PostRow } from "../posts/posts.ts";
import { record } from "../outbox/outbox.ts";
import { canModerate, groupById, type GroupRow } from "./groups.ts";
import { authorOf, groupsOfPost, unrecordGroupPost } from "./discussion.ts";

export type FlagRow = typeof postFlags.$inferSelect;
export const MAX_FLAG_COMMENT = 1000;

/**
 * Roles that handle reports of posts outside any group of ours. Secretaries
 * too: the first account of an instance is its secretary, who must be able to
 * moderate without anyone running a command on the server.
 */
const INSTANCE_MODERATOR_ROLES: Role[] = ["admin", "moderator", "secretary"];

export function canModerateInstance(user: User | null | undefined): boolean {
  return !!user && INSTANCE_MODERATOR_ROLES.includes(user.role);
}

function requireQueue(db: Db, user: User, group: GroupRow | null): void {
  if (group ? !canModerate(db, group, user) : !canModerateInstance(user)) throw new UserError(group ? "group_forbidden" : "moderation_forbidden", 403);
}

export function logModeration(db: Db, entry: { groupId: number | null; moderatorId: number | null; action: ModerationAction; targetUri: string; reason?: string }): void {
  db.insert(moderationLog)
    .values({ id: newId(), ...entry, reason: (entry.reason ?? "").trim().slice(0, MAX_FLAG_COMMENT) })
    .run();
}

/** The local group (active) whose moderators handle reports of this post, if any. */
function localGroupOf(db: Db, postId: number): GroupRow | undefined {
  return groupsOfPost(db, postId).find((l) => l.group.local && l.group.state === "active")?.group;
}

function cleanComment(comment: string | undefined): string {
  const text = (comment ?? "").trim();
  if (text.length > MAX_FLAG_COMMENT) throw new UserError("flag_comment_too_long", 422, { max: MAX_FLAG_COMMENT });
  return text;
}

/**
 * A member reports a post they can read. It is kept here (in the group's queue
 * if one of our groups holds the post, else the instance's), and a `Flag` goes
 * to the servers of the remote groups it is in and of its remote author.
 */
export async function flagPost(services: Services, user: User, postId: number, comment?: string): Promise<FlagRow> {
  const { db, config } = services;
  const post = getVisiblePost(db, viewerOf(user), postId);
  const me = actorOf(db, user);
  if (post.actorId === me.id || post.reblogOfId) throw new UserError("flag_invalid", 422);
  const text = cleanComment(comment);
  const author = authorOf(db, post)!;
  const id = newId();
  const row = db.transaction((tx) => {
    const row = tx
      .insert(postFlags)
      .values({ id, uri: `${config.origin}/flags/${id}`, postId: post.id, targetUri: post.uri, groupId: localGroupOf(tx, post.id)?.id ?? null, reporterActorId: me.id, comment: text })
      .returning()
      .get();
    // To the author's server and to the remote groups' servers (federation/send-flags.ts).
    record(tx, { kind: "flag.created", flagId: row.id });
    return row;
  });
  notifyModerators(services, row);
  return row;
}

/**
 * A `Flag` from another server (Mastodon sends one from its instance actor,
 * naming the account and its posts). Kept only for what we moderate: posts in
 * our groups, and our members' posts and accounts. Returns the rows stored.
 */
export function receiveFlag(services: Services, input: { uri: string; reporter: ActorRow; objectUris: string[]; comment: string }): FlagRow[] {
  const { db } = services;
  const comment = input.comment.trim().slice(0, MAX_FLAG_COMMENT);
  const stored: FlagRow[] = [];
  const store = (values: { postId: number | null; targetUri: string; groupId: number | null }) => {
    // One row per reported post; the Flag's id (suffixed after the first) keeps a replay from counting twice.
    const uri = stored.length === 0 ? input.uri : `${input.uri}#${stored.length}`;
    const row = db.insert(postFlags).values({ id: newId(), uri, reporterActorId: input.reporter.id, comment, ...values }).onConflictDoNothing().returning().get();
    if (row) stored.push(row);
  };
  const reported = input.objectUris.map((uri) => findPostByUri(db, uri)).filter((p): p is PostRow => !!p && !p.reblogOfId);
  for (const post of reported) {
    const group = localGroupOf(db, post.id);
    if (group || authorOf(db, post)?.local) store({ postId: post.id, targetUri: post.uri, groupId: group?.id ?? null });
  }
  if (reported.length === 0) {
    // An account reported without posts: only our own members concern us.
    const account = input.objectUris
      .map((uri) => db.select().from(actors).where(and(eq(actors.uri, uri), eq(actors.local, true), eq(actors.type, "Person"))).get())
      .find((a) => !!a);
    if (account) store({ postId: null, targetUri: account.uri, groupId: null });
  }
  for (const row of stored) notifyModerators(services, row);
  return stored;
}

/**
 * Tells the local accounts who handle a new report of a post (an `admin.report`
 * notification): a group's owner and moderators for a post in one of our
 * groups, the instance's admins and moderators otherwise. A group's moderator
 * who is not an instance moderator is not told which of our members reported
 * (as in the queue, reporterShown): the notification then comes from the
 * instance's actor.
 */
function notifyModerators(services: Services, flag: FlagRow): void {
  const { db } = services;
  if (flag.postId == null || flag.reporterActorId == null) return;
  const reporter = db.select().from(actors).where(eq(actors.id, flag.reporterActorId)).get();
  if (!reporter) return;
  const instance = findLocalActor(db, INSTANCE_ACTOR_USERNAME);
  const recipients = flag.groupId
    ? db.select({ actorId: groupRoles.actorId, role: users.role }).from(groupRoles).innerJoin(users, eq(users.actorId, groupRoles.actorId)).where(eq(groupRoles.groupId, flag.groupId)).all()
    : db.select({ actorId: users.actorId, role: users.role }).from(users).where(and(inArray(users.role, INSTANCE_MODERATOR_ROLES), isNull(users.disabledAt))).all();
  for (const { actorId, role } of recipients) {
    if (actorId === reporter.id) continue;
    const shown = reporter.local && flag.groupId && !canModerateInstance({ role } as User) ? instance : reporter;
    if (shown) notify(services, { recipientActorId: actorId, type: "admin.report", fromActorId: shown.id, postId: flag.postId });
  }
}

export interface FlagView {
  flag: FlagRow;
  post: PostRow | null;
  author: ActorRow | null;
  reporter: ActorRow | null;
  hidden: boolean;
}

/** A moderators' queue: a group's reports, or (group null) the instance's. Open ones by default. */
export function flagQueue(db: Db, user: User, group: GroupRow | null, state: FlagState | "all" = "open", limit = 200): FlagView[] {
  requireQueue(db, user, group);
  const rows = db
    .select({ flag: postFlags, post: posts })
    .from(postFlags)
    .leftJoin(posts, eq(posts.id, postFlags.postId))
    .where(and(group ? eq(postFlags.groupId, group.id) : isNull(postFlags.groupId), state === "all" ? undefined : eq(postFlags.state, state)))
    .orderBy(desc(postFlags.id))
    .limit(limit)
    .all();
  const ids = [...new Set(rows.flatMap((r) => [r.post?.actorId, r.flag.reporterActorId]).filter((x): x is number => x != null))];
  const byId = new Map(ids.length ? db.select().from(actors).where(inArray(actors.id, ids)).all().map((a) => [a.id, a]) : []);
  const hidden = group ? hiddenIn(db, group, rows.map((r) => r.post?.id).filter((x): x is number => x != null)) : new Set<number>();
  return rows.map((r) => ({
    flag: r.flag,
    post: r.post,
    author: r.post ? (byId.get(r.post.actorId) ?? null) : null,
    reporter: r.flag.reporterActorId ? (byId.get(r.flag.reporterActorId) ?? null) : null,
    hidden: !!r.post && hidden.has(r.post.id),
  }));
}

/**
 * Who reported, as a moderator may see it: the instance's moderators see the
 * account; a group's moderators see only the reporter's server for our own
 * members, so a report cannot turn into a quarrel between members.
 */
export function reporterShown(user: User, reporter: ActorRow | null): { handle: string | null; domain: string | null } {
  if (!reporter) return { handle: null, domain: null };
  const handle = `@${reporter.username}@${reporter.domain}`;
  return { handle: canModerateInstance(user) || !reporter.local ? handle : null, domain: reporter.domain };
}

export function flagById(db: Db, id: number): FlagRow | undefined {
  return db.select().from(postFlags).where(eq(postFlags.id, id)).get();
}

function closeFlagsOf(db: Db, user: User, group: GroupRow | null, postId: number): void {
  db.update(postFlags)
    .set({ state: "resolved", resolvedAt: Date.now(), resolvedBy: user.id })
    .where(and(eq(postFlags.postId, postId), eq(postFlags.state, "open"), group ? eq(postFlags.groupId, group.id) : isNull(postFlags.groupId)))
    .run();
}

/** A report is handled (resolved) or found groundless (dismissed), with a reason for the journal. */
export function closeFlag(services: Services, user: User, flagId: number, state: "resolved" | "dismissed", reason?: string): FlagRow {
  const { db } = services;
  const flag = flagById(db, flagId);
  const group = flag?.groupId ? groupById(db, flag.groupId) : null;
  if (!flag) throw new UserError("flag_not_found", 404);
  requireQueue(db, user, group ?? null);
  if (state !== "resolved" && state !== "dismissed") throw new UserError("flag_invalid", 422);
  const row = db.update(postFlags).set({ state, resolvedAt: Date.now(), resolvedBy: user.id }).where(eq(postFlags.id, flag.id)).returning().get();
  logModeration(db, { groupId: flag.groupId, moderatorId: user.id, action: state === "resolved" ? "resolve_flag" : "dismiss_flag", targetUri: flag.targetUri, reason });
  return row;
}

function groupPost(db: Db, group: GroupRow, postId: number): PostRow {
  const link = db.select({ postId: groupPosts.postId }).from(groupPosts).where(and(eq(groupPosts.groupId, group.id), eq(groupPosts.postId, postId))).get();
  const post = link ? findPost(db, postId) : undefined;
  if (!post) throw new UserError("post_not_found", 404);
  return post;
}

/** Posts among `postIds` hidden in the group's discussion. */
export function hiddenIn(db: Db, group: GroupRow, postIds: number[]): Set<number> {
  if (postIds.length === 0) return new Set();
  return new Set(
    db
      .select({ id: hiddenPosts.postId })
      .from(hiddenPosts)
      .where(and(eq(hiddenPosts.groupId, group.id), inArray(hiddenPosts.postId, postIds)))
      .all()
      .map((r) => r.id),
  );
}

/**
 * Hides a post in the group's discussion: kept (the author still has it, and
 * members' servers keep what they got), no longer shown on the group's pages,
 * outbox or API, and its edits no longer relayed. Reversible.
 */
export function hidePost(services: Services, user: User, group: GroupRow, postId: number, reason?: string): void {
  const { db } = services;
  requireQueue(db, user, group);
  const post = groupPost(db, group, postId);
  db.transaction((tx) => {
    tx.insert(hiddenPosts).values({ postId: post.id, groupId: group.id, hiddenBy: user.id }).onConflictDoNothing().run();
    closeFlagsOf(tx, user, group, post.id);
    logModeration(tx, { groupId: group.id, moderatorId: user.id, action: "hide", targetUri: post.uri, reason });
  });
}

export function unhidePost(services: Services, user: User, group: GroupRow, postId: number, reason?: string): void {
  const { db } = services;
  requireQueue(db, user, group);
  const post = groupPost(db, group, postId);
  db.transaction((tx) => {
    tx.delete(hiddenPosts).where(and(eq(hiddenPosts.groupId, group.id), eq(hiddenPosts.postId, post.id))).run();
    logModeration(tx, { groupId: group.id, moderatorId: user.id, action: "unhide", targetUri: post.uri, reason });
  });
}

/**
 * Takes a post out of the group: it leaves the discussion (a thread's first
 * post takes its thread with it) and the group takes back its Announce
 * (`Undo`), so members' servers drop it from the group too. The post itself is
 * the author's and stays on their profile: deleting it is deletePost's, for
 * the instance's moderators and only for our own members' posts.
 */
export async function removeFromGroup(services: Services, user: User, group: GroupRow, postId: number, reason?: string): Promise<void> {
  const { db } = services;
  requireQueue(db, user, group);
  const post = groupPost(db, group, postId);
  db.transaction((tx) => {
    closeFlagsOf(tx, user, group, post.id);
    logModeration(tx, { groupId: group.id, moderatorId: user.id, action: "remove", targetUri: post.uri, reason });
    const removed = unrecordGroupPost(tx, group, post.id);
    // The group takes back its Announces (federation/send-groups.ts).
    if (removed.length) record(tx, { kind: "group.post.removed", groupId: group.id, postIds: removed });
  });
}

/**
 * The instance's moderators delete a reported post: one of our members' posts
 * is deleted everywhere (its Delete goes out as if the author deleted it); a
 * remote post is only dropped from this instance.
 */
export async function deletePost(services: Services, user: User, postId: number, reason?: string): Promise<void> {
  const { db } = services;
  if (!canModerateInstance(user)) throw new UserError("moderation_forbidden", 403);
  const post = findPost(db, postId);
  const author = post ? authorOf(db, post) : undefined;
  if (!post || !author) throw new UserError("post_not_found", 404);
  closeFlagsOf(db, user, null, post.id);
  logModeration(db, { groupId: null, moderatorId: user.id, action: "remove", targetUri: post.uri, reason });
  if (author.local) await deletePostOf(services, post, author);
  else removePost(services, post);
}

export interface JournalEntry {
  entry: typeof moderationLog.$inferSelect;
  moderator: { username: string; name: string } | null;
}

/** The journal of moderation: a group's (its moderators), or the instance's own (its admins and moderators). */
export function moderationJournal(db: Db, user: User, group: GroupRow | null, limit = 200): JournalEntry[] {
  requireQueue(db, user, group);
  return db
    .select({ entry: moderationLog, username: users.username, name: actors.name })
    .from(moderationLog)
    .leftJoin(users, eq(users.id, moderationLog.moderatorId))
    .leftJoin(actors, eq(actors.id, users.actorId))
    .where(group ? eq(moderationLog.groupId, group.id) : isNull(moderationLog.groupId))
    .orderBy(desc(moderationLog.id))
    .limit(limit)
    .all()
    .map((r) => ({ entry: r.entry, moderator: r.username ? { username: r.username, name: r.name || r.username } : null }));
}
