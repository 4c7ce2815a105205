// Coopol's own JSON API (/api/coopol/v1): what the web pages do beyond
// Mastodon's API, for scripts and apps. Same OAuth tokens, same domain
// functions, same errors as the Mastodon API; described by openapi.ts.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { eq } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { agenda, cancelEvent, canEditEvent, createEvent, getVisibleEvent, recordMinutes, updateEvent, type EventInput } from "../agenda/events.ts";
import { attendees, decide, respond, type Answer } from "../agenda/rsvp.ts";
import { viewerOf } from "../posts/posts.ts";
import type { Services } from "../services.ts";
import { actors, events, type EventCategory } from "../storage/schema.ts";
import { optionalUser, requireUser } from "../mastodon/auth.ts";
import { bool, idParam, int, list, paramsOf, str, type Params } from "../mastodon/params.ts";

const EVENTS_PAGE = 100;
const EVENTS_MAX_PAGE = 500;
import { renderAttachment, renderEvent, renderOccurrences, renderRsvp } from "./entities.ts";
import { attachmentOf, uploadEventFile, type AttachmentInput } from "../agenda/attachments.ts";
import { openapi } from "./openapi.ts";
import { registerTerritoryApi } from "./territory.ts";
import { registerGroupsApi } from "./groups.ts";
import { registerGroupAgendaApi } from "./agenda-groups.ts";

const DAY = 86_400_000;
type WithId = FastifyRequest<{ Params: { id: string } }>;

function time(value: string | undefined, key: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new UserError("api_bad_request", 400, { detail: `${key}=${value}` });
  return ms;
}

/** `attachments: [{ "media_id": "…" } | { "url": "…", "name": "…" }]`; left out, an edit keeps the event's. */
function attachmentsInput(params: Params): AttachmentInput[] | undefined {
  const value = params.attachments;
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new UserError("api_bad_request", 400, { detail: "attachments" });
  return value.map((item: unknown) => {
    const fields = (item && typeof item === "object" ? item : {}) as Params;
    const mediaId = str(fields, "media_id");
    if (mediaId !== undefined) return { mediaId: idParam(mediaId, "media_not_found") };
    return { url: str(fields, "url") ?? "", name: str(fields, "name") };
  });
}

function eventInput(params: Params): EventInput {
  const place = (params.place && typeof params.place === "object" ? params.place : {}) as Params;
  const start = time(str(params, "start"), "start");
  if (start === undefined) throw new UserError("event_start_invalid", 422);
  const capacity = params.capacity;
  return {
    title: str(params, "title") ?? "",
    description: str(params, "description"),
    startAt: start,
    endAt: time(str(params, "end"), "end") ?? null,
    timezone: str(params, "timezone"),
    placeName: str(place, "name") ?? null,
    street: str(place, "street") ?? null,
    postalCode: str(place, "postal_code") ?? null,
    locality: str(place, "locality") ?? null,
    latitude: typeof place.latitude === "number" ? place.latitude : null,
    longitude: typeof place.longitude === "number" ? place.longitude : null,
    onlineUrl: str(params, "online_url") ?? null,
    category: str(params, "category") as EventCategory | undefined,
    capacity: capacity == null || capacity === "" ? null : Number(capacity),
    audience: str(params, "audience") as EventInput["audience"],
    joinMode: str(params, "join_mode") as EventInput["joinMode"],
    status: str(params, "status") as EventInput["status"],
    rrule: str(params, "rrule") ?? null,
    agenda: list(params, "agenda"),
    attachments: attachmentsInput(params),
    forSection: bool(params, "for_section"),
    forGroup: str(params, "for_group") ? idParam(str(params, "for_group")!, "group_not_found") : null,
    groups: list(params, "groups").map((id) => idParam(id, "group_not_found")),
  };
}

