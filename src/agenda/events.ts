// Events: meetings, debates, field actions… created by members (for
// themselves) or by the section's managers (for the section), and received
// from other servers. Who may see one follows the same rule as posts.
import { and, asc, eq, gte, inArray, isNotNull, lte, or, sql, type SQL } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { dateFormat, isTimezone } from "../dates.ts";
import { actorOf, canManageMembers, isCardHolder, memberManagerActorIds, type User } from "../members/members.ts";
import { formatText } from "../posts/content.ts";
import type { Viewer } from "../posts/visibility.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { findLocalActor } from "../federation/actors.ts";
import {
  actors,
  EVENT_AUDIENCES,
  EVENT_CATEGORIES,
  EVENT_STATUSES,
  events,
  JOIN_MODES,
  posts,
  users,
  rsvps,
  type EventAudience,
  type EventCategory,
  type EventStatus,
  type JoinMode,
} from "../storage/schema.ts";
import { tagUrl } from "../federation/convert.ts";
import { record } from "../outbox/outbox.ts";
import { createLocalPost, editLocalPost } from "../posts/posts.ts";
import { checkAttachments, setEventAttachments, type AttachmentInput } from "./attachments.ts";
import { canSeeEvent, checkedGroups, eventGroupIds, eventsOfGroup, eventsVisibleTo, organisingGroup, setEventGroups } from "./audiences.ts";
import { linkedParent } from "../territory/links.ts";
import { groupModeratorIds, groupOfActor } from "../groups/groups.ts";
import { safeUrl } from "../safe-url.ts";
import { inDateRange, validLatitude, validLongitude } from "../bounds.ts";
import { floatingDates, normalRule, recurrenceProblem, requestBudget, type Budget } from "./recurrence.ts";

export { canSeeEvent, eventsVisibleTo };

export type EventRow = typeof events.$inferSelect;

export interface EventInput {
  title: string;
  description?: string;
  startAt: number;
  endAt?: number | null;
  timezone?: string;
  placeName?: string | null;
  street?: string | null;
  postalCode?: string | null;
  locality?: string | null;
  latitude?: number | null;
  longitude?: number | null;
  onlineUrl?: string | null;
  category?: EventCategory;
  capacity?: number | null;
  audience?: EventAudience;
  joinMode?: JoinMode;
  status?: EventStatus;
  rrule?: string | null;
  agenda?: string[];
  /** Files and links, in order; left out, an edit keeps those the event has. */
  attachments?: AttachmentInput[];
  /** Organised by the section (its Group actor) rather than by the member. */
  forSection?: boolean;
  /** Organised by this local group (its actor), by one of its moderators. */
  forGroup?: number | null;
  /** Audience "groups": the local groups it is for (ids). */
  groups?: number[];
}

/** Checks and normalises what a member typed; throws the first problem in plain words. */
function checked(input: EventInput): Omit<EventInput, "forSection" | "forGroup"> & { agenda: string[] } {
  const title = input.title?.trim() ?? "";
  if (!title) throw new UserError("event_title_missing", 422);
  if (title.length > 200) throw new UserError("event_title_too_long", 422);
  if (!Number.isFinite(input.startAt)) throw new UserError("event_start_invalid", 422);
  if (input.endAt != null && (!Number.isFinite(input.endAt) || input.endAt < input.startAt)) throw new UserError("event_end_before_start", 422);
  if (!inDateRange(input.startAt) || !inDateRange(input.endAt)) throw new UserError("event_date_out_of_range", 422);
  if (!validLatitude(input.latitude) || !validLongitude(input.longitude)) throw new UserError("event_coordinates_invalid", 422);
  const timezone = input.timezone?.trim() || "Europe/Paris";
  if (!isTimezone(timezone)) throw new UserError("event_timezone_invalid", 422, { timezone });
  if (input.capacity != null && (!Number.isSafeInteger(input.capacity) || input.capacity < 1)) throw new UserError("event_capacity_invalid", 422);
  if (input.category && !EVENT_CATEGORIES.includes(input.category)) throw new UserError("event_category_invalid", 422);
  if (input.audience && !EVENT_AUDIENCES.includes(input.audience)) throw new UserError("event_audience_invalid", 422);
  if (input.joinMode && !JOIN_MODES.includes(input.joinMode)) throw new UserError("event_join_mode_invalid", 422);
  if (input.status && !EVENT_STATUSES.includes(input.status)) throw new UserError("event_status_invalid", 422);
  if (input.onlineUrl?.trim() && !safeUrl(input.onlineUrl)) throw new UserError("event_online_url_invalid", 422);
  const rrule = normalRule(input.rrule);
  const problem = rrule ? recurrenceProblem(rrule) : null;
  if (problem) throw new UserError(problem, 422);
  const agenda = (input.agenda ?? []).map((item) => item.trim()).filter(Boolean).slice(0, 50);
  return { ...input, title, timezone, rrule, agenda };
}

