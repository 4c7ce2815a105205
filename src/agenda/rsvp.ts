// Answers to events ("je viens", "peut-être", "je ne viens pas"), with the
// capacity, the waiting list and the organiser's approval. The organiser's
// server is the reference: remote attendees' answers arrive as Join,
// TentativeAccept and Leave, and are answered with Accept or Reject. Those who
// manage a local event are told of each answer on their notifications page.
import { and, asc, count, eq, inArray } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { User } from "../members/members.ts";
import { viewerOf } from "../posts/posts.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { actors, events, rsvps, type NotificationType, type RsvpStatus } from "../storage/schema.ts";
import type { ActorRow } from "../federation/actors.ts";
import { record } from "../outbox/outbox.ts";
import { notify } from "../notifications/notifications.ts";
import { canEditEvent, eventManagerIds, getVisibleEvent, type EventRow } from "./events.ts";

export type RsvpRow = typeof rsvps.$inferSelect;
export type Answer = "going" | "maybe" | "not_going";

export function rsvpOf(db: Db, eventId: number, actorId: number): RsvpRow | undefined {
  return rsvpsOf(db, [eventId], actorId).get(eventId);
}

/** One actor's answers to several events, in one query (an agenda page lists hundreds). */
export function rsvpsOf(db: Db, eventIds: number[], actorId: number): Map<number, RsvpRow> {
  return new Map(db.select().from(rsvps).where(and(inArray(rsvps.eventId, eventIds), eq(rsvps.actorId, actorId))).all().map((r) => [r.eventId, r]));
}

export function counts(db: Db, eventId: number): Record<RsvpStatus, number> {
  return countsOf(db, [eventId]).get(eventId)!;
}

/** Answers per status of several events, in one query. */
export function countsOf(db: Db, eventIds: number[]): Map<number, Record<RsvpStatus, number>> {
  const out = new Map(eventIds.map((id) => [id, { going: 0, maybe: 0, not_going: 0, waiting: 0, pending: 0, rejected: 0 } as Record<RsvpStatus, number>]));
  const rows = db.select({ eventId: rsvps.eventId, status: rsvps.status, n: count() }).from(rsvps).where(inArray(rsvps.eventId, eventIds)).groupBy(rsvps.eventId, rsvps.status).all();
  for (const row of rows) out.get(row.eventId)![row.status] = row.n;
  return out;
}

export function remainingCapacity(db: Db, event: EventRow, going = event.capacity == null ? 0 : counts(db, event.id).going): number | null {
  return event.capacity == null ? null : Math.max(event.capacity - going, 0);
}

function upsert(db: Db, eventId: number, actorId: number, status: RsvpStatus, uri: string | null): RsvpRow {
  const now = Date.now();
  return db
    .insert(rsvps)
    .values({ id: newId(), eventId, actorId, status, uri, updatedAt: now })
    .onConflictDoUpdate({ target: [rsvps.eventId, rsvps.actorId], set: { status, uri: uri ?? undefined, updatedAt: now } })
    .returning()
    .get();
}

/**
 * The organiser's side: records an answer of a local or remote actor to a
 * local event, applying capacity and approval, and tells remote attendees.
 */
export async function answerLocalEvent(services: Services, event: EventRow, actor: ActorRow, answer: Answer, uri: string | null = null): Promise<RsvpRow> {
  const { db } = services;
  if (event.status === "cancelled" && answer !== "not_going") throw new UserError("event_cancelled", 422);
  const previous = rsvpOf(db, event.id, actor.id);
  if (answer !== "not_going" && event.joinMode === "invite" && !previous && event.actorId !== actor.id) throw new UserError("event_invite_only", 403);
  let status: RsvpStatus;
  if (answer === "not_going") status = "not_going";
  else if (answer === "maybe") status = "maybe";
  else if (previous?.status === "going") status = "going";
  else if (event.joinMode === "approval" && previous?.status !== "waiting") status = "pending";
  else if (event.capacity != null && counts(db, event.id).going >= event.capacity) status = "waiting";
  else status = "going";
  const row = db.transaction((tx) => {
    const row = upsert(tx, event.id, actor.id, status, uri ?? previous?.uri ?? null);
    if (status === "going" && previous?.status !== "going") joinAnswered(tx, event, actor, row, true);
    return row;
  });
  tellManagers(services, event, actor.id, previous?.status, status);
  if (previous?.status === "going" && status !== "going") await promoteWaiting(services, event);
  return row;
}

/** The organiser's answer to a remote attendee's Join, sent through the outbox (call it in the change's transaction). */
function joinAnswered(db: Db, event: EventRow, attendee: ActorRow, rsvp: RsvpRow, accepted: boolean): void {
  if (!attendee.local && rsvp.uri) record(db, { kind: "rsvp.answered", eventId: event.id, attendeeId: attendee.id, rsvpUri: rsvp.uri, accepted });
}

/** What the event's managers are told of a change of answer, if anything ("maybe" and refusals are not news). */
function rsvpNotification(previous: RsvpStatus | undefined, status: RsvpStatus): NotificationType | null {
  if (previous === status) return null;
  if (status === "pending" || status === "going" || status === "waiting") return `coopol.rsvp.${status}`;
  if (status === "not_going" && previous && previous !== "rejected") return "coopol.rsvp.not_going";
  return null;
}