export function registerCoopolApi(api: FastifyInstance, services: Services): void {
  const { db } = services;
  const base = "/api/coopol/v1";

  api.get(`${base}/openapi.json`, async () => openapi);
  registerTerritoryApi(api, services);
  registerGroupsApi(api, services);
  registerGroupAgendaApi(api, services);

  // Files for events: PDF as well as images (Mastodon's /api/v2/media takes images only).
  api.post(`${base}/media`, async (request) => {
    const user = requireUser(services, request, "write");
    const params = paramsOf(request);
    const file = params.file as { data?: unknown; contentType?: string } | undefined;
    if (!file || typeof file !== "object" || !Buffer.isBuffer(file.data)) throw new UserError("media_missing", 422);
    const row = uploadEventFile(services, user.actorId, { data: file.data, contentType: file.contentType ?? "", description: str(params, "name") });
    return renderAttachment(attachmentOf(services.config.origin, row));
  });

  // Paged by time: `limit` occurrences (default 100, at most 500) from `from`;
  // a Link header `rel="next"` gives the next page (occurrences sharing the
  // last start time are never split across two pages).
  api.get(`${base}/events`, async (request, reply) => {
    const user = optionalUser(services, request, "read");
    const params = paramsOf(request);
    const from = time(str(params, "from"), "from") ?? Date.now();
    const to = Math.min(time(str(params, "to"), "to") ?? from + 365 * DAY, from + 730 * DAY);
    const mine = bool(params, "mine");
    if (mine && !user) throw new UserError("token_missing", 401);
    const occurrences = agenda(db, viewerOf(user), {
      from,
      to,
      category: str(params, "category") as EventCategory | undefined,
      locality: str(params, "locality"),
      attendingActorId: mine ? user!.actorId : undefined,
    });
    const limit = Math.min(Math.max(int(params, "limit") ?? EVENTS_PAGE, 1), EVENTS_MAX_PAGE);
    let end = Math.min(limit, occurrences.length);
    while (end < occurrences.length && occurrences[end]!.start === occurrences[end - 1]!.start) end++;
    if (end < occurrences.length) {
      const next = new URL(request.url, services.config.origin);
      next.searchParams.delete("access_token");
      next.searchParams.set("from", new Date(occurrences[end - 1]!.start + 1).toISOString());
      next.searchParams.set("to", new Date(to).toISOString());
      reply.header("link", `<${next.href}>; rel="next"`);
    }
    return renderOccurrences(services, user, occurrences.slice(0, end));
  });

  api.post(`${base}/events`, async (request) => {
    const user = requireUser(services, request, "write");
    return renderEvent(services, user, await createEvent(services, user, eventInput(paramsOf(request))));
  });

  api.get(`${base}/events/:id`, async (request: WithId) => {
    const user = optionalUser(services, request, "read");
    return renderEvent(services, user, getVisibleEvent(db, viewerOf(user), idParam(request.params.id, "event_not_found")));
  });

  api.put(`${base}/events/:id`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    return renderEvent(services, user, await updateEvent(services, user, idParam(request.params.id, "event_not_found"), eventInput(paramsOf(request))));
  });

  api.post(`${base}/events/:id/cancel`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    return renderEvent(services, user, await cancelEvent(services, user, idParam(request.params.id, "event_not_found")));
  });

  api.post(`${base}/events/:id/rsvp`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const answer = str(paramsOf(request), "answer") as Answer;
    if (!["going", "maybe", "not_going"].includes(answer)) throw new UserError("rsvp_invalid", 422);
    const id = idParam(request.params.id, "event_not_found");
    await respond(services, user, id, answer);
    return renderEvent(services, user, getVisibleEvent(db, viewerOf(user), id));
  });

  const organised = (request: WithId, scope: string) => {
    const user = requireUser(services, request, scope);
    const event = db.select().from(events).where(eq(events.id, idParam(request.params.id, "event_not_found"))).get();
    if (!event || !canEditEvent(services, user, event)) throw new UserError("event_not_found", 404);
    return { user, event };
  };

  api.get(`${base}/events/:id/attendees`, async (request: WithId) => {
    const { event } = organised(request, "read");
    return attendees(db, event.id).map((r) => renderRsvp(services, r.rsvp, r.actor));
  });

  api.post(`${base}/events/:id/attendees/:account`, async (request: FastifyRequest<{ Params: { id: string; account: string } }>) => {
    const { user, event } = organised(request, "write");
    const accountId = idParam(request.params.account, "rsvp_not_found");
    const row = await decide(services, user, event.id, accountId, bool(paramsOf(request), "accept") ?? false);
    return renderRsvp(services, row, db.select().from(actors).where(eq(actors.id, accountId)).get()!);
  });

  api.put(`${base}/events/:id/minutes`, async (request: WithId) => {
    const { user, event } = organised(request, "write");
    const params = paramsOf(request);
    const present = list(params, "present").filter((x) => /^\d+$/.test(x)).map(Number);
    return renderEvent(services, user, recordMinutes(services, user, event.id, str(params, "minutes") ?? "", present));
  });
}
