// Polls attached to posts (Mastodon polls, ActivityPub Questions): creating one
// with a local post, voting (a local member on any poll, a remote actor on
// ours), results as a viewer sees them, and telling people when a poll ends.
//
// Local polls count their votes in `poll_votes`. Remote polls keep the counts
// their server last sent (`remote_counts`, `remote_voters`); our members' votes
// on them are kept too, to show "you voted" and to refuse a second vote.
import { and, count, countDistinct, eq, gt, inArray, lte, sql } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { actors, polls, pollVotes, posts, settings } from "../storage/schema.ts";
import type { ActorRow } from "../federation/actors.ts";
import type { User } from "../members/members.ts";
import { canSee, isFederated, type Viewer } from "../posts/visibility.ts";
import { notify } from "../notifications/notifications.ts";
import { record } from "../outbox/outbox.ts";

export type PollRow = typeof polls.$inferSelect;
type PostRow = typeof posts.$inferSelect;

/** Mastodon's limits, announced to clients by the instance endpoint. */
export const POLL_LIMITS = {
  maxOptions: 4,
  maxCharactersPerOption: 50,
  /** Seconds. */
  minExpiration: 300,
  /** Seconds: a month, as Mastodon counts it. */
  maxExpiration: 2_629_746,
} as const;

export interface NewPoll {
  options: string[];
  /** Seconds from now. */
  expiresIn: number;
  multiple?: boolean;
  hideTotals?: boolean;
}

/** A poll as one viewer sees it. */
export interface PollResults {
  id: number;
  postId: number;
  options: string[];
  counts: number[];
  /** The author asked to hide the counts until the end (Mastodon's hide_totals): pages and apps leave them out. */
  totalsHidden: boolean;
  votesCount: number;
  votersCount: number;
  multiple: boolean;
  expiresAt: number | null;
  expired: boolean;
  /** The viewer's choices; null for anonymous viewers. */
  ownVotes: number[] | null;
  local: boolean;
}

/** Checks a new poll against the limits; returns it with trimmed options. */
export function checkPoll(input: NewPoll): Required<NewPoll> {
  const options = input.options.map((o) => o.trim());
  if (options.length < 2 || options.length > POLL_LIMITS.maxOptions) throw new UserError("poll_options_count", 422, { max: POLL_LIMITS.maxOptions });
  if (options.some((o) => o === "")) throw new UserError("poll_option_empty", 422);
  if (options.some((o) => [...o].length > POLL_LIMITS.maxCharactersPerOption)) throw new UserError("poll_option_too_long", 422, { max: POLL_LIMITS.maxCharactersPerOption });
  if (new Set(options).size !== options.length) throw new UserError("poll_option_duplicate", 422);
  const expiresIn = input.expiresIn;
  if (!Number.isFinite(expiresIn) || expiresIn < POLL_LIMITS.minExpiration || expiresIn > POLL_LIMITS.maxExpiration) {
    throw new UserError("poll_expiration_invalid", 422, { min: POLL_LIMITS.minExpiration / 60, max: Math.round(POLL_LIMITS.maxExpiration / 86_400) });
  }
  return { options, expiresIn: Math.floor(expiresIn), multiple: !!input.multiple, hideTotals: !!input.hideTotals };
}

/** Stores the poll of a new local post (inside the post's transaction). */
export function insertPoll(db: Db, postId: number, poll: Required<NewPoll>, now = Date.now()): PollRow {
  return db
    .insert(polls)
    .values({ id: newId(), postId, options: JSON.stringify(poll.options), multiple: poll.multiple, hideTotals: poll.hideTotals, expiresAt: now + poll.expiresIn * 1000 })
    .returning()
    .get();
}

/**
 * A local post's poll after an edit, as Mastodon does it: the expiry starts
 * again from now, and votes are dropped if the options or the kind of poll changed.
 */
export function replacePoll(db: Db, postId: number, poll: Required<NewPoll> | null, now = Date.now()): void {
  const existing = pollOfPost(db, postId);
  if (!poll) {
    if (existing) db.delete(polls).where(eq(polls.id, existing.id)).run();
    return;
  }
  if (!existing) {
    insertPoll(db, postId, poll, now);
    return;
  }
  const changed = JSON.stringify(poll.options) !== existing.options || poll.multiple !== existing.multiple;
  if (changed) db.delete(pollVotes).where(eq(pollVotes.pollId, existing.id)).run();
  db.update(polls)
    .set({ options: JSON.stringify(poll.options), multiple: poll.multiple, hideTotals: poll.hideTotals, expiresAt: now + poll.expiresIn * 1000, updatedAt: now })
    .where(eq(polls.id, existing.id))
    .run();
}

