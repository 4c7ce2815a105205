// Reminders the day before: each local person who answered "going" or
// "maybe" gets one notification, pointing at the event's post (which Mastodon
// apps show with its date, place and link).
import { and, eq, gte, inArray, isNotNull, lte, ne, or, sql } from "drizzle-orm";
import type { Services } from "../services.ts";
import { actors, events, posts, rsvps } from "../storage/schema.ts";
import { notify } from "../notifications/notifications.ts";
import { occurrencesOf } from "./events.ts";

export const REMINDER_AHEAD_MS = 24 * 3_600_000;

/** Sends the reminders due now; returns how many people were told. */
export function sendReminders(services: Services, now = Date.now()): number {
  const { db } = services;
  const horizon = now + REMINDER_AHEAD_MS;
  const candidates = db
    .select({ event: events, post: posts })
    .from(events)
    .innerJoin(posts, eq(posts.eventId, events.id))
    .where(and(ne(events.status, "cancelled"), or(and(sql`${events.rrule} is null`, gte(events.startAt, now), lte(events.startAt, horizon)), and(isNotNull(events.rrule), lte(events.startAt, horizon)))))
    .all();
  let told = 0;
  for (const { event, post } of candidates) {
    if (occurrencesOf(event, now, horizon).length === 0) continue;
    const people = db
      .select({ actorId: rsvps.actorId })
      .from(rsvps)
      .innerJoin(actors, eq(actors.id, rsvps.actorId))
      .where(and(eq(rsvps.eventId, event.id), inArray(rsvps.status, ["going", "maybe"]), eq(actors.local, true)))
      .all();
    // One notification per person and event post (the table's unique index makes repeats no-ops).
    for (const { actorId } of people) {
      notify(services, { recipientActorId: actorId, type: "status", fromActorId: post.actorId, postId: post.id });
      told++;
    }
  }
  return told;
}