/**
 * Tells the local accounts who manage a local event that someone answered it
 * (a request to accept or refuse, coming, no longer coming, on the waiting list);
 * never the person about their own answer. A new answer replaces the last notification.
 */
function tellManagers(services: Services, event: EventRow, fromActorId: number, previous: RsvpStatus | undefined, status: RsvpStatus): void {
  const type = rsvpNotification(previous, status);
  if (!type) return;
  for (const recipientActorId of eventManagerIds(services, event)) notify(services, { recipientActorId, type, fromActorId, eventId: event.id });
}

/** When a seat frees up, the first person on the waiting list gets it. */
async function promoteWaiting(services: Services, event: EventRow): Promise<void> {
  const { db } = services;
  if (event.capacity == null) return;
  let free = event.capacity - counts(db, event.id).going;
  if (free <= 0) return;
  const waiting = db.select().from(rsvps).where(and(eq(rsvps.eventId, event.id), eq(rsvps.status, "waiting"))).orderBy(asc(rsvps.createdAt), asc(rsvps.id)).limit(free).all();
  for (const row of waiting) {
    if (free-- <= 0) break;
    const actor = db.select().from(actors).where(eq(actors.id, row.actorId)).get()!;
    db.transaction((tx) => {
      const promoted = tx.update(rsvps).set({ status: "going", updatedAt: Date.now() }).where(eq(rsvps.id, row.id)).returning().get();
      joinAnswered(tx, event, actor, promoted, true);
    });
    tellManagers(services, event, row.actorId, "waiting", "going");
  }
}

/** A member answers an event, on this instance or another one. */
export async function respond(services: Services, user: User, eventId: number, answer: Answer): Promise<RsvpRow> {
  const { db } = services;
  const event = getVisibleEvent(db, viewerOf(user), eventId);
  const me = db.select().from(actors).where(eq(actors.id, user.actorId)).get()!;
  const organiser = db.select().from(actors).where(eq(actors.id, event.actorId)).get()!;
  if (organiser.local) return answerLocalEvent(services, event, me, answer);
  // A remote event: our copy says what we asked; the organiser's server decides.
  if (event.status === "cancelled" && answer !== "not_going") throw new UserError("event_cancelled", 422);
  const previous = rsvpOf(db, event.id, me.id);
  const uri = `${me.uri}#rsvp/${newId()}`;
  const status: RsvpStatus = answer === "not_going" ? "not_going" : answer === "maybe" ? "maybe" : previous?.status === "going" ? "going" : "pending";
  return db.transaction((tx) => {
    const row = upsert(tx, event.id, me.id, status, answer === "not_going" ? previous?.uri ?? null : uri);
    record(tx, { kind: "rsvp.sent", eventId: event.id, actorId: me.id, answer, uri: answer === "not_going" ? (previous?.uri ?? uri) : uri });
    return row;
  });
}

/** The organiser accepts or refuses a request (approval mode). */
export async function decide(services: Services, user: User, eventId: number, actorId: number, accept: boolean): Promise<RsvpRow> {
  const { db } = services;
  const event = db.select().from(events).where(eq(events.id, eventId)).get();
  if (!event || !canEditEvent(services, user, event)) throw new UserError("event_not_found", 404);
  const row = rsvpOf(db, eventId, actorId);
  if (!row || row.status !== "pending") throw new UserError("rsvp_not_found", 404);
  const actor = db.select().from(actors).where(eq(actors.id, actorId)).get()!;
  if (!accept) {
    return db.transaction((tx) => {
      const refused = tx.update(rsvps).set({ status: "rejected", updatedAt: Date.now() }).where(eq(rsvps.id, row.id)).returning().get();
      joinAnswered(tx, event, actor, refused, false);
      return refused;
    });
  }
  const full = event.capacity != null && counts(db, event.id).going >= event.capacity;
  const status: RsvpStatus = full ? "waiting" : "going";
  return db.transaction((tx) => {
    const accepted = tx.update(rsvps).set({ status, updatedAt: Date.now() }).where(eq(rsvps.id, row.id)).returning().get();
    if (status === "going") joinAnswered(tx, event, actor, accepted, true);
    return accepted;
  });
}

/** The attendee list with each person's actor, for the organiser. */
export function attendees(db: Db, eventId: number) {
  return db
    .select({ rsvp: rsvps, actor: actors })
    .from(rsvps)
    .innerJoin(actors, eq(actors.id, rsvps.actorId))
    .where(and(eq(rsvps.eventId, eventId), inArray(rsvps.status, ["going", "maybe", "waiting", "pending"])))
    .orderBy(asc(rsvps.createdAt))
    .all();
}

/** The organiser's answer to our request arrived (Accept or Reject of our Join). */
export function answerReceived(db: Db, joinUri: string, organiserId: number, accepted: boolean): void {
  const row = db.select({ rsvp: rsvps, organiser: events.actorId }).from(rsvps).innerJoin(events, eq(events.id, rsvps.eventId)).where(eq(rsvps.uri, joinUri)).get();
  if (!row || row.organiser !== organiserId) return;
  db.update(rsvps).set({ status: accepted ? "going" : "rejected", updatedAt: Date.now() }).where(eq(rsvps.id, row.rsvp.id)).run();
}