export function pollOfPost(db: Db, postId: number): PollRow | undefined {
  return db.select().from(polls).where(eq(polls.postId, postId)).get();
}

export function optionsOf(poll: PollRow): string[] {
  return JSON.parse(poll.options) as string[];
}

export function isExpired(poll: { expiresAt: number | null }, now = Date.now()): boolean {
  return poll.expiresAt != null && poll.expiresAt <= now;
}

/**
 * Results of the polls of some posts, for one viewer, in a fixed number of
 * queries (a page of statuses costs the same whatever its number of polls).
 * Keyed by post id.
 */
export function pollsOfPosts(db: Db, postIds: number[], viewerActorId: number | null, now = Date.now()): Map<number, PollResults> {
  const out = new Map<number, PollResults>();
  if (postIds.length === 0) return out;
  const rows = db.select().from(polls).where(inArray(polls.postId, postIds)).all();
  if (rows.length === 0) return out;
  const localIds = rows.filter((p) => p.remoteCounts == null).map((p) => p.id);
  const tallies = localIds.length
    ? db.select({ pollId: pollVotes.pollId, choice: pollVotes.choice, n: count() }).from(pollVotes).where(inArray(pollVotes.pollId, localIds)).groupBy(pollVotes.pollId, pollVotes.choice).all()
    : [];
  const voters = new Map(
    localIds.length
      ? db.select({ pollId: pollVotes.pollId, n: countDistinct(pollVotes.actorId) }).from(pollVotes).where(inArray(pollVotes.pollId, localIds)).groupBy(pollVotes.pollId).all().map((r) => [r.pollId, r.n])
      : [],
  );
  const mine = viewerActorId != null
    ? db.select({ pollId: pollVotes.pollId, choice: pollVotes.choice }).from(pollVotes).where(and(eq(pollVotes.actorId, viewerActorId), inArray(pollVotes.pollId, rows.map((p) => p.id)))).all()
    : [];
  for (const poll of rows) {
    const options = optionsOf(poll);
    const local = poll.remoteCounts == null;
    const counts = local ? options.map((_, i) => tallies.find((t) => t.pollId === poll.id && t.choice === i)?.n ?? 0) : remoteCountsOf(poll, options.length);
    const expired = isExpired(poll, now);
    const own = mine.filter((v) => v.pollId === poll.id).map((v) => v.choice).sort((a, b) => a - b);
    out.set(poll.postId, {
      id: poll.id,
      postId: poll.postId,
      options,
      counts,
      totalsHidden: poll.hideTotals && !expired,
      votesCount: counts.reduce((a, b) => a + b, 0),
      votersCount: local ? (voters.get(poll.id) ?? 0) : (poll.remoteVoters ?? counts.reduce((a, b) => a + b, 0)),
      multiple: poll.multiple,
      expiresAt: poll.expiresAt,
      expired,
      ownVotes: viewerActorId != null ? own : null,
      local,
    });
  }
  return out;
}

function remoteCountsOf(poll: PollRow, length: number): number[] {
  const parsed = JSON.parse(poll.remoteCounts ?? "[]") as unknown[];
  return Array.from({ length }, (_, i) => (typeof parsed[i] === "number" ? (parsed[i] as number) : 0));
}

/** The poll and its post, if the viewer may see the post; a 404 otherwise. */
export function getVisiblePoll(db: Db, viewer: Viewer, pollId: number): { poll: PollRow; post: PostRow } {
  const row = db.select({ poll: polls, post: posts }).from(polls).innerJoin(posts, eq(posts.id, polls.postId)).where(eq(polls.id, pollId)).get();
  if (!row || !canSee(db, viewer, row.post)) throw new UserError("poll_not_found", 404);
  return row;
}

export function pollResults(db: Db, viewer: Viewer, pollId: number): PollResults {
  const { post } = getVisiblePoll(db, viewer, pollId);
  return pollsOfPosts(db, [post.id], viewer.kind === "anonymous" ? null : viewer.actorId).get(post.id)!;
}

