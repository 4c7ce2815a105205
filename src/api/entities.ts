// Coopol's own JSON entities (for /api/coopol/v1), in one place. Accounts
// reuse the Mastodon entity, so clients need one account shape only.
import { inArray } from "drizzle-orm";
import type { Services } from "../services.ts";
import { actors } from "../storage/schema.ts";
import type { User } from "../members/members.ts";
import type { EventRow, Occurrence } from "../agenda/events.ts";
import { eventAttachmentsOf, type EventAttachment } from "../agenda/attachments.ts";
import { countsOf, remainingCapacity, rsvpsOf, type RsvpRow } from "../agenda/rsvp.ts";
import { eventGroupIdsOf } from "../agenda/audiences.ts";
import { renderAccount, type MastoAccount } from "../mastodon/entities.ts";
import { firstSafeUrl, safeUrl } from "../safe-url.ts";

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

export function renderEvent(services: Services, viewer: User | null, event: EventRow) {
  return renderEvents(services, viewer, [event])[0]!;
}

/** Events as the API shows them, with what each needs read in one query per kind (an agenda lists hundreds). */
export function renderEvents(services: Services, viewer: User | null, list: EventRow[]) {
  const { db } = services;
  if (list.length === 0) return [];
  const ids = list.map((e) => e.id);
  const organisers = new Map(
    db
      .select()
      .from(actors)
      .where(inArray(actors.id, [...new Set(list.map((e) => e.actorId))]))
      .all()
      .map((a) => [a.id, { row: a, account: renderAccount(services, a) as MastoAccount }]),
  );
  const tallies = countsOf(db, ids);
  const mine = viewer ? rsvpsOf(db, ids, viewer.actorId) : new Map<number, RsvpRow>();
  const groups = eventGroupIdsOf(db, ids);
  const attachments = eventAttachmentsOf(db, services.config.origin, ids);
  return list.map((event) => {
    const organiser = organisers.get(event.actorId)!;
    const tally = tallies.get(event.id)!;
    return {
      id: String(event.id),
      uri: event.uri,
      url: firstSafeUrl(event.url, event.uri) ?? `${services.config.origin}/events/${event.id}`,
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
      online_url: safeUrl(event.onlineUrl),
      category: event.category,
      capacity: event.capacity,
      remaining: remainingCapacity(db, event, tally.going),
      audience: event.audience,
      groups: (groups.get(event.id) ?? []).map(String),
      join_mode: event.joinMode,
      status: event.status,
      rrule: event.rrule,
      agenda: JSON.parse(event.agenda) as string[],
      attachments: (attachments.get(event.id) ?? []).map(renderAttachment),
      minutes: event.minutes,
      organiser: organiser.account,
      local: organiser.row.local,
      counts: { going: organiser.row.local ? tally.going : (event.remoteParticipants ?? tally.going), maybe: tally.maybe, waiting: tally.waiting, pending: tally.pending },
      my_rsvp: mine.get(event.id)?.status ?? null,
      sequence: event.sequence,
      ics_url: `${services.config.origin}/events/${event.id}.ics`,
    };
  });
}

export function renderAttachment(a: EventAttachment) {
  return { id: String(a.id), kind: a.kind, url: a.url, name: a.name, media_type: a.mediaType };
}

/** Occurrences of an agenda: each event rendered once, however many of its dates are listed (a daily event, 30 a month). */
export function renderOccurrences(services: Services, viewer: User | null, occurrences: Occurrence[]) {
  const unique = [...new Map(occurrences.map((o) => [o.event.id, o.event])).values()];
  const rendered = new Map(renderEvents(services, viewer, unique).map((e, i) => [unique[i]!.id, e]));
  return occurrences.map((o) => ({ start: iso(o.start)!, end: iso(o.end), event: rendered.get(o.event.id)! }));
}

export function renderRsvp(services: Services, row: RsvpRow, actor: typeof actors.$inferSelect) {
  return { account: renderAccount(services, actor), status: row.status, attended: row.attended, created_at: iso(row.createdAt)! };
}