/** The section's own Group actor. */
export function sectionActor(services: Services) {
  return findLocalActor(services.db, services.config.handle)!;
}

/** The columns an organiser sets, the same for a new event and an edit. */
function columnsOf(origin: string, data: ReturnType<typeof checked>) {
  const description = data.description?.trim() ?? "";
  return {
    title: data.title,
    description: description ? formatText(description, { mentionUrl: () => null, tagUrl: (tag) => tagUrl(origin, tag) }) : "",
    source: description,
    startAt: data.startAt,
    endAt: data.endAt ?? null,
    timezone: data.timezone!,
    placeName: data.placeName?.trim() || null,
    street: data.street?.trim() || null,
    postalCode: data.postalCode?.trim() || null,
    locality: data.locality?.trim() || null,
    latitude: data.latitude ?? null,
    longitude: data.longitude ?? null,
    onlineUrl: data.onlineUrl?.trim() || null,
    capacity: data.capacity ?? null,
    rrule: data.rrule,
    agenda: JSON.stringify(data.agenda),
  };
}

/** Who may use the new audiences: groups they belong to; the fédération when this section has one. */
function checkAudience(services: Services, user: User, audience: EventAudience, group: ReturnType<typeof organisingGroup> | null, groupIds: number[] | undefined): number[] {
  const { db, config } = services;
  if (group && audience === "public" && group.group.visibility === "members") throw new UserError("event_group_members_only", 422);
  if (audience === "section" && !isCardHolder(user.role)) throw new UserError("visibility_forbidden", 403);
  if (audience === "federation") {
    if (!isCardHolder(user.role)) throw new UserError("visibility_forbidden", 403);
    if (config.kind !== "section" || !config.parent || !linkedParent(db)) throw new UserError("event_no_federation", 422);
  }
  return audience === "groups" ? checkedGroups(db, user, groupIds ?? [], group?.group) : [];
}

export async function createEvent(services: Services, user: User, input: EventInput): Promise<EventRow> {
  const { db, config } = services;
  const data = checked(input);
  if (input.forSection && !canManageMembers(user.role)) throw new UserError("error.forbidden", 403);
  const group = input.forGroup != null && !input.forSection ? organisingGroup(db, user, input.forGroup) : null;
  const audience = data.audience ?? "public";
  const groupIds = checkAudience(services, user, audience, group, data.groups);
  const organiser = input.forSection ? sectionActor(services) : group ? group.actor : actorOf(db, user);
  if (input.attachments) checkAttachments(db, user.actorId, null, input.attachments);
  const id = newId();
  const row = db.transaction((tx) => {
    const row = tx
      .insert(events)
      .values({
        id,
        uri: `${config.origin}/events/${id}`,
        url: `${config.origin}/events/${id}`,
        actorId: organiser.id,
        ...columnsOf(config.origin, data),
        category: data.category ?? "other",
        audience,
        joinMode: data.joinMode ?? "open",
        status: data.status ?? "confirmed",
      })
      .returning()
      .get();
    if (groupIds.length) setEventGroups(tx, row.id, groupIds);
    if (input.attachments) setEventAttachments(tx, row.id, user.actorId, input.attachments);
    record(tx, { kind: "event.created", eventId: row.id });
    return row;
  });
  // The post Mastodon apps show: public, or section-only for the section's and the fédération's
  // events. An event for groups gets none: its members see it in the agendas, nowhere else.
  if (row.audience !== "groups") await createLocalPost(services, user, { text: eventPostText(services, row), visibility: row.audience === "public" ? "public" : "section", eventId: row.id });
  return row;
}

