// The outbox's worker: turns each row of `outbox` (what happened, recorded by
// domain code in the change's own transaction, src/outbox/outbox.ts) into
// activities, computing recipients now, and hands them to Fedify's persistent
// queue; the row is deleted only then. Rows are sent one at a time, oldest
// first, so a post's Create goes before its Update and Delete.
//
// Woken right after a commit that recorded a row, and on a timer for rows put
// off after a failure; at start it sends whatever a stopped process left. A
// crash after the hand-over but before the row is deleted sends the row again:
// its activity ids are the same (derived from the object or the row's id,
// activity-ids.ts), and receivers drop an activity id they already processed.
import { Create, Like, Undo } from "@fedify/vocab";
import { eq, inArray } from "drizzle-orm";
import type { Services } from "../services.ts";
import { actors, events, groups, postFlags } from "../storage/schema.ts";
import { done, dueRows, failed, nextDue, NotYet, onRecorded, postpone, type OutboxEvent, type OutboxKind, type OutboxRow } from "../outbox/outbox.ts";
import { backgroundGoingOut } from "./queue.ts";
import { findPost, type PostRow } from "../posts/posts.ts";
import { groupActor } from "../groups/groups.ts";
import { groupsOfPost } from "../groups/discussion.ts";
import { proposalStatusOf } from "../groups/proposals.ts";
import type { ActorRow } from "./actors.ts";
import { sendingRow } from "./activity-ids.ts";
import { context } from "./context.ts";
import { groupPostChanged, groupPostReacted } from "./group-relays.ts";
import * as send from "./send.ts";
import * as sendEvents from "./send-events.ts";
import * as sendTerritory from "./send-territory.ts";
import { pollUpdated, votesSent } from "./send-polls.ts";
import { sendFlag } from "./send-flags.ts";
import { sendProposalAct, sendProposalStatus } from "./send-proposals.ts";
import { relayGroupPost, unrelayGroupPost } from "./send-groups.ts";
import { membershipChanged } from "./send-membership.ts";

type Payload<K extends OutboxKind> = Omit<Extract<OutboxEvent, { kind: K }>, "kind">;
type Handlers = { [K in OutboxKind]: (services: Services, payload: Payload<K>) => Promise<void> };

function actorById(services: Services, id: number): ActorRow | undefined {
  return services.db.select().from(actors).where(eq(actors.id, id)).get();
}

/** Those of the actors still stored. */
function actorsByIds(services: Services, ids: number[]): ActorRow[] {
  return ids.map((id) => actorById(services, id)).filter((a): a is ActorRow => !!a);
}

/** A post and its author, if both are still here (a later row tells what became of it). */
function postWithAuthor(services: Services, postId: number): { post: PostRow; author: ActorRow } | null {
  const post = findPost(services.db, postId);
  const author = post && actorById(services, post.actorId);
  return post && author ? { post, author } : null;
}

function eventById(services: Services, id: number) {
  return services.db.select().from(events).where(eq(events.id, id)).get();
}

/** How long a fédération's new list of sections waits, again and again, while the last one is still going out. */
const LIST_WAIT_MS = 15_000;