/** Checks choices against a poll; returns them without duplicates, in order. */
function checkChoices(poll: PollRow, choices: number[], now: number): number[] {
  if (isExpired(poll, now)) throw new UserError("poll_expired", 422);
  const unique = [...new Set(choices)].sort((a, b) => a - b);
  const length = optionsOf(poll).length;
  if (unique.length === 0 || unique.some((c) => !Number.isInteger(c) || c < 0 || c >= length)) throw new UserError("poll_choice_invalid", 422);
  if (!poll.multiple && unique.length > 1) throw new UserError("poll_single_choice", 422);
  return unique;
}

function hasVoted(db: Db, pollId: number, actorId: number): boolean {
  return !!db.select({ id: pollVotes.id }).from(pollVotes).where(and(eq(pollVotes.pollId, pollId), eq(pollVotes.actorId, actorId))).get();
}

/**
 * A local member votes, once, on a poll they can see (the author too). Local
 * polls: the new counts go out as an Update of the Question. Remote polls: the
 * choices go to the poll's author as Notes, and the counts shown here move at
 * once, until the poll's server sends its own.
 */
export async function vote(services: Services, user: User, pollId: number, choices: number[], now = Date.now()): Promise<PollResults> {
  const { db } = services;
  const viewer: Viewer = { kind: "local", actorId: user.actorId, role: user.role };
  const { poll, post } = getVisiblePoll(db, viewer, pollId);
  const voter = db.select().from(actors).where(eq(actors.id, user.actorId)).get()!;
  const chosen = checkChoices(poll, choices, now);
  const votes = db.transaction((tx) => {
    // Checked inside the transaction: two quick clicks make one vote.
    if (hasVoted(tx, poll.id, voter.id)) throw new UserError("poll_already_voted", 422);
    const rows = chosen.map((choice) => {
      const id = newId();
      return { id, pollId: poll.id, actorId: voter.id, choice, uri: `${voter.uri}#votes/${id}` };
    });
    tx.insert(pollVotes).values(rows).run();
    if (poll.remoteCounts != null) {
      const counts = remoteCountsOf(poll, optionsOf(poll).length);
      for (const c of chosen) counts[c] = (counts[c] ?? 0) + 1;
      tx.update(polls).set({ remoteCounts: JSON.stringify(counts), remoteVoters: (poll.remoteVoters ?? 0) + 1, updatedAt: now }).where(eq(polls.id, poll.id)).run();
      const options = optionsOf(poll);
      record(tx, { kind: "poll.voted", voterId: voter.id, postId: post.id, votes: rows.map((v) => ({ uri: v.uri, title: options[v.choice]! })) });
    }
    return rows;
  });
  if (poll.remoteCounts == null) countsChanged(services, poll.id);
  return pollResults(db, viewer, poll.id);
}

/**
 * A vote from another server on one of our polls: a Note whose `name` is an
 * option's title, in reply to our Question. A vote that breaks the rules (not
 * our poll, hidden post, poll over, unknown option, second choice on a
 * one-choice poll) is dropped. Returns whether it was counted. `mayRead`:
 * whether the voter may read the poll's post (the federation layer knows the
 * party's audiences).
 */
export function receiveRemoteVote(
  services: Services,
  voter: ActorRow,
  questionUri: string,
  optionTitle: string,
  voteUri: string | null,
  { now = Date.now(), mayRead = (post: typeof posts.$inferSelect) => canSee(services.db, { kind: "remote", actorId: voter.id }, post) } = {},
): boolean {
  const { db } = services;
  const row = db
    .select({ poll: polls, post: posts })
    .from(polls)
    .innerJoin(posts, eq(posts.id, polls.postId))
    .where(and(eq(posts.uri, questionUri), sql`${polls.remoteCounts} is null`))
    .get();
  if (!row) return false;
  const { poll, post } = row;
  const choice = optionsOf(poll).indexOf(optionTitle.trim());
  const accepted =
    !voter.local &&
    choice >= 0 &&
    !isExpired(poll, now) &&
    isFederated(post) &&
    mayRead(post) &&
    db.transaction((tx) => {
      if (!poll.multiple && hasVoted(tx, poll.id, voter.id)) return false;
      const id = newId();
      return tx.insert(pollVotes).values({ id, pollId: poll.id, actorId: voter.id, choice, uri: voteUri }).onConflictDoNothing().run().changes > 0;
    });
  if (accepted) countsChanged(services, poll.id);
  else services.log.debug({ poll: poll.id, voter: voter.uri }, "remote poll vote refused");
  return accepted;
}