/**
 * What Mastodon apps show of an event: a post with its date, place and link,
 * kept up to date with the event. It stays on this instance (other servers get the Event).
 */
export function eventPostText(services: Services, event: EventRow): string {
  const when = dateFormat("fr-FR", { dateStyle: "full", timeStyle: "short", timeZone: event.timezone }).format(event.startAt);
  const place = [event.placeName, event.locality].filter(Boolean).join(", ");
  const status = event.status === "cancelled" ? "❌ ANNULÉ — " : event.status === "tentative" ? "(à confirmer) " : "";
  return `📅 ${status}${event.title}\n${when}${place ? ` — ${place}` : ""}${event.onlineUrl ? ` — en ligne` : ""}\n${services.config.origin}/events/${event.id}`;
}

async function refreshEventPost(services: Services, event: EventRow): Promise<void> {
  const { db } = services;
  const post = db.select().from(posts).where(eq(posts.eventId, event.id)).get();
  const author = post ? db.select().from(users).where(eq(users.actorId, post.actorId)).get() : undefined;
  if (post && author) await editLocalPost(services, author, post.id, { text: eventPostText(services, event) });
}

/**
 * Who manages an event, as actor ids: the organiser, the section's managers
 * (secretaries, admins) for the section's events, a local group's moderators
 * (its owner and moderators, and the section's managers, as canModerate says)
 * for the group's. The organiser may be the section's or a group's actor, with
 * no account behind it: notify() skips those. canEditEvent asks this same list.
 */
export function eventManagerIds(services: Services, event: Pick<EventRow, "actorId">): number[] {
  const { db } = services;
  const ids = new Set([event.actorId]);
  const group = groupOfActor(db, event.actorId);
  const managers = event.actorId === sectionActor(services).id ? memberManagerActorIds(db) : group ? groupModeratorIds(db, group) : [];
  for (const id of managers) ids.add(id);
  return [...ids];
}

/** The organiser, the section's managers for the section's events, a group's moderators for the group's. */
export function canEditEvent(services: Services, user: User, event: EventRow): boolean {
  return eventManagerIds(services, event).includes(user.actorId);
}

// Every event page reads its event first: built once (storage/prepared.ts).
const eventByIdQuery = preparedOnce((db) => db.select().from(events).where(eq(events.id, sql.placeholder("id"))).prepare());

export function getVisibleEvent(db: Db, viewer: Viewer, id: number): EventRow {
  const event = eventByIdQuery(db).get({ id });
  if (!event || !canSeeEvent(db, viewer, event)) throw new UserError("event_not_found", 404);
  return event;
}

