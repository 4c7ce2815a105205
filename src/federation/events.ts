// Events over ActivityPub, shaped as Mobilizon publishes them, so Mobilizon,
// Gancio and Mastodon read them. Fedify's vocabulary has no Mobilizon
// properties, so the object is written (and read) as JSON-LD here, in one place.
import { PUBLIC_COLLECTION } from "@fedify/vocab";
import { eq } from "drizzle-orm";
import type { Services } from "../services.ts";
import { newId } from "../storage/ids.ts";
import { actors, eventGroups, events, groups, type EventAudience, type EventCategory, type EventStatus, type JoinMode } from "../storage/schema.ts";
import { linkedParent } from "../territory/links.ts";
import { PAYLOAD_NAME } from "./territory.ts";
import type { ActorRow } from "./actors.ts";
import { sanitizeRemoteHtml } from "../posts/content.ts";
import type { EventRow } from "../agenda/events.ts";
import { eventAttachments, replaceRemoteEventAttachments, type EventAttachment } from "../agenda/attachments.ts";
import { counts, remainingCapacity } from "../agenda/rsvp.ts";
import { isTimezone } from "../dates.ts";
import { safeUrl } from "../safe-url.ts";
import { inDateRange, MAX_ATTACHMENTS, MAX_CONTENT_LENGTH, MAX_NAME_LENGTH, validLatitude, validLongitude } from "../bounds.ts";
import { normalRule, recurrenceProblem } from "../agenda/recurrence.ts";

export const EVENT_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  {
    mz: "https://joinmobilizon.org/ns#",
    sc: "http://schema.org#",
    ical: "http://www.w3.org/2002/12/cal/ical#",
    coopol: "https://coopol.example/ns#",
    joinMode: { "@id": "mz:joinMode", "@type": "mz:joinModeType" },
    isOnline: { "@id": "mz:isOnline", "@type": "sc:Boolean" },
    timezone: { "@id": "mz:timezone", "@type": "sc:Text" },
    participantCount: { "@id": "mz:participantCount", "@type": "sc:Number" },
    maximumAttendeeCapacity: "sc:maximumAttendeeCapacity",
    remainingAttendeeCapacity: "sc:remainingAttendeeCapacity",
    category: "sc:category",
    PostalAddress: "sc:PostalAddress",
    address: { "@id": "sc:address", "@type": "sc:PostalAddress" },
    streetAddress: "sc:streetAddress",
    postalCode: "sc:postalCode",
    addressLocality: "sc:addressLocality",
    addressCountry: "sc:addressCountry",
    coopolCategory: "coopol:category",
    recurrence: "coopol:rrule",
    PropertyValue: "sc:PropertyValue",
    value: "sc:value",
  },
];

const JOIN_MODES: Record<JoinMode, string> = { open: "free", approval: "restricted", invite: "invite" };
const STATUSES: Record<EventStatus, string> = { tentative: "TENTATIVE", confirmed: "CONFIRMED", cancelled: "CANCELLED" };
const CATEGORIES: Record<EventCategory, string> = {
  section_meeting: "MEETING",
  debate: "MOVEMENTS_POLITICS",
  training: "LEARNING",
  action: "CAUSES",
  campaign: "MOVEMENTS_POLITICS",
  social: "PARTY",
  other: "MEETING",
};

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Who a non-public event is for, as it travels: the Event is addressed to
 * these actors (never to the public) and carries this payload in a
 * PropertyValue attachment "coopol:payload" (docs/federation.md).
 */
export interface EventScope {
  audience: Exclude<EventAudience, "public" | "section">;
  /** Addressing: the groups' actors, or the organiser's fédération. */
  to: string[];
  cc: string[];
  /** groups: the groups' actor URIs. */
  groups?: string[];
  /** federation: the fédération's node actor URI. */
  federation?: string;
}

export interface EventExtras {
  going: number;
  remaining: number | null;
  attachments: EventAttachment[];
  scope?: EventScope | null;
}

/** The groups an event is for: their rows and actors. */
export function groupsOfEvent(services: Services, eventId: number) {
  return services.db
    .select({ group: groups, actor: actors })
    .from(eventGroups)
    .innerJoin(groups, eq(groups.id, eventGroups.groupId))
    .innerJoin(actors, eq(actors.id, groups.actorId))
    .where(eq(eventGroups.eventId, eventId))
    .all();
}