/** A remote Question's poll, as its server describes it (create or refresh). */
export interface RemotePoll {
  options: string[];
  counts: number[];
  voters: number | null;
  multiple: boolean;
  expiresAt: number | null;
}

/** Stores or refreshes the poll of a remote post; our members' votes go if its options changed. */
export function storeRemotePoll(db: Db, postId: number, remote: RemotePoll | null, now = Date.now()): void {
  const existing = pollOfPost(db, postId);
  if (!remote || remote.options.length === 0) {
    if (existing) db.delete(polls).where(eq(polls.id, existing.id)).run();
    return;
  }
  const values = {
    options: JSON.stringify(remote.options),
    multiple: remote.multiple,
    expiresAt: remote.expiresAt,
    remoteCounts: JSON.stringify(remote.counts),
    remoteVoters: remote.voters,
    updatedAt: now,
  };
  if (!existing) {
    db.insert(polls).values({ id: newId(), postId, ...values }).run();
    return;
  }
  if (values.options !== existing.options || values.multiple !== existing.multiple) db.delete(pollVotes).where(eq(pollVotes.pollId, existing.id)).run();
  db.update(polls).set(values).where(eq(polls.id, existing.id)).run();
}

// ---- New counts go out at most once per poll every few seconds ----

export const UPDATE_DELAY_MS = 3000;
const pendingUpdates = new WeakMap<Services, Map<number, NodeJS.Timeout>>();

/**
 * A local poll's counts changed: its Question is sent again to the post's
 * audience. Votes that come close together share one Update.
 */
function countsChanged(services: Services, pollId: number): void {
  let pending = pendingUpdates.get(services);
  if (!pending) pendingUpdates.set(services, (pending = new Map()));
  if (pending.has(pollId)) return;
  const timer = setTimeout(() => {
    pending.delete(pollId);
    void publishPoll(services, pollId).catch((error) => services.log.warn({ err: error, poll: pollId }, "poll update not sent"));
  }, UPDATE_DELAY_MS);
  timer.unref();
  pending.set(pollId, timer);
}

async function publishPoll(services: Services, pollId: number): Promise<void> {
  const { db } = services;
  const row = db.select({ post: posts, author: actors }).from(polls).innerJoin(posts, eq(posts.id, polls.postId)).innerJoin(actors, eq(actors.id, posts.actorId)).where(eq(polls.id, pollId)).get();
  if (!row || !row.author.local || !isFederated(row.post)) return;
  record(db, { kind: "poll.updated", postId: row.post.id });
  services.events.emit("post.updated", row.post);
}

// ---- Polls that end ----

const CLOSED_UNTIL_KEY = "polls.closed_until";

/**
 * Polls whose end time passed since the last run: the author (if local) and
 * the local voters are told once, and our own polls go out closed. The time of
 * the last run is kept in `settings`, so a restart neither repeats nor misses one.
 * Returns the number of polls closed.
 */
export async function closeEndedPolls(services: Services, now = Date.now()): Promise<number> {
  const { db } = services;
  const stored = db.select().from(settings).where(eq(settings.key, CLOSED_UNTIL_KEY)).get();
  const since = stored ? (JSON.parse(stored.value) as number) : 0;
  const ended = db
    .select({ poll: polls, post: posts, author: actors })
    .from(polls)
    .innerJoin(posts, eq(posts.id, polls.postId))
    .innerJoin(actors, eq(actors.id, posts.actorId))
    .where(and(gt(polls.expiresAt, since), lte(polls.expiresAt, now)))
    .all();
  const value = JSON.stringify(now);
  db.transaction((tx) => {
    tx.insert(settings).values({ key: CLOSED_UNTIL_KEY, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();
    // Our ended polls go out closed.
    for (const { post, author } of ended) if (author.local && isFederated(post)) record(tx, { kind: "poll.updated", postId: post.id });
  });
  for (const { poll, post, author } of ended) {
    const voters = db
      .selectDistinct({ actorId: pollVotes.actorId })
      .from(pollVotes)
      .innerJoin(actors, eq(actors.id, pollVotes.actorId))
      .where(and(eq(pollVotes.pollId, poll.id), eq(actors.local, true)))
      .all()
      .map((r) => r.actorId);
    for (const actorId of new Set([...(author.local ? [author.id] : []), ...voters])) {
      notify(services, { recipientActorId: actorId, type: "poll", fromActorId: author.id, postId: post.id });
    }
  }
  return ended.length;
}