export async function updateEvent(services: Services, user: User, id: number, input: EventInput): Promise<EventRow> {
  const { db, config } = services;
  const event = db.select().from(events).where(eq(events.id, id)).get();
  if (!event || !canEditEvent(services, user, event)) throw new UserError("event_not_found", 404);
  const data = checked(input);
  // An event never goes from section-only to public by an edit: it would already be in people's calendars.
  if (event.audience === "section" && data.audience === "public") throw new UserError("event_audience_widen", 422);
  // Nor does an event for groups or the fédération change its audience: its copies are on other servers.
  if (data.audience && data.audience !== event.audience && (event.audience === "groups" || event.audience === "federation" || data.audience === "groups" || data.audience === "federation")) {
    throw new UserError("event_audience_change", 422);
  }
  // Groups can be added to an event for groups, never taken off (their members already have it).
  const current = event.audience === "groups" ? eventGroupIds(db, event.id) : [];
  const added = event.audience === "groups" ? (data.groups ?? []).filter((id) => !current.includes(id)) : [];
  const groupIds = added.length ? [...current, ...checkedGroups(db, user, added)] : [];
  if (input.attachments) checkAttachments(db, user.actorId, event.id, input.attachments);
  const row = db.transaction((tx) => {
    const row = tx
      .update(events)
      .set({
        ...columnsOf(config.origin, data),
        category: data.category ?? event.category,
        audience: data.audience ?? event.audience,
        joinMode: data.joinMode ?? event.joinMode,
        status: data.status ?? event.status,
        sequence: event.sequence + 1,
        updatedAt: Date.now(),
      })
      .where(eq(events.id, id))
      .returning()
      .get();
    if (groupIds.length) setEventGroups(tx, row.id, groupIds);
    if (input.attachments) setEventAttachments(tx, row.id, user.actorId, input.attachments);
    record(tx, { kind: "event.updated", eventId: row.id });
    return row;
  });
  await refreshEventPost(services, row);
  return row;
}

export async function cancelEvent(services: Services, user: User, id: number): Promise<EventRow> {
  const { db } = services;
  const event = db.select().from(events).where(eq(events.id, id)).get();
  if (!event || !canEditEvent(services, user, event)) throw new UserError("event_not_found", 404);
  const row = updatedEvent(db, (tx) => tx.update(events).set({ status: "cancelled", sequence: event.sequence + 1, updatedAt: Date.now() }).where(eq(events.id, id)).returning().get());
  await refreshEventPost(services, row);
  return row;
}

/** Runs an update of an event and records it in the outbox, in one transaction. */
function updatedEvent(db: Db, update: (tx: Db) => EventRow): EventRow {
  return db.transaction((tx) => {
    const row = update(tx);
    record(tx, { kind: "event.updated", eventId: row.id });
    return row;
  });
}

/** Cancels one date of a recurring event (an EXDATE), keeping the others. */
export async function skipOccurrence(services: Services, user: User, id: number, start: number): Promise<EventRow> {
  const { db } = services;
  const event = db.select().from(events).where(eq(events.id, id)).get();
  if (!event || !canEditEvent(services, user, event)) throw new UserError("event_not_found", 404);
  if (!event.rrule || !occurrencesOf(event, start, start).some((o) => o.start === start)) throw new UserError("event_occurrence_not_found", 404);
  const skipped = [...new Set([...(JSON.parse(event.exdates) as number[]), start])].sort((a, b) => a - b);
  const row = updatedEvent(db, (tx) => tx.update(events).set({ exdates: JSON.stringify(skipped), sequence: event.sequence + 1, updatedAt: Date.now() }).where(eq(events.id, id)).returning().get());
  return row;
}

/** Minutes (compte rendu) and who was there. Stays on the instance. */
export function recordMinutes(services: Services, user: User, id: number, minutes: string, presentActorIds: number[]): EventRow {
  const { db } = services;
  const event = db.select().from(events).where(eq(events.id, id)).get();
  if (!event || !canEditEvent(services, user, event)) throw new UserError("event_not_found", 404);
  if (minutes.length > 50_000) throw new UserError("event_minutes_too_long", 422);
  return db.transaction((tx) => {
    tx.update(rsvps).set({ attended: false }).where(eq(rsvps.eventId, id)).run();
    if (presentActorIds.length) tx.update(rsvps).set({ attended: true }).where(and(eq(rsvps.eventId, id), inArray(rsvps.actorId, presentActorIds))).run();
    return tx.update(events).set({ minutes: minutes.trim() || null, updatedAt: Date.now() }).where(eq(events.id, id)).returning().get();
  });
}

export interface Occurrence {
  event: EventRow;
  start: number;
  end: number | null;
}