/** The addressing of a local event that is neither public nor section-only. */
export function scopeOf(services: Services, event: EventRow): EventScope | null {
  if (event.audience === "groups") {
    const list = groupsOfEvent(services, event.id);
    return { audience: "groups", to: list.map((g) => g.actor.uri), cc: list.map((g) => g.actor.followersUrl).filter((u): u is string => !!u), groups: list.map((g) => g.actor.uri) };
  }
  if (event.audience === "federation") {
    const parent = linkedParent(services.db);
    return parent ? { audience: "federation", to: [parent.uri], cc: [], federation: parent.uri } : null;
  }
  return null;
}

/** What the Event object says beyond the row: attendance, attachments and who it is for. */
export function eventExtras(services: Services, event: EventRow): EventExtras {
  const { db, config } = services;
  return { going: counts(db, event.id).going, remaining: remainingCapacity(db, event), attachments: eventAttachments(db, config.origin, event.id), scope: scopeOf(services, event) };
}

/**
 * Attachments as plain ActivityStreams Documents (url, mediaType, name): Fedify
 * keeps them when it compacts outgoing activities, and Mastodon and Mobilizon
 * read them. The online meeting stays the one `Link` (Mobilizon's convention),
 * so a receiver never mistakes an attached link for the video call.
 */
function attachmentsOut(event: EventRow, extras: EventExtras) {
  const items: Json[] = extras.attachments.map((a) => ({ type: "Document", url: a.url, mediaType: a.mediaType, ...(a.name ? { name: a.name } : {}) }));
  if (event.onlineUrl) items.unshift({ type: "Link", name: "Website", href: event.onlineUrl, mediaType: "text/html" });
  if (extras.scope) items.push({ type: "PropertyValue", name: PAYLOAD_NAME, value: JSON.stringify(scopePayload(event, extras.scope)) });
  return items.length ? { attachment: items } : {};
}

/** The Coopol payload of a non-public event: {id, audience, groups | federation}. */
export function scopePayload(event: Pick<EventRow, "uri">, scope: EventScope): Json {
  return { id: event.uri, audience: scope.audience, ...(scope.groups ? { groups: scope.groups } : {}), ...(scope.federation ? { federation: scope.federation } : {}) };
}

/**
 * The Event object of a public event, or of one for a list of groups or for
 * the fédération (addressed to them only). Section-only events are never written out.
 */
export function eventObject(event: EventRow, organiser: ActorRow, extras: EventExtras) {
  const hasAddress = event.street || event.postalCode || event.locality;
  const scope = extras.scope;
  return {
    id: event.uri,
    type: "Event",
    url: event.url ?? event.uri,
    attributedTo: organiser.uri,
    to: scope ? scope.to : [PUBLIC_COLLECTION.href],
    cc: scope ? scope.cc : organiser.followersUrl ? [organiser.followersUrl] : [],
    name: event.title,
    content: event.description,
    mediaType: "text/html",
    startTime: iso(event.startAt),
    ...(event.endAt != null ? { endTime: iso(event.endAt) } : {}),
    timezone: event.timezone,
    published: iso(event.createdAt),
    updated: iso(event.updatedAt),
    ...(event.placeName || hasAddress || event.latitude != null
      ? {
          location: {
            type: "Place",
            name: event.placeName ?? event.locality ?? "",
            ...(event.latitude != null && event.longitude != null ? { latitude: event.latitude, longitude: event.longitude } : {}),
            ...(hasAddress ? { address: { type: "PostalAddress", streetAddress: event.street ?? "", postalCode: event.postalCode ?? "", addressLocality: event.locality ?? "", addressCountry: "FR" } } : {}),
          },
        }
      : {}),
    isOnline: !!event.onlineUrl && !event.placeName && !hasAddress,
    ...attachmentsOut(event, extras),
    joinMode: JOIN_MODES[event.joinMode],
    "ical:status": STATUSES[event.status],
    category: CATEGORIES[event.category],
    coopolCategory: event.category,
    ...(event.rrule ? { recurrence: event.rrule } : {}),
    participantCount: extras.going,
    ...(event.capacity != null ? { maximumAttendeeCapacity: event.capacity, remainingAttendeeCapacity: extras.remaining } : {}),
    anonymousParticipationEnabled: false,
    commentsEnabled: false,
    draft: false,
  };
}