/** What each kind of row sends. */
const handlers: Handlers = {
  async "post.created"(services, { postId }) {
    const found = postWithAuthor(services, postId);
    if (!found) return;
    const parent = found.post.inReplyToId ? findPost(services.db, found.post.inReplyToId) : undefined;
    await send.postCreated(services, found.post, found.author, parent);
  },
  async "post.updated"(services, { postId }) {
    const found = postWithAuthor(services, postId);
    if (!found) return;
    await send.postUpdated(services, found.post, found.author);
    const links = groupsOfPost(services.db, postId);
    if (links.length) await groupPostChanged(services, links, found.post, found.author, send.updateOf(services, found.post, found.author));
  },
  async "post.deleted"(services, { post, mentionedIds, groupIds }) {
    const author = actorById(services, post.actorId);
    if (!author) return;
    await send.postDeleted(services, post, author, mentionedIds);
    const inGroups = groupIds.length ? services.db.select().from(groups).where(inArray(groups.id, groupIds)).all() : [];
    if (inGroups.length) await groupPostChanged(services, inGroups.map((group) => ({ group })), post, author, send.deleteOf(services, post, author, mentionedIds));
  },
  async "post.liked"(services, { likeUri, actorId, postId }) {
    const post = findPost(services.db, postId);
    const actor = actorById(services, actorId);
    if (!post || !actor) return;
    const like: Like = await send.liked(services, likeUri, actor, post);
    // A post of one of our groups: the group relays its member's like.
    await groupPostReacted(services, post, actor, like);
  },
  async "post.unliked"(services, { likeUri, actorId, postId }) {
    const post = findPost(services.db, postId);
    const actor = actorById(services, actorId);
    if (!post || !actor) return;
    const undo: Undo = await send.unliked(services, likeUri, actor, post);
    await groupPostReacted(services, post, actor, undo, true);
  },
  async "post.boosted"(services, { reblogId }) {
    const reblog = findPost(services.db, reblogId);
    const original = reblog?.reblogOfId ? findPost(services.db, reblog.reblogOfId) : undefined;
    const actor = reblog && actorById(services, reblog.actorId);
    if (reblog && original && actor) await send.announced(services, reblog, actor, original);
  },
  async "post.unboosted"(services, { reblog }) {
    const original = reblog.reblogOfId ? findPost(services.db, reblog.reblogOfId) : undefined;
    const actor = actorById(services, reblog.actorId);
    if (original && actor) await send.unannounced(services, reblog, actor, original);
  },
  async "group.post.accepted"(services, { groupId, postId, received }) {
    const group = services.db.select().from(groups).where(eq(groups.id, groupId)).get();
    const actor = group && groupActor(services.db, group);
    const found = postWithAuthor(services, postId);
    if (!group || !actor || !found) return;
    const ctx = context(services);
    const activity = received ? await Create.fromJsonLd(received, { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader }) : undefined;
    await relayGroupPost(services, group, actor, found.post, found.author, activity);
  },
  async "profile.updated"(services, { actorId }) {
    const actor = actorById(services, actorId);
    if (actor?.local) await send.profileUpdated(services, actor);
  },
  async "membership.changed"(services, { actorId }) {
    const actor = actorById(services, actorId);
    if (actor?.local) await membershipChanged(services, actor);
  },
  async "follow.requested"(services, { followUri, followerId, targetId }) {
    const follower = actorById(services, followerId);
    const target = actorById(services, targetId);
    if (follower && target) await send.followRequested(services, followUri, follower, target);
  },
  async "follow.undone"(services, { followUri, followerId, targetId }) {
    const follower = actorById(services, followerId);
    const target = actorById(services, targetId);
    if (follower && target) await send.followUndone(services, followUri, follower, target);
  },
  async "follow.answered"(services, { accepted, followUri, followerId, targetId }) {
    const follower = actorById(services, followerId);
    const target = actorById(services, targetId);
    if (follower && target) await send.followAnswered(services, accepted, followUri, follower, target);
  },
  async "event.created"(services, { eventId }) {
    const event = eventById(services, eventId);
    if (event) await sendEvents.eventPublished(services, event);
  },
  async "event.updated"(services, { eventId }) {
    const event = eventById(services, eventId);
    if (event) await sendEvents.eventUpdated(services, event);
  },
  async "rsvp.answered"(services, { eventId, attendeeId, rsvpUri, accepted }) {
    const event = eventById(services, eventId);
    const attendee = actorById(services, attendeeId);
    if (event && attendee) await sendEvents.joinAnswered(services, event, attendee, rsvpUri, accepted);
  },
  async "rsvp.sent"(services, { eventId, actorId, answer, uri }) {
    const event = eventById(services, eventId);
    const me = actorById(services, actorId);
    const organiser = event && actorById(services, event.actorId);
    if (event && me && organiser) await sendEvents.answerSent(services, event, organiser, me, answer, uri);
  },
  async "poll.updated"(services, { postId }) {
    const found = postWithAuthor(services, postId);
    if (found) await pollUpdated(services, found.post, found.author);
  },
  async "poll.voted"(services, { voterId, postId, votes }) {
    const found = postWithAuthor(services, postId);
    const voter = actorById(services, voterId);
    if (found && voter && !found.author.local) await votesSent(services, voter, found.author, found.post, votes);
  },
  async "group.post.removed"(services, { groupId, postIds }) {
    const group = services.db.select().from(groups).where(eq(groups.id, groupId)).get();
    const actor = group && groupActor(services.db, group);
    if (!group || !actor) return;
    for (const id of postIds) {
      const post = findPost(services.db, id);
      if (post) await unrelayGroupPost(services, group, actor, post);
    }
  },
  async "flag.created"(services, { flagId }) {
    const flag = services.db.select().from(postFlags).where(eq(postFlags.id, flagId)).get();
    const found = flag?.postId != null ? postWithAuthor(services, flag.postId) : null;
    if (!flag || !found) return;
    const remoteGroups = groupsOfPost(services.db, found.post.id)
      .filter((l) => !l.group.local)
      .map((l) => groupActor(services.db, l.group))
      .filter((a): a is ActorRow => !!a);
    await sendFlag(services, { uri: flag.uri, author: found.author, post: found.post, comment: flag.comment, groups: remoteGroups });
  },
  async "proposal.act"(services, { actorId, groupActorId, postId, act, uri }) {
    const member = actorById(services, actorId);
    const group = actorById(services, groupActorId);
    const post = findPost(services.db, postId);
    if (member && group && post) await sendProposalAct(services, member, group, post, act, uri);
  },
  async "territory.up"(services, { type, object }) {
    await sendTerritory.sendUp(services, type, object);
  },
  async "territory.down"(services, { type, object, only }) {
    const children = only && actorsByIds(services, only);
    if (!children || children.length) await sendTerritory.sendDown(services, type, object, children);
  },
  async "territory.relayed"(services, { childId, activity }) {
    const child = actorById(services, childId);
    if (child) await sendTerritory.relay(services, "down", activity, [child]);
  },
  async "territory.acknowledged"(services, { type, reportUri, sectionId }) {
    const section = actorById(services, sectionId);
    if (section && !section.local) await sendTerritory.acknowledged(services, type, reportUri, section);
  },
  async "territory.oversight.requested"(services, { childId, followUri }) {
    const child = actorById(services, childId);
    if (child) await sendTerritory.oversightRequested(services, child, followUri);
  },
  async "territory.oversight.answered"(services, { accepted, followUri, parentId }) {
    const parent = actorById(services, parentId);
    if (parent) await sendTerritory.oversightAnswered(services, accepted, followUri, parent);
  },
  async "territory.sections.changed"(services) {
    // One list at a time: while the last one is still going out (hundreds of deliveries
    // on a host linking its sections), the next waits, and then says the state of then.
    if (backgroundGoingOut(services.db.$client, sendTerritory.LANES.sections)) throw new NotYet(Date.now() + LIST_WAIT_MS);
    await sendTerritory.sectionsChanged(services);
  },
  async "account.moved"(services, { actorId, targetId }) {
    const actor = actorById(services, actorId);
    const target = actorById(services, targetId);
    if (actor?.local && target) await send.accountMoved(services, actor, target);
  },
  async "account.deleted"(services, { actorId }) {
    const actor = actorById(services, actorId);
    if (actor?.local && actor.deletedAt) await send.accountDeleted(services, actor);
  },
  async "party.directory.changed"(services, { only }) {
    await sendTerritory.directoryChanged(services, only && actorsByIds(services, only));
  },
  async "proposal.changed"(services, { proposalId }) {
    const status = proposalStatusOf(services.db, proposalId);
    if (status) await sendProposalStatus(services, status.actor, status);
  },
};