/**
 * Start times of an event between two instants, its recurrence expanded, cancelled dates left out.
 * Recurrence runs on the wall clock of the event's time zone (a meeting at 18:30 stays at 18:30
 * across summer time), then each occurrence is turned back into an instant.
 */
export function occurrencesOf(event: EventRow, from: number, to: number, budget: Budget = requestBudget(), max?: number): Occurrence[] {
  const duration = event.endAt != null ? event.endAt - event.startAt : null;
  if (!event.rrule) return event.startAt <= to && (event.endAt ?? event.startAt) >= from ? [{ event, start: event.startAt, end: event.endAt }] : [];
  const skipped = new Set<number>(JSON.parse(event.exdates) as number[]);
  const tz = event.timezone;
  // Wall-clock times written as if they were UTC ("floating" times).
  const floating = (ms: number) => ms + offsetAt(ms, tz);
  // With `max`, the expansion stops early: enough dates for the cancelled ones and
  // the one the whole-day window may give before `from`.
  const dates = floatingDates(event.rrule, floating(event.startAt), floating(from - (duration ?? 0)), floating(to), budget, max == null ? undefined : max + 1 + skipped.size)
    .map((date) => instantOf(date, tz))
    .filter((start) => !skipped.has(start))
    .map((start) => ({ event, start, end: duration != null ? start + duration : null }));
  return max == null ? dates : dates.slice(0, max);
}

/** The place in one line: name, street, postcode and town. */
export function placeText(event: Pick<EventRow, "placeName" | "street" | "postalCode" | "locality">): string {
  return [event.placeName, event.street, [event.postalCode, event.locality].filter(Boolean).join(" ")].filter(Boolean).join(", ");
}

/** "mardi 2 mars 2027 à 18:30 – 20:30" on the event's wall clock, in French or English. */
export function formatWhen(locale: "fr" | "en", occurrence: { start: number; end: number | null }, timezone: string): string {
  const tag = locale === "fr" ? "fr-FR" : "en-GB";
  const day = dateFormat(tag, { dateStyle: "full", timeStyle: "short", timeZone: timezone }).format(occurrence.start);
  if (occurrence.end == null) return day;
  const sameDay = wallClock(occurrence.start, timezone).slice(0, 8) === wallClock(occurrence.end, timezone).slice(0, 8);
  const end = dateFormat(tag, sameDay ? { timeStyle: "short", timeZone: timezone } : { dateStyle: "full", timeStyle: "short", timeZone: timezone }).format(occurrence.end);
  return `${day} – ${end}`;
}

/**
 * Offsets at the start and end of each UTC day asked, per zone: when both are
 * the same, no clock change happens that day and the offset holds all day
 * (expanding a daily event over a month would otherwise format 60 dates).
 */
const dayOffsets = new Map<string, Map<number, number | null>>();
let knownDays = 0;

/** How far a time zone's wall clock is ahead of UTC at an instant, in ms. */
export function offsetAt(ms: number, timezone: string): number {
  const day = Math.floor(ms / 86_400_000);
  let zone = dayOffsets.get(timezone);
  if (!zone) dayOffsets.set(timezone, (zone = new Map()));
  let known = zone.get(day);
  if (known === undefined) {
    const start = exactOffsetAt(day * 86_400_000, timezone);
    known = start === exactOffsetAt((day + 1) * 86_400_000 - 1000, timezone) ? start : null;
    // 100,000 days in all (a few MB), whatever the zones events name.
    if (++knownDays > 100_000) {
      dayOffsets.clear();
      knownDays = 1;
      dayOffsets.set(timezone, (zone = new Map()));
    }
    zone.set(day, known);
  }
  return known ?? exactOffsetAt(ms, timezone);
}