export function eventDocument(event: EventRow, organiser: ActorRow, extras: EventExtras) {
  return { "@context": EVENT_CONTEXT, ...eventObject(event, organiser, extras) };
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === "string" && v.trim() ? v.trim() : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && v.trim() && Number.isFinite(Number(v)) ? Number(v) : null);
const time = (v: unknown): number | null => {
  const t = typeof v === "string" ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : null;
};
const hrefs = (v: unknown): string[] => (Array.isArray(v) ? v : v == null ? [] : [v]).map((x) => (typeof x === "string" ? x : str((x as Json)?.id))).filter((x): x is string => !!x);
const short = (v: unknown): string | null => str(v)?.slice(0, MAX_NAME_LENGTH) ?? null;
const first = (v: unknown): Json | null => {
  const x = Array.isArray(v) ? v[0] : v;
  return x && typeof x === "object" ? (x as Json) : null;
};
/** A property that may hold one object or several (compacted JSON-LD writes a single one bare). */
const objects = (v: unknown): Json[] => (Array.isArray(v) ? v : v == null ? [] : [v]).filter((x): x is Json => !!x && typeof x === "object");
/** An http(s) address (a string, a Link, or the first of a list); anything else is dropped. */
const httpUrl = (v: unknown): string | null => (Array.isArray(v) ? httpUrl(v[0]) : safeUrl(v));

/**
 * The online meeting of a received Event: Mobilizon's `Link` named "Website"
 * (its other Links are other addresses of the event); failing that, the only
 * Link of an event that says it is online.
 */
function onlineLinkIn(json: Json): Json | null {
  const links = objects(json.attachment).filter((a) => a.type === "Link" && httpUrl(a.href));
  return links.find((a) => a.name === "Website") ?? (json.isOnline === true && links.length === 1 ? links[0]! : null);
}

/** Files, documents and links of a received Event: Documents (and Image, Audio, Video), and every Link but the online meeting. */
function attachmentsIn(json: Json): Array<{ url: string; mediaType: string; name: string }> {
  const online = onlineLinkIn(json);
  return objects(json.attachment).slice(0, MAX_ATTACHMENTS).flatMap((a) => {
    if (a.type === "Link") {
      const url = a === online ? null : httpUrl(a.href);
      return url ? [{ url, mediaType: "text/html", name: str(a.name) ?? "" }] : [];
    }
    const url = ["Document", "Image", "Audio", "Video"].includes(String(a.type)) ? httpUrl(a.url) : null;
    return url ? [{ url, mediaType: str(a.mediaType) ?? "application/octet-stream", name: str(a.name) ?? "" }] : [];
  });
}

/**
 * What a peer's Event may set that sizes work or makes no sense: an event
 * starting outside 1900–2200 is refused; an end date, coordinates or a
 * recurrence out of bounds are left out (the event is kept without them). Logged.
 */
function boundedEventFields(services: Services, id: string, json: Json, place: Json | null, startAt: number) {
  if (!inDateRange(startAt)) {
    services.log.info({ id, startTime: json.startTime }, "remote event refused: start date out of range");
    return null;
  }
  const dropped: string[] = [];
  const drop = (field: string): null => (dropped.push(field), null);
  const end = time(json.endTime);
  const endAt = end != null && (!inDateRange(end) || end < startAt) ? drop("endTime") : end;
  const lat = num(place?.latitude);
  const lon = num(place?.longitude);
  const located = lat != null && lon != null && validLatitude(lat) && validLongitude(lon);
  if (!located && (lat != null || lon != null)) drop("coordinates");
  const rule = normalRule(str(json.recurrence));
  const problem = rule ? recurrenceProblem(rule) : null;
  const rrule = problem ? drop(`recurrence (${problem})`) : rule;
  if (dropped.length) services.log.info({ id, dropped }, "remote event: fields out of bounds left out");
  return { endAt, latitude: located ? lat : null, longitude: located ? lon : null, rrule };
}

/** Attendee limit of a received Event: Mobilizon writes 0 (and some servers a negative number) for "no limit". */
function capacityIn(json: Json): number | null {
  const capacity = num(json.maximumAttendeeCapacity);
  return capacity != null && capacity > 0 ? Math.floor(capacity) : null;
}

/** Whether a received object is addressed to the public. */
export function isPublicObject(json: Json): boolean {
  return [...hrefs(json.to), ...hrefs(json.cc)].some((a) => a === PUBLIC_COLLECTION.href || a === "as:Public" || a === "Public");
}