/** Sends one row: its activities are in Fedify's queue when this returns. */
export function sendRow(services: Services, row: OutboxRow): Promise<void> {
  const handler = handlers[row.kind as OutboxKind] as ((services: Services, payload: unknown) => Promise<void>) | undefined;
  if (!handler) throw new Error(`unknown outbox kind ${row.kind}`);
  return sendingRow(row.id, () => handler(services, JSON.parse(row.payload)));
}

/** Rows read at a time; the next batch is read as soon as one is done. */
const BATCH = 100;
/** Leftovers are looked for this often even without a wake-up (e.g. rows a CLI command recorded). */
const SWEEP_MS = 60_000;

/**
 * Starts sending the outbox: at once (what a stopped process left), after
 * every commit that records a row, and when a postponed row comes due.
 * Returns a function that stops it and resolves when the current row is done.
 */
export function startOutboxWorker(services: Services): () => Promise<void> {
  const { db, log } = services;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;

  async function drain(): Promise<void> {
    do {
      again = false;
      for (;;) {
        const rows = dueRows(db, Date.now(), BATCH);
        if (rows.length === 0 || stopped) break;
        for (const row of rows) {
          if (stopped) return;
          try {
            const startedAt = Date.now();
            await sendRow(services, row);
            done(db, row, startedAt);
          } catch (error) {
            if (error instanceof NotYet) {
              postpone(db, row, error.until);
              continue;
            }
            log.warn({ err: error, outbox: row.id, kind: row.kind, attempts: row.attempts + 1 }, "outbox: row not sent, will retry");
            failed(db, row, error, Date.now());
          }
        }
      }
    } while (again && !stopped);
    schedule();
  }

  /** A timer for the next postponed row (never a busy loop: failed rows are put off). */
  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stopped) return;
    const at = nextDue(db);
    const delay = Math.max(0, Math.min((at ?? Infinity) - Date.now(), SWEEP_MS));
    timer = setTimeout(wake, delay);
    timer.unref();
  }

  function wake(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain()
      .catch((error) => log.error({ err: error }, "outbox: worker failed"))
      .finally(() => {
        running = null;
        if (again) wake();
      });
  }

  const unsubscribe = onRecorded(services.db, wake);
  wake();
  return async () => {
    stopped = true;
    unsubscribe();
    if (timer) clearTimeout(timer);
    await running;
  };
}
