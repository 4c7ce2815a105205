// Calendar feeds (RFC 5545) for phones and desktop calendars: one per event,
// per agenda, and a private one per member. UIDs are the events' URIs, so an
// edit updates the same entry; SEQUENCE follows the event's own counter.
import ical, { ICalCalendarMethod, ICalEventStatus } from "ical-generator";
import { tzlib_get_ical_block } from "timezones-ical-library";
import { Temporal } from "@js-temporal/polyfill";
import { htmlToText } from "../posts/content.ts";
import { placeText, wallClock, type EventRow } from "./events.ts";
import type { FieldEntry } from "../campaigns/actions.ts";
import type { ActionType } from "../storage/schema.ts";
import { firstSafeUrl, safeUrl } from "../safe-url.ts";

const STATUS: Record<EventRow["status"], ICalEventStatus> = {
  tentative: ICalEventStatus.TENTATIVE,
  confirmed: ICalEventStatus.CONFIRMED,
  cancelled: ICalEventStatus.CANCELLED,
};

/** An instant on the wall clock of a zone: ical-generator then writes DTSTART;TZID=… correctly. */
function zoned(ms: number, timezone: string) {
  return Temporal.Instant.fromEpochMilliseconds(ms).toZonedDateTimeISO(timezone) as unknown as Date;
}

/** VTIMEZONE blocks from the IANA data bundled with timezones-ical-library. */
function vtimezone(name: string): string | null {
  const block = tzlib_get_ical_block(name);
  return Array.isArray(block) && block[0] ? block[0] : null;
}

/** French names of field actions in a member's feed (feeds have no language of their own). */
const FIELD_TYPES: Record<ActionType, string> = { leafleting: "Tractage", door_to_door: "Porte-à-porte", phoning: "Phoning", postering: "Collage", market_stand: "Stand" };

/**
 * `fieldWork`: the section's actions and the member's shifts, in a member's
 * private feed only (they are for card-holders, as on the pages).
 */
export function calendarOf(name: string, rows: EventRow[], options: { origin: string; fieldWork?: FieldEntry[] }): string {
  const calendar = ical({ name, prodId: { company: "Coopol", product: "agenda", language: "FR" }, method: ICalCalendarMethod.PUBLISH });
  for (const { action, shift, start, end } of options.fieldWork ?? []) {
    const kind = FIELD_TYPES[action.type];
    calendar.createEvent({
      // One entry per action, and one per shift of the member's (its own UID, so both can stand side by side).
      id: shift ? `${action.uri}#shift-${shift.id}` : action.uri,
      start: zoned(start, action.timezone),
      end: zoned(end ?? start + 2 * 3_600_000, action.timezone),
      timezone: action.timezone,
      summary: shift ? `Mon créneau — ${kind} : ${action.title}` : `${kind} : ${action.title}`,
      description: [action.area, action.notes, `${options.origin}/actions/${action.id}`].filter(Boolean).join("\n\n"),
      location: action.meetingPoint,
      url: `${options.origin}/actions/${action.id}`,
      stamp: new Date(action.createdAt),
    });
  }
  for (const event of rows) {
    const location = placeText(event);
    // Calendar apps turn addresses into links: web addresses only (rows stored before safeUrl() existed included).
    const url = firstSafeUrl(event.url, event.uri);
    const online = safeUrl(event.onlineUrl);
    const description = [htmlToText(event.description), online ? `En ligne : ${online}` : null, url].filter(Boolean).join("\n\n");
    const skipped = (JSON.parse(event.exdates) as number[]).map((ms) => wallClock(ms, event.timezone));
    calendar.createEvent({
      id: event.uri,
      sequence: event.sequence,
      start: zoned(event.startAt, event.timezone),
      end: zoned(event.endAt ?? event.startAt + 2 * 3_600_000, event.timezone),
      timezone: event.timezone,
      summary: event.status === "cancelled" ? `[Annulé] ${event.title}` : event.title,
      description,
      location: location ? (event.latitude != null && event.longitude != null ? { title: location, geo: { lat: event.latitude, lon: event.longitude } } : location) : null,
      url,
      status: STATUS[event.status],
      lastModified: new Date(event.updatedAt),
      created: new Date(event.createdAt),
      stamp: new Date(event.updatedAt),
      repeating: event.rrule ? [`RRULE:${event.rrule}`, ...(skipped.length ? [`EXDATE;TZID=${event.timezone}:${skipped.join(",")}`] : [])].join("\n") : null,
    });
  }
  // One VTIMEZONE per zone in use. (Giving ical-generator a calendar-wide zone
  // would also write DTSTAMP in local time, which RFC 5545 forbids.)
  const zones = [...new Set([...rows.map((e) => e.timezone), ...(options.fieldWork ?? []).map((f) => f.action.timezone)])].map(vtimezone).filter((z): z is string => !!z);
  const text = calendar.toString();
  const at = text.indexOf("BEGIN:VEVENT");
  return at < 0 || zones.length === 0 ? text : `${text.slice(0, at)}${zones.map((z) => `${z.replace(/\r?\n/g, "\r\n").trim()}\r\n`).join("")}${text.slice(at)}`;
}
