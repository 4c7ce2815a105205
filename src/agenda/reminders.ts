// Reminders the day before: each local person who answered "going" or
// "maybe" gets one notification, pointing at the event's post (which Mastodon
// apps show with its date, place and link), and, where the instance has SMTP
// and the member asked for it, an e-mail (reminder-mail.ts).
import { and, eq, gte, inArray, isNotNull, lte, ne, or, sql } from "drizzle-orm";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { actors, events, posts, rsvps } from "../storage/schema.ts";
import { notify } from "../notifications/notifications.ts";
import { occurrencesOf, type EventRow, type Occurrence } from "./events.ts";
import { sendReminderEmails } from "./reminder-mail.ts";
import { requestBudget } from "./recurrence.ts";

export const REMINDER_AHEAD_MS = 24 * 3_600_000;
/** How often the reminders run (app.ts). */
export const REMINDER_ROUND_MS = 15 * 60_000;

export interface DueReminder {
  event: EventRow;
  post: typeof posts.$inferSelect;
  /** Occurrences starting within the next day (one, but two for a daily event). */
  occurrences: Occurrence[];
  /** Local actors who answered going or maybe. */
  actorIds: number[];
}

/** Events starting within the next day and the local people coming to them. */
export function dueReminders(db: Db, now: number): DueReminder[] {
  const horizon = now + REMINDER_AHEAD_MS;
  const candidates = db
    .select({ event: events, post: posts })
    .from(events)
    .innerJoin(posts, eq(posts.eventId, events.id))
    .where(and(ne(events.status, "cancelled"), or(and(sql`${events.rrule} is null`, gte(events.startAt, now), lte(events.startAt, horizon)), and(isNotNull(events.rrule), lte(events.startAt, horizon)))))
    .all();
  // One budget for the whole round, as for an agenda page: however many recurring events there are.
  const budget = requestBudget();
  return candidates.flatMap(({ event, post }) => {
    // Occurrences already under way were reminded the day before theirs.
    const occurrences = occurrencesOf(event, now, horizon, budget).filter((o) => o.start >= now);
    if (occurrences.length === 0) return [];
    const actorIds = db
      .select({ actorId: rsvps.actorId })
      .from(rsvps)
      .innerJoin(actors, eq(actors.id, rsvps.actorId))
      .where(and(eq(rsvps.eventId, event.id), inArray(rsvps.status, ["going", "maybe"]), eq(actors.local, true)))
      .all()
      .map((r) => r.actorId);
    return actorIds.length ? [{ event, post, occurrences, actorIds }] : [];
  });
}

/** The in-app reminders due now; returns how many people were told. */
export function sendReminders(services: Services, now = Date.now(), due = dueReminders(services.db, now)): number {
  let told = 0;
  for (const { post, actorIds } of due) {
    // One notification per person and event post (the table's unique index makes repeats no-ops).
    for (const actorId of actorIds) {
      notify(services, { recipientActorId: actorId, type: "status", fromActorId: post.actorId, postId: post.id });
      told++;
    }
  }
  return told;
}

/** The periodic job: in-app reminders first, so a mail server's trouble never holds them back. */
export async function runReminders(services: Services, now = Date.now()): Promise<{ notified: number; emailed: number }> {
  const due = dueReminders(services.db, now);
  const notified = sendReminders(services, now, due);
  const emailed = await sendReminderEmails(services, due);
  return { notified, emailed };
}