/** The Coopol payload of a received Event (who a non-public one is for), if it has one naming the same id. */
export function eventPayload(json: Json): { audience: "groups" | "federation"; groups: string[]; federation: string | null } | null {
  // As we write it, or as Fedify compacts it (its context has no schema.org terms).
  const item = objects(json.attachment).find((a) => ["PropertyValue", "schema:PropertyValue", "http://schema.org#PropertyValue"].includes(String(a.type)) && a.name === PAYLOAD_NAME);
  const value = item ? (item.value ?? item["schema:value"] ?? item["http://schema.org#value"]) : null;
  if (typeof value !== "string") return null;
  try {
    const payload = JSON.parse(value) as Json;
    if (!payload || typeof payload !== "object" || payload.id !== json.id) return null;
    if (payload.audience === "groups") return { audience: "groups", groups: hrefs(payload.groups).slice(0, 50), federation: null };
    if (payload.audience === "federation" && typeof payload.federation === "string") return { audience: "federation", groups: [], federation: payload.federation };
  } catch {
    // not ours
  }
  return null;
}

/** Who a received event is for, as the receiving side has checked it. */
export type ReceivedScope = { audience: "public" } | { audience: "groups"; groupIds: number[] } | { audience: "federation" };

/**
 * Stores (or refreshes) an Event received from another server, Coopol or
 * Mobilizon. Public events are kept as such; an event for groups or for the
 * fédération only once the caller has checked who sent it (scope).
 */
export function storeRemoteEvent(services: Services, json: Json, organiser: ActorRow, scope: ReceivedScope = { audience: "public" }): EventRow | null {
  const { db } = services;
  const id = str(json.id);
  const startAt = time(json.startTime);
  const title = str(json.name);
  if (!id || startAt == null || !title) return null;
  if (scope.audience === "public" && !isPublicObject(json)) return null;
  const place = first(json.location);
  const address = first(place?.address);
  const joinMode = Object.entries(JOIN_MODES).find(([, v]) => v === json.joinMode)?.[0] as JoinMode | undefined;
  const status = Object.entries(STATUSES).find(([, v]) => v === json["ical:status"] || v === json.status)?.[0] as EventStatus | undefined;
  const category = (typeof json.coopolCategory === "string" && json.coopolCategory in CATEGORIES ? json.coopolCategory : Object.entries(CATEGORIES).find(([, v]) => v === json.category)?.[0]) as EventCategory | undefined;
  const online = onlineLinkIn(json);
  const timezone = str(json.timezone);
  const limited = boundedEventFields(services, id, json, place, startAt);
  if (!limited) return null;
  const fields = {
    url: httpUrl(json.url) ?? safeUrl(hrefs(json.url)[0]) ?? safeUrl(id),
    actorId: organiser.id,
    title: title.slice(0, 200),
    description: sanitizeRemoteHtml(str(json.content)?.slice(0, MAX_CONTENT_LENGTH) ?? ""),
    startAt,
    endAt: limited.endAt,
    timezone: timezone && isTimezone(timezone) ? timezone : "Europe/Paris",
    placeName: short(place?.name),
    street: short(address?.streetAddress),
    postalCode: short(address?.postalCode),
    locality: short(address?.addressLocality),
    latitude: limited.latitude,
    longitude: limited.longitude,
    onlineUrl: online ? safeUrl(online.href) : null,
    category: category ?? "other",
    capacity: capacityIn(json),
    audience: scope.audience,
    joinMode: joinMode ?? "open",
    status: status ?? "confirmed",
    rrule: limited.rrule,
    remoteParticipants: num(json.participantCount),
    updatedAt: Date.now(),
  };
  const existing = db.select().from(events).where(eq(events.uri, id)).get();
  if (existing && existing.actorId !== organiser.id) return null;
  const row = existing
    ? db.update(events).set({ ...fields, sequence: existing.sequence + 1 }).where(eq(events.id, existing.id)).returning().get()
    : db.insert(events).values({ id: newId(), uri: id, ...fields }).onConflictDoNothing().returning().get();
  if (row) {
    replaceRemoteEventAttachments(db, row.id, organiser.id, attachmentsIn(json));
    db.delete(eventGroups).where(eq(eventGroups.eventId, row.id)).run();
    if (scope.audience === "groups") for (const groupId of scope.groupIds) db.insert(eventGroups).values({ eventId: row.id, groupId }).onConflictDoNothing().run();
  }
  return row ?? null;
}
