// Agenda pages: the section's agenda (list or month), a member's own agenda,
// event pages with RSVP buttons, the event form, attendees and minutes, and
// the calendar feeds. Everything works without JavaScript.
import { PIN, CALENDAR } from "../icons.ts";
import { dateFormat } from "../../dates.ts";
import { inDateRange } from "../../bounds.ts";
import { fieldWorkBetween, type FieldEntry } from "../../campaigns/actions.ts";
import { toCsv } from "../../csv.ts";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import multipart, { type MultipartFile } from "@fastify/multipart";
import { eq } from "drizzle-orm";
import { UserError } from "../../errors.ts";
import { canManageMembers, isCardHolder } from "../../members/members.ts";
import { viewerOf } from "../../posts/posts.ts";
import { readsSection } from "../../posts/visibility.ts";
import type { Services } from "../../services.ts";
import { actors, calendarTokens, EVENT_CATEGORIES, events, JOIN_MODES, type EventAudience, type EventCategory } from "../../storage/schema.ts";
import { eventGroupIds, groupsOrganisableBy, groupsUsableBy, mayFetchEvent } from "../../agenda/audiences.ts";
import type { ActorRow } from "../../federation/actors.ts";
import {
  agenda,
  canEditEvent,
  cancelEvent,
  createEvent,
  formatWhen,
  getVisibleEvent,
  instantOf,
  occurrencesOf,
  placeText,
  recordMinutes,
  skipOccurrence,
  updateEvent,
  wallClock,
  type EventInput,
  type EventRow,
  type Occurrence,
} from "../../agenda/events.ts";
import { attendees, counts, decide, remainingCapacity, respond, rsvpOf, type Answer } from "../../agenda/rsvp.ts";
import { calendarOf } from "../../agenda/ics.ts";
import { ATTACHMENTS_PER_EVENT, eventAttachments, uploadEventFile, type AttachmentInput, type EventAttachment } from "../../agenda/attachments.ts";
import { MEDIA_MAX_BYTES } from "../../media/media.ts";
import type { User } from "../../members/members.ts";
import { eventDocument, eventExtras, groupsOfEvent } from "../../federation/events.ts";
import { hashToken, newToken } from "../../storage/tokens.ts";
import { html, raw, type Html } from "../html.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { requireUser, sendCsv, sendPage } from "../respond.ts";
import { safeUrl } from "../../safe-url.ts";

type Form = Record<string, string | string[] | undefined>;
/** A file of the event form, as keepFile() leaves it in the body. */
type FormFile = { data: Buffer; contentType: string; fileName: string };
type WithId = FastifyRequest<{ Params: { id: string } }>;

const DAY = 86_400_000;

export function one(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? "";
}

function idOf(value: string): number {
  if (!/^\d+$/.test(value)) throw new UserError("event_not_found", 404);
  return Number(value);
}

export function when(page: PageContext, occurrence: { start: number; end: number | null }, timezone: string): string {
  return formatWhen(page.locale, occurrence, timezone);
}

/** "2026-12-01T18:30" typed in the event's time zone → an instant. */
export function parseLocal(value: string, timezone: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(value);
  if (!m) return null;
  return instantOf(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!), timezone);
}

export function localInput(ms: number | null, timezone: string): string {
  if (ms == null) return "";
  const w = wallClock(ms, timezone);
  return `${w.slice(0, 4)}-${w.slice(4, 6)}-${w.slice(6, 8)}T${w.slice(9, 11)}:${w.slice(11, 13)}`;
}

/** The repetitions the event form offers; another rule (from the API) shows as itself. */
const RRULE_CHOICES = ["FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2", "FREQ=MONTHLY;BYDAY=1TU", "FREQ=MONTHLY;BYDAY=1WE", "FREQ=MONTHLY;BYDAY=1TH", "FREQ=MONTHLY"];

function inputOf(form: Form): EventInput {
  const timezone = one(form.timezone) || "Europe/Paris";
  const start = parseLocal(one(form.start), timezone);
  if (start == null) throw new UserError("event_start_invalid", 422);
  const end = one(form.end) ? parseLocal(one(form.end), timezone) : null;
  const number = (v: string) => (v === "" ? null : Number(v));
  return {
    title: one(form.title),
    description: one(form.description),
    startAt: start,
    endAt: end,
    timezone,
    placeName: one(form.place_name) || null,
    street: one(form.street) || null,
    postalCode: one(form.postal_code) || null,
    locality: one(form.locality) || null,
    onlineUrl: one(form.online_url) || null,
    category: (one(form.category) || "other") as EventCategory,
    capacity: number(one(form.capacity)),
    audience: (["section", "groups", "federation"].includes(one(form.audience)) ? one(form.audience) : "public") as EventInput["audience"],
    groups: many(form.groups).filter((x) => /^\d+$/.test(x)).map(Number),
    joinMode: (one(form.join_mode) || "open") as EventInput["joinMode"],
    status: one(form.status) === "tentative" ? "tentative" : "confirmed",
    rrule: one(form.rrule) || null,
    agenda: one(form.agenda).split(/\r?\n/),
    forSection: one(form.for_section) === "1" || one(form.organiser) === "section",
    forGroup: /^group:\d+$/.test(one(form.organiser)) ? Number(one(form.organiser).slice(6)) : null,
  };
}

function many(value: string | string[] | undefined): string[] {
  return (Array.isArray(value) ? value : value ? [value] : []).map((v) => v.trim()).filter(Boolean);
}

/** Multipart files of the event form kept with their type and name; an empty file input is no file. */
async function keepFile(part: MultipartFile): Promise<void> {
  const data = await part.toBuffer();
  (part as unknown as { value: FormFile | "" }).value = part.filename && data.length ? { data, contentType: part.mimetype, fileName: part.filename } : "";
}

