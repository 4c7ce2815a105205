// The transactional outbox: domain functions say *what happened* ("a post was
// created", "a member left a group") by writing a row of `outbox` inside the
// transaction that makes the change; src/federation/outbox-worker.ts decides
// what to send and hands it to Fedify's persistent queue. A change is never
// committed without its row, so a crash between the change and its delivery
// loses nothing. Domain modules import this file, never src/federation's
// senders.
import { asc, eq, gt, isNotNull, lte, and, sql } from "drizzle-orm";
import { sessionOf, type Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { outbox, type posts } from "../storage/schema.ts";

type PostRow = typeof posts.$inferSelect;

/** What happened. Ids are read again when the row is sent; what a deletion removes travels in the row. */
export type OutboxEvent =
  | { kind: "post.created"; postId: number }
  | { kind: "post.updated"; postId: number }
  /** The post as it was, the actors it mentioned and the groups it was in: all gone with it. */
  | { kind: "post.deleted"; post: PostRow; mentionedIds: number[]; groupIds: number[] }
  | { kind: "post.liked"; likeUri: string; actorId: number; postId: number }
  | { kind: "post.unliked"; likeUri: string; actorId: number; postId: number }
  | { kind: "post.boosted"; reblogId: number }
  | { kind: "post.unboosted"; reblog: PostRow }
  /** A local group took a post into its discussion: it relays it. `received`: the remote author's activity (JSON-LD), relayed as is. */
  | { kind: "group.post.accepted"; groupId: number; postId: number; received?: unknown }
  | { kind: "profile.updated"; actorId: number }
  /** A member's attested status changed (src/party/attestations.ts): remote groups they belong to re-check it. */
  | { kind: "membership.changed"; actorId: number }
  | { kind: "follow.requested"; followUri: string; followerId: number; targetId: number }
  | { kind: "follow.undone"; followUri: string; followerId: number; targetId: number }
  | { kind: "follow.answered"; accepted: boolean; followUri: string; followerId: number; targetId: number }
  | { kind: "event.created"; eventId: number }
  | { kind: "event.updated"; eventId: number }
  | { kind: "rsvp.answered"; eventId: number; attendeeId: number; rsvpUri: string; accepted: boolean }
  | { kind: "rsvp.sent"; eventId: number; actorId: number; answer: "going" | "maybe" | "not_going"; uri: string }
  | { kind: "poll.updated"; postId: number }
  /** A member's choices on another server's poll, each with its option's title. */
  | { kind: "poll.voted"; voterId: number; postId: number; votes: Array<{ uri: string; title: string }> }
  /** A moderator took a post (a thread's first post takes its replies) out of a local group. */
  | { kind: "group.post.removed"; groupId: number; postIds: number[] }
  | { kind: "flag.created"; flagId: number }
  | { kind: "proposal.changed"; proposalId: number }
  /**
   * The hierarchy (docs/territory.md): an object of ours (result, report,
   * figures, campaign, directive) changed, as its versioned wire JSON, for the
   * parent node ("up") or the linked children ("down"; `only`: those actor ids).
   */
  | { kind: "territory.up"; type: "Create" | "Update"; object: Record<string, unknown> }
  | { kind: "territory.down"; type: "Create" | "Update"; object: Record<string, unknown>; only?: number[] }
  /** An upper level's campaign passed on to a newly linked child, as its owner sent it. */
  | { kind: "territory.relayed"; childId: number; activity: { type: "Create" | "Update"; id: string; actor: string; payload: Record<string, unknown> } }
  /** A report from a section received (Accept) or first opened (Read). */
  | { kind: "territory.acknowledged"; type: "Accept" | "Read"; reportUri: string; sectionId: number }
  | { kind: "territory.oversight.requested"; childId: number; followUri: string }
  | { kind: "territory.oversight.answered"; accepted: boolean; followUri: string; parentId: number }
  /** A fédération's list of linked sections changed (or is told again after a restart). */
  | { kind: "territory.sections.changed" }
  /** A local account moved to `targetId` (checked: the target names it in `alsoKnownAs`): `Move` to its followers and groups. */
  | { kind: "account.moved"; actorId: number; targetId: number }
  /** A local account was erased (its actor row is a tombstone): `Delete` of the actor to every server we know. */
  | { kind: "account.deleted"; actorId: number }
  /** The party directory this node holds changed (src/party/directory.ts): its children (`only`: those actor ids) are told. */
  | { kind: "party.directory.changed"; only?: number[] }
  /** A member's stance on (or the author's withdrawal of) a remote group's proposal; `uri` is the act's id. */
  | { kind: "proposal.act"; actorId: number; groupActorId: number; postId: number; act: "support" | "oppose" | "withdraw"; uri: string };

export type OutboxKind = OutboxEvent["kind"];
export type OutboxRow = typeof outbox.$inferSelect;

/** Kept as long as anything could fix the cause; then the row stays, with its error, for the operator. */
export const MAX_ATTEMPTS = 12;

// One set of wake-up calls per database: in host mode several instances share
// the process, and a commit on one must not wake another's worker. Keyed by
// drizzle's session, which the database and its transactions share.
const listeners = new WeakMap<object, { calls: Set<() => void>; pending: boolean }>();

function wakeCallsOf(db: Db) {
  const key = sessionOf(db);
  let entry = listeners.get(key);
  if (!entry) listeners.set(key, (entry = { calls: new Set(), pending: false }));
  return entry;
}

/**
 * Records what happened. Call it inside the transaction of the change: the
 * row commits or rolls back with it. The worker is woken once the current
 * synchronous transaction is over (better-sqlite3 transactions never span an
 * await), so there is no polling delay.
 */
export function record(db: Db, event: OutboxEvent): void {
  const { kind, ...payload } = event;
  db.insert(outbox).values({ id: newId(), kind, payload: JSON.stringify(payload), nextAttemptAt: Date.now() }).run();
  wakeAfter(db);
}

/** Wakes `db`'s worker once the current synchronous transaction is over (it sets its timer for a delayed row). */
function wakeAfter(db: Db): void {
  const wake = wakeCallsOf(db);
  if (wake.pending) return;
  wake.pending = true;
  setImmediate(() => {
    wake.pending = false;
    for (const listener of wake.calls) listener();
  });
}

/** Notices recorded with recordOnce (their row says only what to read again when sent). */
const COALESCED: ReadonlySet<OutboxKind> = new Set(["territory.sections.changed"] satisfies OutboxKind[]);
type CoalescedEvent = Extract<OutboxEvent, { kind: "territory.sections.changed" }>;

/**
 * Records a notice that says "this changed, send the current state" (the row
 * is read again when sent) `delayMs` later; a burst of such changes (500
 * sections linking to their fédération) makes one send, not one per change.
 * While the same notice waits, each new change puts it off by `delayMs` again,
 * but never beyond `10 × delayMs` after the first. A row already due or being
 * sent does not count: it may have read the state before this change.
 */
export function recordOnce(db: Db, event: CoalescedEvent, delayMs: number): void {
  const { kind, ...rest } = event;
  const payload = JSON.stringify(rest);
  const now = Date.now();
  const waiting = db
    .select({ id: outbox.id, createdAt: outbox.createdAt })
    .from(outbox)
    .where(and(eq(outbox.kind, kind), eq(outbox.payload, payload), gt(outbox.nextAttemptAt, now), eq(outbox.attempts, 0)))
    .get();
  if (waiting) {
    db.update(outbox).set({ nextAttemptAt: Math.min(now + delayMs, waiting.createdAt + 10 * delayMs) }).where(eq(outbox.id, waiting.id)).run();
    return;
  }
  db.insert(outbox).values({ id: newId(), kind, payload, createdAt: now, nextAttemptAt: now + delayMs }).run();
  wakeAfter(db);
}

/** The worker's wake-up call after a commit on `db`; returns a function that removes it. */
export function onRecorded(db: Db, listener: () => void): () => void {
  const { calls } = wakeCallsOf(db);
  calls.add(listener);
  return () => calls.delete(listener);
}

/** Rows due now, oldest first (the order things happened in). */
export function dueRows(db: Db, now: number, limit: number): OutboxRow[] {
  return db.select().from(outbox).where(and(isNotNull(outbox.nextAttemptAt), lte(outbox.nextAttemptAt, now))).orderBy(asc(outbox.id)).limit(limit).all();
}

/** What the rows of `kind` not sent yet say (waiting, or failed and to be tried again). */
export function unsentOf<K extends OutboxKind>(db: Db, kind: K): Array<Omit<Extract<OutboxEvent, { kind: K }>, "kind">> {
  return db
    .select({ payload: outbox.payload })
    .from(outbox)
    .where(eq(outbox.kind, kind))
    .all()
    .map((row) => JSON.parse(row.payload) as Omit<Extract<OutboxEvent, { kind: K }>, "kind">);
}

/** When the next postponed row comes due, if any. */
export function nextDue(db: Db): number | null {
  return db.select({ at: sql<number | null>`min(${outbox.nextAttemptAt})` }).from(outbox).get()?.at ?? null;
}

/**
 * A row was sent. For a recordOnce notice, the same notices recorded before
 * its sending started are done too (they came due while a busy worker was
 * sending other rows): the send read the state after them.
 */
export function done(db: Db, row: Pick<OutboxRow, "id" | "kind" | "payload">, startedAt: number): void {
  db.delete(outbox).where(eq(outbox.id, row.id)).run();
  if (!COALESCED.has(row.kind as OutboxKind)) return;
  db.delete(outbox).where(and(eq(outbox.kind, row.kind), eq(outbox.payload, row.payload), eq(outbox.attempts, 0), lte(outbox.createdAt, startedAt))).run();
}

/**
 * Thrown by a row's sender when the row must wait (what it would send is
 * still going out from the last time): put off until `until`, not counted as
 * a failure.
 */
export class NotYet extends Error {
  readonly until: number;
  constructor(until: number) {
    super("not yet");
    this.until = until;
  }
}

/** A row put off without a failure (NotYet). */
export function postpone(db: Db, row: Pick<OutboxRow, "id">, until: number): void {
  db.update(outbox).set({ nextAttemptAt: until }).where(eq(outbox.id, row.id)).run();
}

/**
 * A row whose activities could not be built or queued: tried again later,
 * 5 s, 10 s, 20 s… up to an hour apart; after MAX_ATTEMPTS it is kept
 * without a next attempt.
 */
export function failed(db: Db, row: OutboxRow, error: unknown, now: number): void {
  const attempts = row.attempts + 1;
  const delay = Math.min(5_000 * 2 ** (attempts - 1), 3_600_000);
  db.update(outbox)
    .set({ attempts, nextAttemptAt: attempts >= MAX_ATTEMPTS ? null : now + delay, lastError: String(error instanceof Error ? error.stack ?? error.message : error).slice(0, 2000) })
    .where(eq(outbox.id, row.id))
    .run();
}
