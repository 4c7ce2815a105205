// Coopol's own JSON entities (for /api/coopol/v1), in one place. Accounts
// reuse the Mastodon entity, so clients need one account shape only.
import { eq } from "drizzle-orm";
import type { Services } from "../services.ts";
import { actors } from "../storage/schema.ts";
import type { User } from "../members/members.ts";
import type { EventRow, Occurrence } from "../agenda/events.ts";
import { eventAttachments, type EventAttachment } from "../agenda/attachments.ts";
import { counts, remainingCapacity, rsvpOf, type RsvpRow } from "../agenda/rsvp.ts";
import { eventGroupIds } from "../agenda/audiences.ts";
import { renderAccount, type MastoAccount } from "../mastodon/entities.ts";

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

export function renderEvent(services: Services, viewer: User | null, event: EventRow) {
  const { db } = services;
  const organiser = db.select().from(actors).where(eq(actors.id, event.actorId)).get()!;
  const tally = counts(db, event.id);
  const mine = viewer ? rsvpOf(db, event.id, viewer.actorId) : undefined;
  return {
    id: String(event.id),
    uri: event.uri,
    url: event.url ?? event.uri,
    title: event.title,
    description: event.description,
    start: iso(event.startAt)!,
    end: iso(event.endAt),
    timezone: event.timezone,
    place: {
      name: event.placeName,
      street: event.street,
      postal_code: event.postalCode,
      locality: event.locality,
      latitude: event.latitude,
      longitude: event.longitude,
    },
    online_url: event.onlineUrl,
    category: event.category,
    capacity: event.capacity,
    remaining: remainingCapacity(db, event),
    audience: event.audience,
    groups: eventGroupIds(db, event.id).map(String),
    join_mode: event.joinMode,
    status: event.status,
    rrule: event.rrule,
    agenda: JSON.parse(event.agenda) as string[],
    attachments: eventAttachments(db, services.config.origin, event.id).map(renderAttachment),
    minutes: event.minutes,
    organiser: renderAccount(services, organiser) as MastoAccount,
    local: organiser.local,
    counts: { going: organiser.local ? tally.going : (event.remoteParticipants ?? tally.going), maybe: tally.maybe, waiting: tally.waiting, pending: tally.pending },
    my_rsvp: mine ? mine.status : null,
    sequence: event.sequence,
    ics_url: `${services.config.origin}/events/${event.id}.ics`,
  };
}

export function renderAttachment(a: EventAttachment) {
  return { id: String(a.id), kind: a.kind, url: a.url, name: a.name, media_type: a.mediaType };
}

/** Occurrences of an agenda: each event rendered once, however many of its dates are listed (a daily event, 30 a month). */
export function renderOccurrences(services: Services, viewer: User | null, occurrences: Occurrence[]) {
  const events = new Map<number, ReturnType<typeof renderEvent>>();
  return occurrences.map((o) => {
    let event = events.get(o.event.id);
    if (!event) events.set(o.event.id, (event = renderEvent(services, viewer, o.event)));
    return { start: iso(o.start)!, end: iso(o.end), event };
  });
}

export function renderRsvp(services: Services, row: RsvpRow, actor: typeof actors.$inferSelect) {
  return { account: renderAccount(services, actor), status: row.status, attended: row.attended, created_at: iso(row.createdAt)! };
}