/**
 * The attachments the event form asks for: files kept, new uploads, links (one
 * per line, "address name"). Undefined when the form has no attachments part,
 * so an older form or a script leaves them as they are.
 */
function attachmentsOf(services: Services, user: User, body: Record<string, unknown>): AttachmentInput[] | undefined {
  if (one(body.attachments_form as string | undefined) !== "1") return undefined;
  const many = <T>(v: T | T[] | undefined): T[] => (Array.isArray(v) ? v : v == null ? [] : [v]);
  const kept = many(body.keep_file as string | string[] | undefined).filter((x) => /^\d+$/.test(x)).map((x) => ({ mediaId: Number(x) }));
  const files = many(body.files as FormFile | "" | Array<FormFile | "">).filter((f): f is FormFile => typeof f === "object" && f !== null);
  const links = one(body.links as string | undefined)
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [url, ...name] = line.split(/\s+/);
      return { url: url!, name: name.join(" ") };
    });
  if (kept.length + files.length + links.length > ATTACHMENTS_PER_EVENT) throw new UserError("event_attachments_too_many", 422, { max: ATTACHMENTS_PER_EVENT });
  const uploaded = files.map((f) => ({ mediaId: uploadEventFile(services, user.actorId, { data: f.data, contentType: f.contentType, fileName: f.fileName }).id }));
  return [...kept, ...uploaded, ...links];
}

/** 🔒 and who a non-public event is for. */
export function audienceBadge(page: PageContext, event: Pick<EventRow, "audience">): Html {
  const key = { public: null, section: "visibility.section_marker", groups: "event.groups_marker", federation: "event.federation_marker" }[event.audience];
  return key ? html` <span class="badge">${event.audience === "federation" ? "🏛" : "🔒"} ${page.t(key)}</span>` : html``;
}

function attachmentList(page: PageContext, items: EventAttachment[]): Html {
  if (items.length === 0) return html``;
  return html`<h2>${page.t("event.attachments")}</h2><ul class="attachments">${items.map(
    (a) => html`<li>${a.kind === "link" ? "🔗" : "📎"} <a href="${a.url}" rel="nofollow noopener noreferrer">${a.name}</a>${a.kind === "link" ? html` (${page.t("event.attachment_link")})` : a.mediaType === "application/pdf" ? " (PDF)" : ""}</li>`,
  )}</ul>`;
}

/** Events shown in one day of the month view. */
const MONTH_DAY_MAX = 20;

/** One line of the agenda: an event's occurrence, or field work (an action, or one of my shifts). */
interface AgendaItem {
  start: number;
  end: number | null;
  timezone: string;
  occurrence?: Occurrence;
  field?: FieldEntry;
  /** The next dates of a recurring event shown once (list view). */
  later?: number[];
}

/** How many next dates a recurring event's line names. */
const LATER_DATES = 3;

/** Lines of one page of the list view; a "later" link starts the next page. */
const LIST_PAGE = 50;

/**
 * One page of the list: LIST_PAGE lines at most, cut before the first start
 * time left out, so that the next page (from that time on) misses nothing.
 */
function listPage(items: AgendaItem[]): { shown: AgendaItem[]; next: number | null } {
  if (items.length <= LIST_PAGE) return { shown: items, next: null };
  const next = items[LIST_PAGE]!.start;
  const cut = items.findIndex((item) => item.start === next);
  // Fifty lines at the same minute: the rest of that minute is skipped rather than shown again.
  return cut > 0 ? { shown: items.slice(0, cut), next } : { shown: items.slice(0, LIST_PAGE), next: next + 1 };
}

/** Events and field work in time order; with `groupRecurring`, one line per recurring event with its next dates. */
function agendaItems(occurrences: Occurrence[], field: FieldEntry[], options: { groupRecurring?: boolean } = {}): AgendaItem[] {
  const items: AgendaItem[] = [];
  const firstOf = new Map<number, AgendaItem>();
  for (const o of occurrences) {
    const seen = options.groupRecurring && o.event.rrule ? firstOf.get(o.event.id) : undefined;
    if (seen) {
      if (seen.later!.length < LATER_DATES) seen.later!.push(o.start);
      continue;
    }
    const item: AgendaItem = { start: o.start, end: o.end, timezone: o.event.timezone, occurrence: o, later: [] };
    if (options.groupRecurring && o.event.rrule) firstOf.set(o.event.id, item);
    items.push(item);
  }
  for (const f of field) items.push({ start: f.start, end: f.end, timezone: f.action.timezone, field: f });
  return items.sort((x, y) => x.start - y.start);
}