function exactOffsetAt(ms: number, timezone: string): number {
  const w = formattedWallClock(ms, timezone);
  const wall = Date.UTC(+w.slice(0, 4), +w.slice(4, 6) - 1, +w.slice(6, 8), +w.slice(9, 11), +w.slice(11, 13), +w.slice(13, 15));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant at which a time zone's wall clock shows a "floating" time. */
export function instantOf(floatingMs: number, timezone: string): number {
  let guess = floatingMs - offsetAt(floatingMs, timezone);
  guess = floatingMs - offsetAt(guess, timezone);
  return guess;
}

/** The local wall-clock time of an instant in a time zone, as iCalendar writes it (20261201T183000). */
export function wallClock(ms: number, timezone: string): string {
  // From the day's known offset: formatting a date with Intl costs about 5 µs, and a month view shows thousands.
  const w = new Date(Math.floor(ms / 1000) * 1000 + offsetAt(ms, timezone));
  const two = (n: number) => String(n).padStart(2, "0");
  return `${String(w.getUTCFullYear()).padStart(4, "0")}${two(w.getUTCMonth() + 1)}${two(w.getUTCDate())}T${two(w.getUTCHours())}${two(w.getUTCMinutes())}${two(w.getUTCSeconds())}`;
}

function formattedWallClock(ms: number, timezone: string): string {
  const parts = Object.fromEntries(
    dateFormat("en-GB", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}${parts.month}${parts.day}T${parts.hour}${parts.minute}${parts.second}`;
}

export interface AgendaFilter {
  from: number;
  to: number;
  category?: EventCategory;
  locality?: string;
  /** Only events organised by these actors. */
  organiserIds?: number[];
  /** Only events this actor answered "going" or "maybe" to, or organises. */
  attendingActorId?: number;
  /** Only a group's events: organised by it, or addressed to it. */
  group?: Parameters<typeof eventsOfGroup>[0];
  /** Only events of this audience. */
  audience?: EventAudience;
  /**
   * At most this many occurrences of each event: the list view shows a recurring
   * event once with its next dates, a feed needs the events only, so neither
   * expands a year of dates per event.
   */
  perEvent?: number;
  /** Only the soonest this many events without recurrence (a page of the list view). */
  firstSingles?: number;
}

/** Occurrences in a period, soonest first, as the viewer may see them. */
export function agenda(db: Db, viewer: Viewer, filter: AgendaFilter): Occurrence[] {
  const where: SQL[] = [eventsVisibleTo(viewer)];
  if (filter.category) where.push(eq(events.category, filter.category));
  if (filter.locality) where.push(sql`lower(${events.locality}) = lower(${filter.locality})`);
  if (filter.group) where.push(eventsOfGroup(filter.group));
  if (filter.audience) where.push(eq(events.audience, filter.audience));
  if (filter.organiserIds) where.push(filter.organiserIds.length ? inArray(events.actorId, filter.organiserIds) : sql`0`);
  if (filter.attendingActorId != null) {
    const me = filter.attendingActorId;
    where.push(or(eq(events.actorId, me), sql`${events.id} in (select ${rsvps.eventId} from ${rsvps} where ${rsvps.actorId} = ${me} and ${rsvps.status} in ('going', 'maybe', 'waiting', 'pending'))`)!);
  }
  const single = and(sql`${events.rrule} is null`, lte(events.startAt, filter.to), gte(sql`coalesce(${events.endAt}, ${events.startAt})`, filter.from))!;
  const recurring = and(isNotNull(events.rrule), lte(events.startAt, filter.to))!;
  const read = (when: SQL, limit: number) => db.select().from(events).where(and(...where, when)).orderBy(asc(events.startAt)).limit(limit).all();
  // With `firstSingles`, only the soonest single events are read (a page of the list
  // cannot show more); recurring ones all are, as their next date may come first.
  const rows = filter.firstSingles == null ? read(or(single, recurring)!, 5000) : [...read(single, filter.firstSingles), ...read(recurring, 5000)];
  const budget = requestBudget();
  return rows.flatMap((event) => occurrencesOf(event, filter.from, filter.to, budget, filter.perEvent)).sort((a, b) => a.start - b.start);
}