export function registerAgendaRoutes(web: FastifyInstance, services: Services): void {
  const { db, config } = services;

  /** How an item of the agenda is named and linked: an event's page, or the action's (field work). */
  const itemLink = (page: PageContext, item: AgendaItem, label: Html | string) =>
    item.occurrence ? html`<a href="/events/${item.occurrence.event.id}">${label}</a>` : html`<a href="/actions/${item.field!.action.id}">${label}</a>`;

  const eventList = (page: PageContext, items: AgendaItem[]): Html =>
    items.length === 0
      ? html`<p>${page.t("agenda.empty")}</p>`
      : html`<ul class="events">${items.map((item) => {
          const o = item.occurrence;
          if (!o) {
            const { action, shift } = item.field!;
            return html`<li class="event field">
  ${itemLink(page, item, html`<strong>${action.title}</strong>`)} <span class="badge">${page.t(`action.type.${action.type}`)}</span>${shift ? html` <span class="badge">${page.t("agenda.my_shift")}</span>` : ""}<br>
  <time datetime="${new Date(item.start).toISOString()}">${when(page, item, action.timezone)}</time>${action.meetingPoint ? html` · ${action.meetingPoint}` : ""} · ${page.t("agenda.field_work")}
</li>`;
          }
          return html`<li class="event${o.event.status === "cancelled" ? raw(" cancelled") : ""}">
  ${itemLink(page, item, html`<strong>${o.event.title}</strong>`)}
  ${o.event.status === "cancelled" ? html` <span class="badge">${page.t("event.cancelled")}</span>` : ""}
  ${audienceBadge(page, o.event)}<br>
  <time datetime="${new Date(o.start).toISOString()}">${when(page, o, o.event.timezone)}</time>
  ${placeText(o.event) ? html` · ${placeText(o.event)}` : ""} · ${page.t(`category.${o.event.category}`)}
  ${item.later?.length ? html`<br><span class="meta">${page.t("agenda.then", { dates: item.later.map((ms) => dateFormat(page.locale === "fr" ? "fr-FR" : "en-GB", { day: "numeric", month: "short", timeZone: o.event.timezone }).format(ms)).join(", ") })}</span>` : ""}
</li>`;
        })}</ul>`;

  const monthGrid = (page: PageContext, year: number, month: number, items: AgendaItem[]): Html => {
    const first = Date.UTC(year, month - 1, 1);
    const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const lead = (new Date(first).getUTCDay() + 6) % 7; // weeks start on Monday
    const byDay = new Map<number, AgendaItem[]>();
    for (const o of items) {
      const d = Number(wallClock(o.start, o.timezone).slice(6, 8));
      const list = byDay.get(d);
      if (list) list.push(o);
      else byDay.set(d, [o]);
    }
    const cells: Html[] = [];
    for (let i = 0; i < lead; i++) cells.push(html`<td></td>`);
    for (let d = 1; d <= days; d++) {
      // A day shows MONTH_DAY_MAX events and how many more: the page stays small whatever the agenda holds.
      const list = byDay.get(d) ?? [];
      const shown = list.slice(0, MONTH_DAY_MAX).map((item) => {
        const clock = wallClock(item.start, item.timezone);
        return itemLink(page, item, `${clock.slice(9, 11)}:${clock.slice(11, 13)} ${item.occurrence?.event.title ?? `${page.t(`action.type.${item.field!.action.type}`)} : ${item.field!.action.title}`}`);
      });
      const more = list.length > MONTH_DAY_MAX ? html`<span class="more">${page.t("agenda.more", { count: list.length - MONTH_DAY_MAX })}</span>` : "";
      cells.push(html`<td><span class="day">${d}</span>${shown}${more}</td>`);
    }
    const rows: Html[] = [];
    for (let i = 0; i < cells.length; i += 7) rows.push(html`<tr>${cells.slice(i, i + 7)}</tr>`);
    const names = page.locale === "fr" ? ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."] : ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    return html`<table class="month"><thead><tr>${names.map((n) => html`<th scope="col">${n}</th>`)}</tr></thead><tbody>${rows}</tbody></table>`;
  };

  const agendaPage = (request: FastifyRequest, reply: FastifyReply, mine: boolean) => {
    const { page } = request;
    const user = mine ? requireUser(request) : page.user;
    const query = request.query as Record<string, string | undefined>;
    const viewer = viewerOf(user);
    const category = EVENT_CATEGORIES.includes(query.category as EventCategory) ? (query.category as EventCategory) : undefined;
    const locality = query.locality?.trim() || undefined;
    const monthMatch = /^(\d{4})-(\d{2})$/.exec(query.month ?? "");
    const base = mine ? "/agenda/me" : "/agenda";
    // ?audience=federation: the events every section of the fédération shares (a fédération's own page lists its sections').
    const audience = query.audience === "federation" ? ("federation" as const) : undefined;
    const filters = { category, locality, attendingActorId: mine ? user!.actorId : undefined, audience };
    // Field work (actions, or my shifts on my agenda) is the section's own: not on a filtered or fédération-wide view.
    const fieldWork = (from: number, to: number) => (category || locality || audience ? [] : fieldWorkBetween(db, user, from, to, mine));
    // Links between views and months keep the filters chosen.
    const link = (month?: string, later?: number) => {
      const q = new URLSearchParams();
      if (month) q.set("month", month);
      if (later) q.set("from", String(later));
      if (category) q.set("category", category);
      if (locality) q.set("locality", locality);
      if (audience) q.set("audience", audience);
      return q.size ? `${base}?${q}` : base;
    };
    let body: Html;
    let title = page.t(mine ? "agenda.mine" : audience ? "agenda.federation" : "agenda.title");
    if (monthMatch) {
      const [year, month] = [Number(monthMatch[1]), Number(monthMatch[2])];
      const from = instantOf(Date.UTC(year, month - 1, 1), "Europe/Paris");
      const to = instantOf(Date.UTC(year, month, 1), "Europe/Paris") - 1;
      const label = dateFormat(page.locale === "fr" ? "fr-FR" : "en-GB", { month: "long", year: "numeric", timeZone: "UTC" }).format(Date.UTC(year, month - 1, 15));
      const prev = month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, "0")}`;
      const next = month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, "0")}`;
      title = `${title} — ${label}`;
      body = html`<nav class="pager"><a href="${link(prev)}">← ${page.t("agenda.previous")}</a> <a href="${link(next)}">${page.t("agenda.next")} →</a></nav>
${monthGrid(page, year, month, agendaItems(agenda(db, viewer, { from, to, ...filters }), fieldWork(from, to)))}`;
    } else {
      // A page of the list: from now (events begun in the last hours too), or from `?from=`, the "later" link.
      const now = Date.now();
      const asked = Number(query.from);
      const later = Number.isSafeInteger(asked) && asked > now && inDateRange(asked) ? asked : null;
      const from = later ?? now - DAY / 4;
      const to = from + 365 * DAY;
      // Only what a page can show is read and expanded: the soonest single events, a recurring
      // meeting's next few dates (one line with its next dates, not one line per date).
      const occurrences = agenda(db, viewer, { from, to, ...filters, perEvent: 1 + LATER_DATES, firstSingles: LIST_PAGE + 1 }).filter((o) => later == null || o.start >= later);
      const field = fieldWork(from, to).filter((f) => later == null || f.start >= later);
      const { shown, next } = listPage(agendaItems(occurrences, field, { groupRecurring: true }));
      body = html`${eventList(page, shown)}${next ? html`<nav class="pager"><a href="${link(undefined, next)}" rel="next">${page.t("agenda.later")} →</a></nav>` : ""}`;
    }
    const thisMonth = wallClock(Date.now(), "Europe/Paris");
    return sendPage(reply, layout(page, title, html`<h1>${title}</h1>
<p class="actions"><a href="${link()}">${page.t("agenda.list")}</a> · <a href="${link(`${thisMonth.slice(0, 4)}-${thisMonth.slice(4, 6)}`)}">${page.t("agenda.month")}</a>
${user ? html` · <a href="/events/new">${page.t("event.new")}</a>` : ""} · <a href="${mine ? "/settings/calendar" : "/agenda.ics"}">${page.t("agenda.subscribe")}</a>
${!mine && readsSection(viewer) && (config.kind === "federation" || config.parent) ? html` · <a href="/agenda?audience=federation">${page.t("agenda.federation")}</a>` : ""}</p>
<form method="get" action="${base}" class="filters">
  ${monthMatch ? html`<input type="hidden" name="month" value="${query.month!}">` : ""}
  ${audience ? html`<input type="hidden" name="audience" value="federation">` : ""}
  <label for="category">${page.t("event.category")}</label>
  <select id="category" name="category"><option value="">${page.t("agenda.all")}</option>${EVENT_CATEGORIES.map((c) => html`<option value="${c}" ${c === category ? raw("selected") : ""}>${page.t(`category.${c}`)}</option>`)}</select>
  <label for="locality">${page.t("event.locality")}</label>
  <input type="text" id="locality" name="locality" value="${locality ?? ""}">
  <button type="submit">${page.t("agenda.filter")}</button>
</form>
${body}`));
  };

  web.get("/agenda", (request, reply) => agendaPage(request, reply, false));
  web.get("/agenda/me", (request, reply) => agendaPage(request, reply, true));

  // Public feed: public events only, whoever asks.
  web.get("/agenda.ics", (_request, reply) => {
    const rows = agenda(db, { kind: "anonymous" }, { from: Date.now() - 90 * DAY, to: Date.now() + 730 * DAY, perEvent: 1 }).map((o) => o.event);
    return sendIcs(reply, calendarOf(config.name, unique(rows), { origin: config.origin }));
  });

  // Private feed: a secret address per member, for calendar apps that cannot log in.
  web.get("/agenda/private/:token", (request: FastifyRequest<{ Params: { token: string } }>, reply) => {
    const token = request.params.token.replace(/\.ics$/, "");
    const row = db.select().from(calendarTokens).where(eq(calendarTokens.tokenHash, hashToken(token))).get();
    const user = row ? services.db.query.users.findFirst({ where: (u, { eq }) => eq(u.id, row.userId) }).sync() : undefined;
    if (!user || user.disabledAt) throw new UserError("calendar_token_invalid", 404);
    const [from, to] = [Date.now() - 90 * DAY, Date.now() + 730 * DAY];
    // A feed carries each event once, with its rule: one occurrence tells that it is in the window.
    const rows = agenda(db, viewerOf(user), { from, to, perEvent: 1 }).map((o) => o.event);
    const fieldWork = [...fieldWorkBetween(db, user, from, to), ...fieldWorkBetween(db, user, from, to, true)];
    return sendIcs(reply, calendarOf(`${config.name} — ${user.username}`, unique(rows), { origin: config.origin, fieldWork }));
  });

  web.get("/settings/calendar", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const has = !!db.select().from(calendarTokens).where(eq(calendarTokens.userId, user.id)).get();
    const fresh = (request.query as Record<string, string | undefined>).token;
    return sendPage(reply, layout(page, page.t("calendar.title"), html`<h1>${page.t("calendar.title")}</h1>
<p>${page.t("calendar.intro")}</p>
<p><a href="/agenda.ics">${config.origin}/agenda.ics</a> — ${page.t("calendar.public")}</p>
${fresh ? html`<p>${page.t("calendar.private_new")}</p><p><code id="calendar-link" class="code">${config.origin}/agenda/private/${fresh}.ics</code></p>` : has ? html`<p>${page.t("calendar.private_exists")}</p>` : ""}
<form method="post" action="/settings/calendar">${csrfField(page)}<button type="submit">${page.t(has ? "calendar.renew" : "calendar.create")}</button></form>
${has ? html`<form method="post" action="/settings/calendar/revoke">${csrfField(page)}<button type="submit" class="secondary">${page.t("calendar.revoke")}</button></form>` : ""}`));
  });

  web.post("/settings/calendar", (request, reply) => {
    const user = requireUser(request);
    const token = newToken();
    db.insert(calendarTokens).values({ userId: user.id, tokenHash: hashToken(token) }).onConflictDoUpdate({ target: calendarTokens.userId, set: { tokenHash: hashToken(token), createdAt: Date.now() } }).run();
    // Shown once, on the page the browser is sent to; only its hash is kept.
    return reply.redirect(`/settings/calendar?token=${token}`, 303);
  });

  web.post("/settings/calendar/revoke", (request, reply) => {
    const user = requireUser(request);
    db.delete(calendarTokens).where(eq(calendarTokens.userId, user.id)).run();
    return reply.redirect("/settings/calendar", 303);
  });

  /**
   * The event form. After a refusal it shows what the member typed (`typed`,
   * the posted form), not the stored event nor blanks: nothing is lost but
   * the files, which browsers never let a page fill in again.
   */
  const eventForm = (page: PageContext, action: string, event?: EventRow, error?: string, preset?: { forGroup?: number; groups?: number[] }, typed?: Form) => {
    const { t, user } = page;
    const usable = user ? groupsUsableBy(db, user) : [];
    const organisable = user ? groupsOrganisableBy(db, user) : [];
    const chosenGroups = typed ? many(typed.groups).map(Number) : event ? eventGroupIds(db, event.id) : (preset?.groups ?? []);
    const hasFederation = config.kind === "section" && !!config.parent;
    // An event for groups or the fédération keeps its audience; the others choose among those open to the member.
    const audiences: EventAudience[] = event && (event.audience === "groups" || event.audience === "federation")
      ? [event.audience]
      : [
          "public",
          ...(user && isCardHolder(user.role) ? (["section"] as const) : []),
          ...(!event && (usable.length || organisable.length) ? (["groups"] as const) : []),
          ...(!event && hasFederation && user && isCardHolder(user.role) ? (["federation"] as const) : []),
        ];
    const chosenAudience = typed ? one(typed.audience) : (event?.audience ?? (preset?.groups?.length ? "groups" : "public"));
    const tz = (typed && one(typed.timezone)) || event?.timezone || "Europe/Paris";
    const stored: Record<string, string | number | null | undefined> = event
      ? { title: event.title, start: localInput(event.startAt, tz), end: localInput(event.endAt, tz), category: event.category, description: event.source, agenda: (JSON.parse(event.agenda) as string[]).join("\n"), place_name: event.placeName, street: event.street, postal_code: event.postalCode, locality: event.locality, online_url: event.onlineUrl, capacity: event.capacity, join_mode: event.joinMode, rrule: event.rrule, status: event.status }
      : {};
    /** A field's value: as typed, else as stored, else empty. */
    const v = (name: string) => (typed ? one(typed[name]) : String(stored[name] ?? ""));
    const attached = event ? eventAttachments(db, config.origin, event.id) : [];
    // The less used fields wait behind « Plus d'options » (a long form on a phone), open as soon as one holds something.
    const moreOpen = ["agenda", "capacity", "rrule", "status"].some((name) => v(name) !== "") || (v("join_mode") || "open") !== "open" || attached.length > 0 || (typed ? one(typed.links) : "") !== "";
    return layout(page, t(event ? "event.edit" : "event.new"), html`<h1>${t(event ? "event.edit" : "event.new")}</h1>
<form method="post" action="${action}" enctype="multipart/form-data">
  ${csrfField(page)}
  <label for="title">${t("event.title")}</label>
  <input type="text" id="title" name="title" required maxlength="200" value="${v("title")}">
  <label for="start">${t("event.start")}</label>
  <input type="datetime-local" id="start" name="start" required value="${v("start")}">
  <label for="end">${t("event.end")}</label>
  <input type="datetime-local" id="end" name="end" value="${v("end")}">
  <input type="hidden" name="timezone" value="${tz}">
  <label for="category">${t("event.category")}</label>
  <select id="category" name="category">${EVENT_CATEGORIES.map((c) => html`<option value="${c}" ${c === (v("category") || "section_meeting") ? raw("selected") : ""}>${t(`category.${c}`)}</option>`)}</select>
  <label for="description">${t("event.description")}</label>
  <textarea id="description" name="description" rows="5">${v("description")}</textarea>
  <fieldset class="place"><legend>${t("event.place")}</legend>
  <label for="place_name">${t("event.place_name")}</label>
  <input type="text" id="place_name" name="place_name" value="${v("place_name")}">
  <label for="street">${t("event.street")}</label>
  <input type="text" id="street" name="street" value="${v("street")}">
  <div class="postal-row">
    <div><label for="postal_code">${t("event.postal_code")}</label>
    <input type="text" id="postal_code" name="postal_code" inputmode="numeric" value="${v("postal_code")}"></div>
    <div><label for="locality">${t("event.locality")}</label>
    <input type="text" id="locality" name="locality" value="${v("locality")}"></div>
  </div>
  <label for="online_url">${t("event.online_url")}</label>
  <input type="url" id="online_url" name="online_url" value="${v("online_url")}">
  </fieldset>
  ${user && !event && (canManageMembers(user.role) || organisable.length) ? html`<label for="organiser">${t("event.organiser_choice")}</label>
  <select id="organiser" name="organiser">
    <option value="me">${t("event.organiser.me")}</option>
    ${canManageMembers(user.role) ? html`<option value="section" ${!typed || one(typed.organiser) === "section" ? raw("selected") : ""}>${t("event.organiser.section")}</option>` : ""}
    ${organisable.map((g) => html`<option value="group:${g.id}" ${(typed ? one(typed.organiser) === `group:${g.id}` : preset?.forGroup === g.id) ? raw("selected") : ""}>${t("event.organiser.group", { name: g.name })}</option>`)}
  </select>` : ""}
  <label for="audience">${t("event.audience")}</label>
  <select id="audience" name="audience" aria-describedby="audience-help">
    ${audiences.map((a) => html`<option value="${a}" ${a === chosenAudience ? raw("selected") : ""}>${t(`event.audience.${a}`)}</option>`)}
  </select>
  <p class="help" id="audience-help">${t("event.audience_help")}</p>
  ${usable.length ? html`<fieldset><legend>${t("event.groups")}</legend>
    <p class="help">${t("event.groups_help")}</p>
    ${usable.map((g) => html`<label><input type="checkbox" name="groups" value="${g.id}" ${chosenGroups.includes(g.id) ? raw("checked") : ""}${event && chosenGroups.includes(g.id) ? raw(" disabled") : ""}> ${g.name}</label>`)}
  </fieldset>` : ""}
  <details class="more" ${moreOpen ? raw("open") : ""}><summary>${t("event.more_options")}</summary>
  <label for="agenda">${t("event.agenda")}</label>
  <textarea id="agenda" name="agenda" rows="4" aria-describedby="agenda-help">${v("agenda")}</textarea>
  <p class="help" id="agenda-help">${t("event.agenda_help")}</p>
  <label for="capacity">${t("event.capacity")}</label>
  <input type="number" id="capacity" name="capacity" min="1" value="${v("capacity")}">
  <label for="join_mode">${t("event.join_mode")}</label>
  <select id="join_mode" name="join_mode">${JOIN_MODES.map((m) => html`<option value="${m}" ${m === (v("join_mode") || "open") ? raw("selected") : ""}>${t(`join_mode.${m}`)}</option>`)}</select>
  <label for="rrule">${t("event.rrule")}</label>
  <select id="rrule" name="rrule">
    ${["", ...RRULE_CHOICES].map((r) => html`<option value="${r}" ${r === v("rrule") ? raw("selected") : ""}>${t(`rrule.${r || "none"}`)}</option>`)}
    ${v("rrule") && !RRULE_CHOICES.includes(v("rrule")) ? html`<option value="${v("rrule")}" selected>${v("rrule")}</option>` : ""}
  </select>
  <fieldset><legend>${t("event.attachments")}</legend>
    <input type="hidden" name="attachments_form" value="1">
    ${attached.filter((a) => a.kind === "file").map((a) => html`<label><input type="checkbox" name="keep_file" value="${a.id}" checked> ${t("event.attachments_keep")} : <a href="${a.url}">${a.name}</a></label>`)}
    <label for="files">${t("event.attachments_files", { max: MEDIA_MAX_BYTES / 1024 / 1024 })}</label>
    <input type="file" id="files" name="files" multiple accept="application/pdf,image/jpeg,image/png,image/gif,image/webp,image/avif">
    <label for="links">${t("event.attachments_links")}</label>
    <textarea id="links" name="links" rows="3" aria-describedby="links-help">${attached.filter((a) => a.kind === "link").map((a) => `${a.url}${a.name && a.name !== a.url ? ` ${a.name}` : ""}`).join("\n")}</textarea>
    <p class="help" id="links-help">${t("event.attachments_help")}</p>
  </fieldset>
  <label><input type="checkbox" name="status" value="tentative" ${v("status") === "tentative" ? raw("checked") : ""}> ${t("event.tentative")}</label>
  </details>
  <p><button type="submit">${t(event ? "event.save" : "event.create")}</button></p>
</form>`, { error });
  };

  web.get("/events/new", (request, reply) => {
    requireUser(request);
    // From a group's agenda: the group organises, for its members.
    const group = Number((request.query as Record<string, string | undefined>).group ?? NaN);
    return sendPage(reply, eventForm(request.page, "/events", undefined, undefined, Number.isSafeInteger(group) ? { forGroup: group, groups: [group] } : undefined));
  });


  web.get("/events/:id.ics", (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const event = getVisibleEvent(db, viewerOf(request.page.user), idOf(request.params.id));
    return sendIcs(reply, calendarOf(event.title, [event], { origin: config.origin }));
  });

  /** Who signed a request (authorized fetch): the key owner's URI, and its row if we know it. */
  const signerOf = async (request: FastifyRequest): Promise<{ uri: string; actor: ActorRow | null } | null> => {
    if (!request.headers.signature && !request.headers["signature-input"]) return null;
    const headers = new Headers();
    for (const [k, v] of Object.entries(request.headers)) if (v != null) headers.set(k, Array.isArray(v) ? v.join(", ") : String(v));
    const ctx = services.federation.createContext(new Request(new URL(request.url, config.origin), { method: request.method, headers }), services);
    const owner = await ctx.getSignedKeyOwner().catch(() => null);
    if (!owner?.id) return null;
    return { uri: owner.id.href, actor: db.select().from(actors).where(eq(actors.uri, owner.id.href)).get() ?? null };
  };
  const mayAnswerFromAfarOrRead = (event: EventRow, signer: { uri: string; actor: ActorRow | null } | null) =>
    !!signer && new URL(signer.uri).origin !== new URL(config.origin).origin && mayFetchEvent(services, event, signer);

  web.get("/events/:id", async (request: WithId, reply) => {
    const { page } = request;
    const accept = request.headers.accept ?? "";
    const id = idOf(request.params.id);
    // ActivityPub clients get the Event object; section-only events do not exist for them.
    if (/application\/(activity|ld)\+json/.test(accept)) {
      const event = db.select().from(events).where(eq(events.id, id)).get();
      const organiser = event && db.select().from(actors).where(eq(actors.id, event.actorId)).get();
      // An event for groups or for the fédération: only for a request signed by someone it is for.
      const allowed = !!event && (event.audience === "public" || (event.audience !== "section" && mayAnswerFromAfarOrRead(event, await signerOf(request))));
      if (!event || !allowed || !organiser?.local) return reply.code(404).type("application/json").send({ error: "Not found" });
      return reply.type("application/activity+json").send(eventDocument(event, organiser, eventExtras(services, event)));
    }
    const event = getVisibleEvent(db, viewerOf(page.user), id);
    const organiser = db.select().from(actors).where(eq(actors.id, event.actorId)).get()!;
    const tally = counts(db, event.id);
    const remaining = remainingCapacity(db, event);
    const mine = page.user ? rsvpOf(db, event.id, page.user.actorId) : undefined;
    const editable = page.user ? canEditEvent(services, page.user, event) : false;
    const items = JSON.parse(event.agenda) as string[];
    const place = placeText(event);
    const map = event.latitude != null && event.longitude != null
      ? `https://www.openstreetmap.org/?mlat=${event.latitude}&mlon=${event.longitude}#map=17/${event.latitude}/${event.longitude}`
      : place ? `https://www.openstreetmap.org/search?query=${encodeURIComponent(place)}` : null;
    const notice = (request.query as Record<string, string | undefined>).notice;
    // Checked again when shown: an event stored before safeUrl() existed may hold a javascript: link.
    const online = safeUrl(event.onlineUrl);
    const answerButton = (answer: Answer) => html`<button type="submit" name="answer" value="${answer}" ${mine && (mine.status === answer || (answer === "going" && ["waiting", "pending"].includes(mine.status))) ? raw('aria-pressed="true"') : ""}>${page.t(`rsvp.${answer}`)}</button>`;
    return sendPage(reply, layout(page, event.title, html`<article class="event-page">
<h1>${event.title}</h1>
${event.status === "cancelled" ? html`<p class="error">${page.t("event.cancelled_notice")}</p>` : ""}
${event.status === "tentative" ? html`<p class="badge">${page.t("event.tentative")}</p>` : ""}
${event.audience !== "public" ? html`<p>${audienceBadge(page, event)}${event.audience === "groups" ? html` ${page.t("event.for_groups", { names: groupsOfEvent(services, event.id).map((g) => g.group.name).join(", ") })}` : ""}</p>` : ""}
<p><time datetime="${new Date(event.startAt).toISOString()}">${when(page, { start: event.startAt, end: event.endAt }, event.timezone)}</time>${event.rrule ? html` · ${page.t(`rrule.${event.rrule}`) === `rrule.${event.rrule}` ? event.rrule : page.t(`rrule.${event.rrule}`)}` : ""}</p>
<p>${page.t(`category.${event.category}`)} · ${page.t("event.organiser")} : ${organiser.name || organiser.username}</p>
${place ? html`<p>${PIN} ${place}${map ? html` — <a href="${map}" rel="noopener noreferrer">${page.t("event.map")}</a>` : ""}</p>` : ""}
${online ? html`<p>💻 <a href="${online}" rel="nofollow noopener noreferrer">${online}</a></p>` : ""}
<div class="content">${raw(event.description)}</div>
${items.length ? html`<h2>${page.t("event.agenda")}</h2><ol>${items.map((i) => html`<li>${i}</li>`)}</ol>` : ""}
${attachmentList(page, eventAttachments(db, config.origin, event.id))}
<p id="attendance">${page.t("event.going_count", { n: organiser.local ? tally.going : (event.remoteParticipants ?? tally.going) })}${remaining != null ? html` · ${page.t("event.remaining", { n: remaining })}` : ""}${tally.waiting ? html` · ${page.t("event.waiting_count", { n: tally.waiting })}` : ""}</p>
${mine ? html`<p id="my-rsvp">${page.t(`rsvp.status.${mine.status}`)}</p>` : ""}
${page.user && event.status !== "cancelled"
  ? html`<form method="post" action="/events/${event.id}/rsvp" class="rsvp">${csrfField(page)}${answerButton("going")} ${answerButton("maybe")} ${answerButton("not_going")}</form>`
  : !page.user ? html`<p><a href="/login?next=/events/${event.id}">${page.t("event.login_to_answer")}</a></p>` : ""}
${event.rrule ? html`<h2>${page.t("event.next_dates")}</h2><ul class="dates">${occurrencesOf(event, Date.now(), Date.now() + 400 * DAY).slice(0, 6).map((o) => html`<li><time datetime="${new Date(o.start).toISOString()}">${when(page, o, event.timezone)}</time>${editable && event.status !== "cancelled" ? html` <form method="post" action="/events/${event.id}/skip" class="inline">${csrfField(page)}<input type="hidden" name="start" value="${String(o.start)}"><button type="submit" class="danger">${page.t("event.skip_date")}</button></form>` : ""}</li>`)}</ul>` : ""}
<p><a href="/events/${event.id}.ics">${CALENDAR} ${page.t("event.add_to_calendar")}</a></p>
${event.minutes ? html`<h2>${page.t("event.minutes")}</h2><div class="minutes">${event.minutes.split(/\n{2,}/).map((p) => html`<p>${p}</p>`)}</div>` : ""}
${editable ? html`<p class="actions"><a href="/events/${event.id}/edit">${page.t("event.edit")}</a> · <a href="/events/${event.id}/attendees">${page.t("event.attendees")}</a> · <a href="/events/${event.id}/minutes">${page.t("event.minutes")}</a></p>
${event.status !== "cancelled" ? html`<form method="post" action="/events/${event.id}/cancel">${csrfField(page)}<button type="submit" class="danger">${page.t("event.cancel")}</button></form>` : ""}` : ""}
</article>`, { notice: notice ? page.t(`event.notice.${notice}`) : undefined }));
  });

  const editable = (request: FastifyRequest, id: number) => {
    const user = requireUser(request);
    const event = db.select().from(events).where(eq(events.id, id)).get();
    if (!event || !canEditEvent(services, user, event)) throw new UserError("event_not_found", 404);
    return { user, event };
  };

  web.get("/events/:id/edit", (request: WithId, reply) => {
    const { event } = editable(request, idOf(request.params.id));
    return sendPage(reply, eventForm(request.page, `/events/${event.id}`, event));
  });

  // The event form carries files: multipart bodies are read for these two routes only.
  void web.register(async (withFiles) => {
    await withFiles.register(multipart, { attachFieldsToBody: "keyValues", onFile: keepFile, limits: { fileSize: MEDIA_MAX_BYTES, files: ATTACHMENTS_PER_EVENT, fields: 100 } });

    withFiles.post("/events", async (request, reply) => {
      const user = requireUser(request);
      try {
        const body = request.body as Form;
        const event = await createEvent(services, user, { ...inputOf(body), attachments: attachmentsOf(services, user, body) });
        return reply.redirect(`/events/${event.id}?notice=created`, 303);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        return sendPage(reply, eventForm(request.page, "/events", undefined, request.page.t(error.code, error.params), undefined, request.body as Form), error.status);
      }
    });

    withFiles.post("/events/:id", async (request: WithId, reply) => {
      const { user, event } = editable(request, idOf(request.params.id));
      try {
        const body = request.body as Form;
        await updateEvent(services, user, event.id, { ...inputOf(body), attachments: attachmentsOf(services, user, body) });
        return reply.redirect(`/events/${event.id}?notice=saved`, 303);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        return sendPage(reply, eventForm(request.page, `/events/${event.id}`, event, request.page.t(error.code, error.params), undefined, request.body as Form), error.status);
      }
    });
  });

  web.post("/events/:id/cancel", async (request: WithId, reply) => {
    const { user, event } = editable(request, idOf(request.params.id));
    await cancelEvent(services, user, event.id);
    return reply.redirect(`/events/${event.id}`, 303);
  });

  web.post("/events/:id/skip", async (request: WithId, reply) => {
    const { user, event } = editable(request, idOf(request.params.id));
    const start = Number(one((request.body as Form).start));
    await skipOccurrence(services, user, event.id, start);
    return reply.redirect(`/events/${event.id}?notice=saved`, 303);
  });

  web.post("/events/:id/rsvp", async (request: WithId, reply) => {
    const user = requireUser(request);
    const answer = one((request.body as Form).answer) as Answer;
    if (!["going", "maybe", "not_going"].includes(answer)) throw new UserError("rsvp_invalid", 422);
    const row = await respond(services, user, idOf(request.params.id), answer);
    return reply.redirect(`/events/${request.params.id}?notice=${row.status}`, 303);
  });

  web.get("/events/:id/attendees", (request: WithId, reply) => {
    const { page } = request;
    const { event } = editable(request, idOf(request.params.id));
    const rows = attendees(db, event.id);
    return sendPage(reply, layout(page, page.t("event.attendees"), html`<h1>${page.t("event.attendees")} — ${event.title}</h1>
<p><a href="/events/${event.id}/attendees.csv">${page.t("event.export_csv")}</a></p>
<table><thead><tr><th scope="col">${page.t("field.display_name")}</th><th scope="col">${page.t("members.username")}</th><th scope="col">${page.t("rsvp.answer")}</th><th scope="col"><span class="visually-hidden">${page.t("members.actions")}</span></th></tr></thead>
<tbody>${rows.map((r) => html`<tr><td>${r.actor.name || r.actor.username}</td><td>@${r.actor.username}${r.actor.local ? "" : `@${r.actor.domain}`}</td><td>${page.t(`attendee.status.${r.rsvp.status}`)}</td><td>${r.rsvp.status === "pending" ? html`<form method="post" action="/events/${event.id}/attendees/${r.actor.id}/accept" class="inline">${csrfField(page)}<button type="submit">${page.t("requests.accept")}</button></form> <form method="post" action="/events/${event.id}/attendees/${r.actor.id}/reject" class="inline">${csrfField(page)}<button type="submit" class="secondary">${page.t("requests.reject")}</button></form>` : ""}</td></tr>`)}</tbody></table>`));
  });

  web.get("/events/:id/attendees.csv", (request: WithId, reply) => {
    const { event } = editable(request, idOf(request.params.id));
    const csv = toCsv(
      ["nom", "compte", "reponse", "present", "date"],
      attendees(db, event.id).map((r) => [r.actor.name || r.actor.username, `${r.actor.username}@${r.actor.domain}`, r.rsvp.status, r.rsvp.attended, new Date(r.rsvp.createdAt).toISOString()]),
    );
    return sendCsv(reply, `participants-${event.id}.csv`, csv);
  });

  const decision = (accept: boolean) => async (request: FastifyRequest<{ Params: { id: string; actor: string } }>, reply: FastifyReply) => {
    const user = requireUser(request);
    await decide(services, user, idOf(request.params.id), idOf(request.params.actor), accept);
    return reply.redirect(`/events/${request.params.id}/attendees`, 303);
  };
  web.post("/events/:id/attendees/:actor/accept", decision(true));
  web.post("/events/:id/attendees/:actor/reject", decision(false));

  web.get("/events/:id/minutes", (request: WithId, reply) => {
    const { page } = request;
    const { event } = editable(request, idOf(request.params.id));
    const rows = attendees(db, event.id).filter((r) => r.rsvp.status === "going" || r.rsvp.status === "maybe");
    return sendPage(reply, layout(page, page.t("event.minutes"), html`<h1>${page.t("event.minutes")} — ${event.title}</h1>
<form method="post" action="/events/${event.id}/minutes">
  ${csrfField(page)}
  <label for="minutes">${page.t("event.minutes_text")}</label>
  <textarea id="minutes" name="minutes" rows="12">${event.minutes ?? ""}</textarea>
  <fieldset><legend>${page.t("event.present")}</legend>
  ${rows.map((r) => html`<label><input type="checkbox" name="present" value="${r.actor.id}" ${r.rsvp.attended ? raw("checked") : ""}> ${r.actor.name || r.actor.username}</label>`)}
  </fieldset>
  <p><button type="submit">${page.t("event.save")}</button></p>
</form>`));
  });

  web.post("/events/:id/minutes", (request: WithId, reply) => {
    const { user, event } = editable(request, idOf(request.params.id));
    const form = request.body as Form;
    const present = (Array.isArray(form.present) ? form.present : form.present ? [form.present] : []).filter((x) => /^\d+$/.test(x)).map(Number);
    recordMinutes(services, user, event.id, one(form.minutes), present);
    return reply.redirect(`/events/${event.id}?notice=saved`, 303);
  });
}

function unique(rows: EventRow[]): EventRow[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
}

function sendIcs(reply: FastifyReply, body: string): FastifyReply {
  return reply.type("text/calendar; charset=utf-8").header("cache-control", "private, max-age=300").send(body);
}
