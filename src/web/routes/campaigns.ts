// Campaign pages and the field actions of a campaign: the list of current
// campaigns (ours and our upper levels'), the campaign page with its progress,
// actions with their shifts (créneaux), results and contacts. Card-holders
// only; the domain functions in src/campaigns check every right again.
import { PIN } from "../icons.ts";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { UserError } from "../../errors.ts";
import { dateFormat, isTimezone } from "../../dates.ts";
import { isCardHolder, listMembers, memberNames, type User } from "../../members/members.ts";
import type { Services } from "../../services.ts";
import { ACTION_TYPES, METRICS, type ActionType, type Metric } from "../../storage/schema.ts";
import { instantOf } from "../../agenda/events.ts";
import { cancelCampaign, canRunCampaigns, createCampaign, findCampaign, getCampaign, joinCampaign, listCampaigns, updateCampaign, type CampaignInput, type CampaignRow } from "../../campaigns/campaigns.ts";
import {
  addShift,
  cancelAction,
  canEditAction,
  createAction,
  getAction,
  listActions,
  removeShift,
  shiftsOf,
  signUp,
  tookPart,
  updateAction,
  withdraw,
  type ActionInput,
  type ActionRow,
} from "../../campaigns/actions.ts";
import { actionsAwaitingResults, addContact, aggregate, canChangeResult, CONSENT_TEXT_FR, contactsOf, correctResult, deleteResult, recordResult, resultsOfAction, type ResultRow, type Totals } from "../../campaigns/results.ts";
import { nodeActor } from "../../federation/actors.ts";
import { html, raw, type Html } from "../html.ts";
import { csrfField, layout, type PageContext, scrollBox } from "../layout.ts";
import { requireUser, sendPage } from "../respond.ts";
import { safeUrl } from "../../safe-url.ts";
import { localInput, one, parseLocal, when } from "./agenda.ts";

export type Form = Record<string, string | string[] | undefined>;
type WithId = FastifyRequest<{ Params: { id: string } }>;
/** An action and one of its shifts or results. */
type WithItem = FastifyRequest<{ Params: { id: string; item: string } }>;

/** Campaigns carry no time zone: their dates are days, read in France. */
const ZONE = "Europe/Paris";

/** Campaign work is the party's own business: logged-in card-holders only (sympathisants get a 403 page). */
export function requireCardHolder(request: FastifyRequest): User {
  const user = requireUser(request);
  if (!isCardHolder(user.role)) throw new UserError("campaign_forbidden", 403);
  return user;
}

export function idOf(value: string, notFound: string): number {
  if (!/^\d+$/.test(value)) throw new UserError(notFound, 404);
  return Number(value);
}

/** "" → undefined; anything else through Number, so that the domain refuses "abc" (NaN) with its own message. */
function figure(value: string): number | undefined {
  return value === "" ? undefined : Number(value);
}

const localeOf = (page: PageContext) => (page.locale === "fr" ? "fr-FR" : "en-GB");

export function dayText(page: PageContext, ms: number): string {
  return dateFormat(localeOf(page), { dateStyle: "long", timeZone: ZONE }).format(ms);
}

export function dateTimeText(page: PageContext, ms: number, timezone = ZONE): string {
  return dateFormat(localeOf(page), { dateStyle: "long", timeStyle: "short", timeZone: timezone }).format(ms);
}

function timeText(page: PageContext, ms: number, timezone: string): string {
  return dateFormat(localeOf(page), { timeStyle: "short", timeZone: timezone }).format(ms);
}

/** "2026-03-01" as the start of that day in France, or (end) its last millisecond; NaN when unreadable. */
function dayInstant(value: string, end = false): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return Number.NaN;
  return instantOf(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]! + (end ? 1 : 0)), ZONE) - (end ? 1 : 0);
}

function dayInput(ms: number | null): string {
  return ms == null ? "" : localInput(ms, ZONE).slice(0, 10);
}

/** Plain text typed by members: blank lines make paragraphs, line breaks stay. */
export function paragraphs(text: string): Html[] {
  return text
    .split(/\n{2,}/)
    .filter((p) => p.trim())
    .map((p) => html`<p>${p.split("\n").map((line, i) => (i ? html`<br>${line}` : line))}</p>`);
}

/** The links between the pages of campaigns, actions, reports, directives and the hierarchy. */
export function fieldNav(page: PageContext): Html {
  const { t, user, services } = page;
  const dashboard = services.config.kind !== "section" && !!user && canRunCampaigns(user);
  return html`<p class="actions subnav"><a href="/campaigns">${t("campaign.nav")}</a> · <a href="/actions">${t("action.nav")}</a> · <a href="/reports">${t("report.nav")}</a> · <a href="/directives">${t("directive.nav")}</a> · <a href="/territory">${t("territory.nav")}</a> · <a href="/territory/directory">${t("directory.nav")}</a>${dashboard ? html` · <a href="/dashboard">${t("dashboard.nav")}</a>` : ""}</p>`;
}

/** One bar per metric that has a goal: what was done against what was aimed at. */
export function progressBars(page: PageContext, goals: Partial<Record<Metric, number>>, totals: Record<Metric, number>): Html {
  const { t } = page;
  const set = METRICS.filter((m) => (goals[m] ?? 0) > 0);
  if (set.length === 0) return html`<p class="help">${t("campaign.no_goals")}</p>`;
  return html`<dl class="progress">${set.map((m) => {
    const goal = goals[m]!;
    const done = totals[m];
    const pct = Math.round((done * 100) / goal);
    return html`<dt>${t(`result.metric.${m}`)}</dt><dd><progress max="${goal}" value="${Math.min(done, goal)}" aria-label="${t(`result.metric.${m}`)}">${pct} %</progress> ${t("campaign.progress", { done, goal, pct })}</dd>`;
  })}</dl>`;
}

const zero = (): Totals => ({ results: 0, ...(Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<Metric, number>) });

function period(page: PageContext, c: CampaignRow): string {
  return c.endsAt ? page.t("campaign.period", { from: dayText(page, c.startsAt), to: dayText(page, c.endsAt) }) : page.t("campaign.since", { from: dayText(page, c.startsAt) });
}

// ---- Campaign form ------------------------------------------------------------------

interface CampaignValues {
  title: string;
  description: string;
  starts: string;
  ends: string;
  goals: Partial<Record<Metric, string>>;
  materials: string;
}

const emptyCampaign: CampaignValues = { title: "", description: "", starts: "", ends: "", goals: {}, materials: "" };

function campaignValues(row: CampaignRow): CampaignValues {
  const goals = JSON.parse(row.goals) as Partial<Record<Metric, number>>;
  const materials = JSON.parse(row.materials) as Array<{ name: string; url: string }>;
  return {
    title: row.title,
    description: row.description,
    starts: dayInput(row.startsAt),
    ends: dayInput(row.endsAt),
    goals: Object.fromEntries(Object.entries(goals).map(([m, v]) => [m, String(v)])),
    materials: materials.map((m) => (m.name && m.name !== m.url ? `${m.name} ${m.url}` : m.url)).join("\n"),
  };
}

function campaignFormValues(form: Form): CampaignValues {
  return {
    title: one(form.title),
    description: one(form.description),
    starts: one(form.starts),
    ends: one(form.ends),
    goals: Object.fromEntries(METRICS.map((m) => [m, one(form[`goal_${m}`])])),
    materials: one(form.materials),
  };
}

/** One material a line: a name then its link ("Tract recto-verso https://…"), or the link alone. */
function materialsOf(text: string): Array<{ name: string; url: string }> {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const m = /^(.*?)\s*(\S+)$/.exec(line)!;
      const name = m[1]!.replace(/[\s:|–-]+$/, "");
      return { name: name || m[2]!, url: m[2]! };
    });
}

function campaignInput(values: CampaignValues): CampaignInput {
  return {
    title: values.title,
    description: values.description,
    startsAt: dayInstant(values.starts),
    endsAt: values.ends ? dayInstant(values.ends, true) : null,
    goals: Object.fromEntries(METRICS.map((m) => [m, figure(values.goals[m] ?? "")]).filter(([, v]) => v !== undefined)),
    materials: materialsOf(values.materials),
  };
}

function campaignForm(page: PageContext, action: string, values: CampaignValues, submit: string): Html {
  const { t } = page;
  return html`<form method="post" action="${action}">
  ${csrfField(page)}
  <label for="c-title">${t("campaign.field.title")}</label>
  <input type="text" id="c-title" name="title" required maxlength="200" value="${values.title}">
  <label for="c-description">${t("campaign.field.description")}</label>
  <textarea id="c-description" name="description" rows="4">${values.description}</textarea>
  <label for="c-starts">${t("campaign.field.starts")}</label>
  <input type="date" id="c-starts" name="starts" required value="${values.starts}">
  <label for="c-ends">${t("campaign.field.ends")}</label>
  <input type="date" id="c-ends" name="ends" value="${values.ends}">
  <fieldset><legend>${t("campaign.field.goals")}</legend>
  <p class="help">${t("campaign.field.goals_help")}</p>
  <div class="figures">${METRICS.map((m) => html`<label for="goal-${m}">${t(`result.metric.${m}`)}</label>
  <input type="number" id="goal-${m}" name="goal_${m}" min="0" step="1" value="${values.goals[m] ?? ""}">`)}</div>
  </fieldset>
  <label for="c-materials">${t("campaign.field.materials")}</label>
  <textarea id="c-materials" name="materials" rows="4" aria-describedby="c-materials-help">${values.materials}</textarea>
  <p class="help" id="c-materials-help">${t("campaign.field.materials_help")}</p>
  <p><button type="submit">${submit}</button></p>
</form>`;
}

// ---- Action form --------------------------------------------------------------------

interface ShiftValues {
  start: string;
  end: string;
  capacity: string;
  label: string;
}

interface ActionValues {
  type: string;
  title: string;
  start: string;
  end: string;
  timezone: string;
  meetingPoint: string;
  area: string;
  coordinator: string;
  notes: string;
  shifts: ShiftValues[];
}

/** Rows of the shift table on the new-action form; empty rows are skipped. */
const SHIFT_ROWS = 3;

function actionValues(row: ActionRow): ActionValues {
  return {
    type: row.type,
    title: row.title,
    start: localInput(row.startAt, row.timezone),
    end: localInput(row.endAt, row.timezone),
    timezone: row.timezone,
    meetingPoint: row.meetingPoint ?? "",
    area: row.area ?? "",
    coordinator: row.coordinatorId == null ? "" : String(row.coordinatorId),
    notes: row.notes,
    shifts: [],
  };
}

function shiftValues(form: Form, suffix: string): ShiftValues {
  return { start: one(form[`shift_start${suffix}`]), end: one(form[`shift_end${suffix}`]), capacity: one(form[`shift_capacity${suffix}`]), label: one(form[`shift_label${suffix}`]) };
}

function actionFormValues(form: Form): ActionValues {
  return {
    type: one(form.type),
    title: one(form.title),
    start: one(form.start),
    end: one(form.end),
    timezone: one(form.timezone) || ZONE,
    meetingPoint: one(form.meeting_point),
    area: one(form.area),
    coordinator: one(form.coordinator),
    notes: one(form.notes),
    shifts: Array.from({ length: SHIFT_ROWS }, (_, i) => shiftValues(form, `_${i + 1}`)),
  };
}

/** A shift's times are typed as hours of the action's day, in the action's time zone. */
function shiftInput(values: ShiftValues, day: string, timezone: string) {
  const at = (time: string) => (/^\d{2}:\d{2}$/.test(time) ? (parseLocal(`${day}T${time}`, timezone) ?? Number.NaN) : Number.NaN);
  return { startAt: at(values.start), endAt: at(values.end), capacity: figure(values.capacity) ?? null, label: values.label || null };
}

function actionInput(values: ActionValues, campaignId: number): ActionInput {
  // Checked before parsing: an unknown zone would make the date arithmetic throw.
  if (!isTimezone(values.timezone)) throw new UserError("timezone_invalid", 422);
  const startAt = parseLocal(values.start, values.timezone) ?? Number.NaN;
  const day = values.start.slice(0, 10);
  return {
    campaignId,
    type: values.type as ActionType,
    title: values.title,
    startAt,
    endAt: values.end ? (parseLocal(values.end, values.timezone) ?? Number.NaN) : null,
    timezone: values.timezone,
    meetingPoint: values.meetingPoint,
    area: values.area,
    coordinatorId: values.coordinator ? Number(values.coordinator) : null,
    notes: values.notes,
    shifts: values.shifts.filter((s) => s.start || s.end).map((s) => shiftInput(s, day, values.timezone)),
  };
}

function shiftFields(page: PageContext, suffix: string, values: ShiftValues, legend: string): Html {
  const { t } = page;
  return html`<fieldset class="shift"><legend>${legend}</legend>
  <label for="shift-start${suffix}">${t("action.shift.start")}</label>
  <input type="time" id="shift-start${suffix}" name="shift_start${suffix}" value="${values.start}">
  <label for="shift-end${suffix}">${t("action.shift.end")}</label>
  <input type="time" id="shift-end${suffix}" name="shift_end${suffix}" value="${values.end}">
  <label for="shift-capacity${suffix}">${t("action.shift.capacity")}</label>
  <input type="number" id="shift-capacity${suffix}" name="shift_capacity${suffix}" min="1" max="1000" value="${values.capacity}">
  <label for="shift-label${suffix}">${t("action.shift.label")}</label>
  <input type="text" id="shift-label${suffix}" name="shift_label${suffix}" maxlength="100" value="${values.label}">
</fieldset>`;
}

function actionForm(page: PageContext, services: Services, action: string, values: ActionValues, isNew: boolean): Html {
  const { t } = page;
  const people = listMembers(services.db).filter((m) => isCardHolder(m.role) && !m.disabledAt);
  return html`<form method="post" action="${action}">
  ${csrfField(page)}
  <input type="hidden" name="timezone" value="${values.timezone}">
  <label for="a-type">${t("action.field.type")}</label>
  <select id="a-type" name="type">${ACTION_TYPES.map((type) => html`<option value="${type}" ${type === values.type ? raw("selected") : ""}>${t(`action.type.${type}`)}</option>`)}</select>
  <label for="a-title">${t("action.field.title")}</label>
  <input type="text" id="a-title" name="title" required maxlength="200" value="${values.title}">
  <label for="a-start">${t("action.field.start")}</label>
  <input type="datetime-local" id="a-start" name="start" required value="${values.start}" aria-describedby="a-zone">
  <label for="a-end">${t("action.field.end")}</label>
  <input type="datetime-local" id="a-end" name="end" value="${values.end}" aria-describedby="a-zone">
  <p class="help" id="a-zone">${t("action.field.zone", { zone: values.timezone })}</p>
  <label for="a-meeting">${t("action.field.meeting_point")}</label>
  <input type="text" id="a-meeting" name="meeting_point" maxlength="300" value="${values.meetingPoint}">
  <label for="a-area">${t("action.field.area")}</label>
  <textarea id="a-area" name="area" rows="3" aria-describedby="a-area-help">${values.area}</textarea>
  <p class="help" id="a-area-help">${t("action.field.area_help")}</p>
  <label for="a-coordinator">${t("action.field.coordinator")}</label>
  <select id="a-coordinator" name="coordinator">
    <option value="">${t("action.field.coordinator_me")}</option>
    ${people.map((p) => html`<option value="${p.id}" ${String(p.id) === values.coordinator ? raw("selected") : ""}>${p.displayName || p.username} (@${p.username})</option>`)}
  </select>
  <label for="a-notes">${t("action.field.notes")}</label>
  <textarea id="a-notes" name="notes" rows="4">${values.notes}</textarea>
  ${isNew ? html`<h2>${t("action.shifts")}</h2><p class="help">${t("action.shifts_help")}</p>${values.shifts.map((s, i) => shiftFields(page, `_${i + 1}`, s, t("action.shift.n", { n: i + 1 })))}` : ""}
  <p><button type="submit">${t(isNew ? "action.create" : "action.save")}</button></p>
</form>`;
}

// ---- Results and contacts forms ------------------------------------------------------

/** The results form: a new result of one's own, or (`correcting`) new figures for a result already recorded. */
function resultForm(page: PageContext, action: ActionRow, values: Partial<Record<Metric | "comment", string>>, correcting?: ResultRow): Html {
  const { t } = page;
  return html`<form method="post" action="/actions/${action.id}/results${correcting ? `/${correcting.id}` : ""}">
  ${csrfField(page)}
  <div class="figures">${METRICS.map((m) => html`<label for="r-${m}">${t(`result.metric.${m}`)}</label>
  <input type="number" id="r-${m}" name="${m}" min="0" step="1" value="${values[m] ?? ""}">`)}</div>
  <label for="r-comment">${t("result.comment")}</label>
  <textarea id="r-comment" name="comment" rows="3">${values.comment ?? ""}</textarea>
  <p><button type="submit">${t("result.save")}</button></p>
</form>`;
}

function contactForm(page: PageContext, action: ActionRow, values: Form): Html {
  const { t } = page;
  // Folded until needed, so that the action page stays short on a phone; open again when refused.
  return html`<details class="more" ${Object.keys(values).length ? raw("open") : ""}><summary>${t("result.contact_new")}</summary><form method="post" action="/actions/${action.id}/contacts">
  ${csrfField(page)}
  <label for="ct-name">${t("result.contact_name")}</label>
  <input type="text" id="ct-name" name="name" maxlength="200" value="${one(values.name)}">
  <label for="ct-email">${t("result.contact_email")}</label>
  <input type="email" id="ct-email" name="email" value="${one(values.email)}">
  <label for="ct-phone">${t("result.contact_phone")}</label>
  <input type="tel" id="ct-phone" name="phone" maxlength="40" value="${one(values.phone)}">
  <label for="ct-note">${t("result.contact_note")}</label>
  <textarea id="ct-note" name="note" rows="2">${one(values.note)}</textarea>
  <fieldset><legend>${t("result.contact_consent")}</legend>
  <p class="help" id="ct-consent-help">${t("result.contact_consent_help")}</p>
  <label><input type="checkbox" name="consent" value="1" aria-describedby="ct-consent-help"> ${CONSENT_TEXT_FR}</label>
  </fieldset>
  <p><button type="submit">${t("result.contact_add")}</button></p>
</form></details>`;
}

// ---- Routes -------------------------------------------------------------------------

export function registerCampaignRoutes(web: FastifyInstance, services: Services): void {
  const { db } = services;
  const isOwn = (c: CampaignRow) => c.ownerActorId === nodeActor(services).id;

  const joinForm = (page: PageContext, c: CampaignRow, back: string) =>
    html`<form method="post" action="/campaigns/${c.id}/join" class="inline">${csrfField(page)}<input type="hidden" name="back" value="${back}"><input type="hidden" name="join" value="${c.joinedAt ? "0" : "1"}"><button type="submit" ${c.joinedAt ? raw('class="secondary"') : ""}>${page.t(c.joinedAt ? "campaign.leave" : "campaign.join")}</button></form>`;

  const badges = (page: PageContext, c: CampaignRow) => html`<span class="badge">${page.t(`campaign.level.${c.level}`)}</span>
    ${c.cancelledAt ? html` <span class="badge">${page.t("campaign.cancelled")}</span>` : ""}
    ${!isOwn(c) ? html` <span class="badge">${page.t(c.joinedAt ? "campaign.joined" : "campaign.not_joined")}</span>` : ""}`;

  const listPage = (request: FastifyRequest, reply: FastifyReply, user: User, options: { values?: CampaignValues; error?: string; status?: number } = {}) => {
    const { page } = request;
    const { t } = page;
    const all = (request.query as Record<string, string | undefined>).all === "1";
    const rows = listCampaigns(db, all ? {} : { current: true });
    const totals = new Map(aggregate(db, "campaign").map((r) => [r.campaignUri!, r.totals]));
    const manager = canRunCampaigns(user);
    const notice = (request.query as Record<string, string | undefined>).notice;
    return sendPage(
      reply,
      layout(
        page,
        t("campaign.list_title"),
        html`<h1>${t("campaign.list_title")}</h1>
${fieldNav(page)}
<p>${all ? html`<a href="/campaigns">${t("campaign.show_current")}</a>` : html`<a href="/campaigns?all=1">${t("campaign.show_all")}</a>`}</p>
${rows.length === 0
  ? html`<p>${t("campaign.none")}</p>`
  : html`<ul class="events campaigns">${rows.map(
      (c) => html`<li>
  <a href="/campaigns/${c.id}"><strong>${c.title}</strong></a> ${badges(page, c)}<br>
  ${period(page, c)}
  ${progressBars(page, JSON.parse(c.goals), totals.get(c.uri) ?? zero())}
  ${manager && !isOwn(c) && !c.cancelledAt ? joinForm(page, c, "/campaigns") : ""}
</li>`,
    )}</ul>`}
${manager
  ? html`<h2 id="new">${t("campaign.new")}</h2>${campaignForm(page, "/campaigns", options.values ?? emptyCampaign, t("campaign.create"))}`
  : ""}`,
        { error: options.error, notice: notice ? t(`campaign.notice.${notice}`) : undefined },
      ),
      options.status,
    );
  };

  web.get("/campaigns", (request, reply) => listPage(request, reply, requireCardHolder(request)));

  web.post("/campaigns", async (request, reply) => {
    const user = requireCardHolder(request);
    const values = campaignFormValues(request.body as Form);
    try {
      const row = await createCampaign(services, user, campaignInput(values));
      return reply.redirect(`/campaigns/${row.id}?notice=created`, 303);
    } catch (error) {
      if (!(error instanceof UserError) || error.status === 403) throw error;
      return listPage(request, reply, user, { values, error: request.page.t(error.code, error.params), status: error.status });
    }
  });

  web.get("/campaigns/:id", (request: WithId, reply) => {
    const { page } = request;
    const { t } = page;
    const user = requireCardHolder(request);
    const c = getCampaign(db, user, idOf(request.params.id, "campaign_not_found"));
    const goals = JSON.parse(c.goals) as Partial<Record<Metric, number>>;
    const materials = JSON.parse(c.materials) as Array<{ name: string; url: string }>;
    const byType = aggregate(db, "campaign_type", { campaignUri: c.uri });
    const totals = aggregate(db, "campaign", { campaignUri: c.uri })[0]?.totals ?? zero();
    const actions = listActions(db, user, { campaignId: c.id });
    const owner = isOwn(c) && canRunCampaigns(user);
    const notice = (request.query as Record<string, string | undefined>).notice;
    return sendPage(
      reply,
      layout(
        page,
        c.title,
        html`<h1>${c.title}</h1>
${fieldNav(page)}
<p>${badges(page, c)}</p>
${c.cancelledAt ? html`<p class="error">${t("campaign.cancelled_notice")}</p>` : ""}
<p>${period(page, c)}</p>
${paragraphs(c.description)}
${materials.length
  ? html`<h2>${t("campaign.materials")}</h2><ul>${materials.map((m) =>
      // Campaigns from upper levels arrive from other servers: only web links become links.
      safeUrl(m.url) ? html`<li><a href="${safeUrl(m.url)}" rel="nofollow noopener noreferrer">${m.name || m.url}</a></li>` : html`<li>${m.name} ${m.url}</li>`,
    )}</ul>`
  : ""}
<h2>${t("campaign.goals")}</h2>
${progressBars(page, goals, totals)}
<h2>${t("campaign.by_type")}</h2>
${byType.length === 0
  ? html`<p>${t("campaign.no_results")}</p>`
  : scrollBox(t("campaign.by_type"), html`<table><thead><tr><th scope="col">${t("action.field.type")}</th><th scope="col">${t("result.count")}</th>${METRICS.map((m) => html`<th scope="col">${t(`result.metric.${m}`)}</th>`)}</tr></thead>
<tbody>${byType.map((r) => html`<tr><th scope="row">${t(`action.type.${r.actionType}`)}</th><td>${r.totals.results}</td>${METRICS.map((m) => html`<td>${r.totals[m]}</td>`)}</tr>`)}</tbody></table>`)}
<h2>${t("campaign.actions")}</h2>
${actions.length === 0 ? html`<p>${t("action.none")}</p>` : actionList(page, actions)}
${!c.cancelledAt ? html`<p><a href="/campaigns/${c.id}/actions/new">${t("action.new")}</a></p>` : ""}
${canRunCampaigns(user) && !isOwn(c) && !c.cancelledAt ? html`<p>${joinForm(page, c, `/campaigns/${c.id}`)}</p>` : ""}
${owner
  ? html`<p class="actions"><a href="/campaigns/${c.id}/edit">${t("campaign.edit")}</a></p>
${!c.cancelledAt ? html`<form method="post" action="/campaigns/${c.id}/cancel">${csrfField(page)}<button type="submit" class="secondary">${t("campaign.cancel")}</button></form>` : ""}`
  : ""}`,
        { notice: notice ? t(`campaign.notice.${notice}`) : undefined },
      ),
    );
  });

  const editPage = (page: PageContext, c: CampaignRow, values: CampaignValues, error?: string) =>
    layout(page, page.t("campaign.edit"), html`<h1>${page.t("campaign.edit")} — ${c.title}</h1>${campaignForm(page, `/campaigns/${c.id}`, values, page.t("campaign.save"))}`, { error });

  web.get("/campaigns/:id/edit", (request: WithId, reply) => {
    const user = requireCardHolder(request);
    const c = getCampaign(db, user, idOf(request.params.id, "campaign_not_found"));
    if (!isOwn(c) || !canRunCampaigns(user)) throw new UserError("campaign_forbidden", 403);
    return sendPage(reply, editPage(request.page, c, campaignValues(c)));
  });

  web.post("/campaigns/:id", async (request: WithId, reply) => {
    const user = requireCardHolder(request);
    const c = getCampaign(db, user, idOf(request.params.id, "campaign_not_found"));
    const values = campaignFormValues(request.body as Form);
    try {
      await updateCampaign(services, user, c.id, campaignInput(values));
      return reply.redirect(`/campaigns/${c.id}?notice=saved`, 303);
    } catch (error) {
      if (!(error instanceof UserError) || error.status === 403 || error.status === 404) throw error;
      return sendPage(reply, editPage(request.page, c, values, request.page.t(error.code, error.params)), error.status);
    }
  });

  web.post("/campaigns/:id/cancel", async (request: WithId, reply) => {
    const user = requireCardHolder(request);
    const row = await cancelCampaign(services, user, idOf(request.params.id, "campaign_not_found"));
    return reply.redirect(`/campaigns/${row.id}?notice=cancelled`, 303);
  });

  web.post("/campaigns/:id/join", (request: WithId, reply) => {
    const user = requireCardHolder(request);
    const form = request.body as Form;
    const row = joinCampaign(services, user, idOf(request.params.id, "campaign_not_found"), one(form.join) !== "0");
    const back = one(form.back) === "/campaigns" ? "/campaigns" : `/campaigns/${row.id}`;
    return reply.redirect(`${back}?notice=${row.joinedAt ? "joined" : "left"}`, 303);
  });

  // ---- Field actions ------------------------------------------------------------------

  const campaignTitles = () => new Map(listCampaigns(db).map((c) => [c.id, c.title]));

  function actionList(page: PageContext, rows: ActionRow[], titles?: Map<number, string>): Html {
    return html`<ul class="events actions-list">${rows.map(
      (a) => html`<li class="event${a.cancelledAt ? raw(" cancelled") : ""}">
  <span class="badge">${page.t(`action.type.${a.type}`)}</span> <a href="/actions/${a.id}"><strong>${a.title}</strong></a>
  ${a.cancelledAt ? html` <span class="badge">${page.t("action.cancelled")}</span>` : ""}<br>
  <time datetime="${new Date(a.startAt).toISOString()}">${when(page, { start: a.startAt, end: a.endAt }, a.timezone)}</time>
  ${a.meetingPoint ? html` · ${PIN} ${a.meetingPoint}` : ""}${titles?.get(a.campaignId) ? html` · ${titles.get(a.campaignId)}` : ""}
</li>`,
    )}</ul>`;
  }

  const newActionPage = (page: PageContext, c: CampaignRow, values: ActionValues, error?: string) =>
    layout(page, page.t("action.new"), html`<h1>${page.t("action.new")}</h1>
<p>${page.t("action.for_campaign")} <a href="/campaigns/${c.id}">${c.title}</a></p>
${actionForm(page, services, `/campaigns/${c.id}/actions`, values, true)}`, { error });

  web.get("/campaigns/:id/actions/new", (request: WithId, reply) => {
    const user = requireCardHolder(request);
    const c = getCampaign(db, user, idOf(request.params.id, "campaign_not_found"));
    const blank: ActionValues = { type: ACTION_TYPES[0], title: "", start: "", end: "", timezone: ZONE, meetingPoint: "", area: "", coordinator: "", notes: "", shifts: Array.from({ length: SHIFT_ROWS }, () => ({ start: "", end: "", capacity: "", label: "" })) };
    return sendPage(reply, newActionPage(request.page, c, blank));
  });

  web.post("/campaigns/:id/actions", (request: WithId, reply) => {
    const user = requireCardHolder(request);
    const c = getCampaign(db, user, idOf(request.params.id, "campaign_not_found"));
    const values = actionFormValues(request.body as Form);
    try {
      const row = createAction(services, user, actionInput(values, c.id));
      return reply.redirect(`/actions/${row.id}?notice=created`, 303);
    } catch (error) {
      if (!(error instanceof UserError) || error.status === 403) throw error;
      return sendPage(reply, newActionPage(request.page, c, values, request.page.t(error.code, error.params)), error.status);
    }
  });

  web.get("/actions", (request, reply) => {
    const { page } = request;
    const { t } = page;
    const user = requireCardHolder(request);
    const upcoming = listActions(db, user, { upcoming: true });
    const mine = upcoming.filter((a) => tookPart(db, user.id, a.id));
    const awaiting = actionsAwaitingResults(db).filter((a) => canEditAction(user, a));
    const titles = campaignTitles();
    return sendPage(reply, layout(page, t("action.list_title"), html`<h1>${t("action.list_title")}</h1>
${fieldNav(page)}
<h2>${t("action.mine")}</h2>
${mine.length ? actionList(page, mine, titles) : html`<p>${t("action.mine_none")}</p>`}
${awaiting.length ? html`<h2 id="awaiting">${t("action.awaiting")}</h2><p class="help">${t("action.awaiting_help")}</p>${actionList(page, awaiting, titles)}` : ""}
<h2>${t("action.upcoming")}</h2>
${upcoming.length ? actionList(page, upcoming, titles) : html`<p>${t("action.none")}</p>`}
<p class="help">${t("action.new_help")}</p>`));
  });

  interface ActionPageOptions {
    error?: string;
    status?: number;
    result?: Form;
    contact?: Form;
    /** The result being corrected (`?correct=<id>`, or the refused correction). */
    correct?: number;
  }

  const actionPage = (request: WithId, reply: FastifyReply, options: ActionPageOptions = {}) => {
    const { page } = request;
    const { t } = page;
    const user = requireCardHolder(request);
    const a = getAction(db, user, idOf(request.params.id, "action_not_found"));
    const c = findCampaign(db, a.campaignId)!;
    const shifts = shiftsOf(db, user, a.id);
    const editable = canEditAction(user, a);
    const participant = editable || tookPart(db, user.id, a.id);
    const results = resultsOfAction(db, a.id);
    // Only the people named on the page, not the whole section's list.
    const names = memberNames(db, [...(a.coordinatorId != null ? [a.coordinatorId] : []), ...results.flatMap((r) => (r.recordedBy != null ? [r.recordedBy] : []))]);
    const query = request.query as Record<string, string | undefined>;
    const correctId = options.correct ?? Number(query.correct);
    // Correcting someone else's result: the form shows their figures; otherwise one's own, if recorded.
    const correcting = results.find((r) => r.id === correctId && r.recordedBy !== user.id && canChangeResult(user, r, a));
    const mineResult = results.find((r) => r.recordedBy === user.id);
    const shown = correcting ?? mineResult;
    const resultValues: Partial<Record<Metric | "comment", string>> = options.result
      ? Object.fromEntries([...METRICS, "comment"].map((k) => [k, one(options.result![k])]))
      : shown
        ? { ...Object.fromEntries(METRICS.map((m) => [m, String(shown[m])])), comment: shown.comment }
        : {};
    const started = a.startAt <= Date.now();
    const contacts = editable ? contactsOf(db, user, a.id) : [];
    const notice = query.notice;
    const recorder = (r: ResultRow) => (r.recordedBy != null ? (names.get(r.recordedBy) ?? "—") : r.sectionName);
    const open = !a.cancelledAt;
    return sendPage(
      reply,
      layout(
        page,
        a.title,
        html`<article class="event-page">
<h1>${a.title}</h1>
${fieldNav(page)}
<p><span class="badge">${t(`action.type.${a.type}`)}</span> · ${t("action.for_campaign")} <a href="/campaigns/${c.id}">${c.title}</a></p>
${a.cancelledAt ? html`<p class="error">${t("action.cancelled_notice")}</p>` : ""}
<p><time datetime="${new Date(a.startAt).toISOString()}">${when(page, { start: a.startAt, end: a.endAt }, a.timezone)}</time></p>
${a.meetingPoint ? html`<p>${PIN} ${t("action.field.meeting_point")} : ${a.meetingPoint}</p>` : ""}
${a.area ? html`<h2>${t("action.field.area")}</h2>${paragraphs(a.area)}` : ""}
<p>${t("action.field.coordinator")} : ${a.coordinatorId != null ? (names.get(a.coordinatorId) ?? "—") : "—"}</p>
${a.notes ? html`<h2>${t("action.field.notes")}</h2>${paragraphs(a.notes)}` : ""}

<h2 id="shifts">${t("action.shifts")}</h2>
${shifts.length === 0
  ? html`<p>${t("action.no_shifts")}</p>`
  : html`<ul class="events shifts">${shifts.map(
      (s) => html`<li id="shift-${s.id}">
  <strong>${timeText(page, s.startAt, a.timezone)} – ${timeText(page, s.endAt, a.timezone)}</strong>${s.label ? html` · ${s.label}` : ""}
  · ${s.capacity != null ? t("action.shift.taken_of", { n: s.taken, capacity: s.capacity }) : t("action.shift.taken", { n: s.taken })}
  ${s.people.length ? html`<br>${t("action.shift.who")} : ${s.people.map((p) => p.name).join(", ")}` : ""}
  ${s.mine ? html`<br><span class="badge">${t("action.shift.mine")}</span>` : ""}
  ${open
    ? html`<br><form method="post" action="/actions/${a.id}/shifts/${s.id}/${s.mine ? "withdraw" : "signup"}" class="inline">${csrfField(page)}<button type="submit" ${s.mine ? raw('class="secondary"') : ""} ${!s.mine && s.capacity != null && s.taken >= s.capacity ? raw("disabled") : ""}>${t(s.mine ? "action.shift.withdraw" : "action.shift.signup")}</button></form>`
    : ""}
  ${editable ? html`<form method="post" action="/actions/${a.id}/shifts/${s.id}/delete" class="inline">${csrfField(page)}<button type="submit" class="secondary">${t("action.shift.remove")}</button></form>` : ""}
</li>`,
    )}</ul>`}
${editable && open
  ? html`<details><summary>${t("action.shift.add")}</summary>
<form method="post" action="/actions/${a.id}/shifts">${csrfField(page)}${shiftFields(page, "", { start: "", end: "", capacity: "", label: "" }, t("action.shift.new"))}<p><button type="submit">${t("action.shift.add")}</button></p></form></details>`
  : ""}

<h2 id="results">${t("result.title")}</h2>
${correcting && open
  ? html`<p class="help">${t("result.help_correct", { name: recorder(correcting) })}</p>${resultForm(page, a, resultValues, correcting)}`
  : participant && open
    ? started
      ? html`<p class="help">${t(mineResult ? "result.help_update" : "result.help")}</p>${resultForm(page, a, resultValues)}`
      : html`<p class="help">${t("result.after")}</p>`
    : ""}
${results.length === 0
  ? html`<p>${t("result.none")}</p>`
  : scrollBox(t("result.title"), html`<table><thead><tr><th scope="col">${t("result.by")}</th>${METRICS.map((m) => html`<th scope="col">${t(`result.metric.${m}`)}</th>`)}<th scope="col">${t("result.comment")}</th><th scope="col"><span class="visually-hidden">${t("members.actions")}</span></th></tr></thead>
<tbody>${results.map(
      (r) => html`<tr><th scope="row">${recorder(r)}</th>${METRICS.map((m) => html`<td>${r[m]}</td>`)}<td>${r.comment}</td>
<td>${canChangeResult(user, r, a) ? html`${open ? html`<a href="/actions/${a.id}?correct=${r.id}#results">${t("result.correct")}</a> ` : ""}<form method="post" action="/actions/${a.id}/results/${r.id}/delete" class="inline">${csrfField(page)}<button type="submit" class="secondary">${t("result.delete")}</button></form>` : ""}</td></tr>`,
    )}</tbody></table>`)}

${participant
  ? html`<h2 id="contacts">${t("result.contact_title")}</h2>
<p class="help">${t("result.contact_help")}</p>
${open ? contactForm(page, a, options.contact ?? {}) : ""}
${editable
  ? contacts.length
    ? scrollBox(t("result.contact_title"), html`<table><thead><tr><th scope="col">${t("result.contact_name")}</th><th scope="col">${t("result.contact_email")}</th><th scope="col">${t("result.contact_phone")}</th><th scope="col">${t("result.contact_note")}</th><th scope="col">${t("result.contact_consent_at")}</th></tr></thead>
<tbody>${contacts.map((ct) => html`<tr><th scope="row">${ct.name}</th><td>${ct.email ?? ""}</td><td>${ct.phone ?? ""}</td><td>${ct.note}</td><td>${dateTimeText(page, ct.consentAt)}</td></tr>`)}</tbody></table>`)
    : html`<p>${t("result.contact_none")}</p>`
  : ""}`
  : ""}

${editable
  ? html`<p class="actions"><a href="/actions/${a.id}/edit">${t("action.edit")}</a></p>
${open ? html`<form method="post" action="/actions/${a.id}/cancel">${csrfField(page)}<button type="submit" class="secondary">${t("action.cancel")}</button></form>` : ""}`
  : ""}
</article>`,
        { error: options.error, notice: notice ? t(`action.notice.${notice}`) : undefined },
      ),
      options.status,
    );
  };

  web.get("/actions/:id", (request: WithId, reply) => actionPage(request, reply));

  const editActionPage = (page: PageContext, a: ActionRow, values: ActionValues, error?: string) =>
    layout(page, page.t("action.edit"), html`<h1>${page.t("action.edit")} — ${a.title}</h1>${actionForm(page, services, `/actions/${a.id}`, values, false)}`, { error });

  web.get("/actions/:id/edit", (request: WithId, reply) => {
    const user = requireCardHolder(request);
    const a = getAction(db, user, idOf(request.params.id, "action_not_found"));
    if (!canEditAction(user, a)) throw new UserError("action_forbidden", 403);
    return sendPage(reply, editActionPage(request.page, a, actionValues(a)));
  });

  web.post("/actions/:id", (request: WithId, reply) => {
    const user = requireCardHolder(request);
    const a = getAction(db, user, idOf(request.params.id, "action_not_found"));
    const values = actionFormValues(request.body as Form);
    try {
      updateAction(services, user, a.id, { ...actionInput(values, a.campaignId), shifts: undefined });
      return reply.redirect(`/actions/${a.id}?notice=saved`, 303);
    } catch (error) {
      if (!(error instanceof UserError) || error.status === 403) throw error;
      return sendPage(reply, editActionPage(request.page, a, values, request.page.t(error.code, error.params)), error.status);
    }
  });

  web.post("/actions/:id/cancel", (request: WithId, reply) => {
    const user = requireCardHolder(request);
    const row = cancelAction(services, user, idOf(request.params.id, "action_not_found"));
    return reply.redirect(`/actions/${row.id}?notice=cancelled`, 303);
  });

  /** Runs a form's domain call; a refusal meant for people shows on the action page, the form kept. */
  const onActionPage = (run: (user: User, actionId: number, form: Form) => unknown | Promise<unknown>, notice: string, anchor: string, keep?: "result" | "contact", correct?: number) =>
    async (request: WithId, reply: FastifyReply) => {
      const user = requireCardHolder(request);
      const actionId = idOf(request.params.id, "action_not_found");
      const form = request.body as Form;
      try {
        await run(user, actionId, form);
      } catch (error) {
        if (!(error instanceof UserError) || error.status === 403 || error.status === 404) throw error;
        return actionPage(request, reply, { error: request.page.t(error.code, error.params), status: error.status, correct, ...(keep ? { [keep]: form } : {}) });
      }
      return reply.redirect(`/actions/${actionId}?notice=${notice}#${anchor}`, 303);
    };

  web.post(
    "/actions/:id/shifts",
    onActionPage((user, actionId, form) => {
      const a = getAction(db, user, actionId);
      addShift(services, user, actionId, shiftInput(shiftValues(form, ""), localInput(a.startAt, a.timezone).slice(0, 10), a.timezone));
    }, "shift_added", "shifts"),
  );

  const shiftId = (request: WithItem) => idOf(request.params.item, "shift_not_found");
  web.post("/actions/:id/shifts/:item/signup", (request: WithItem, reply) =>
    onActionPage((user) => signUp(services, user, shiftId(request)), "signed_up", "shifts")(request, reply),
  );
  web.post("/actions/:id/shifts/:item/withdraw", (request: WithItem, reply) =>
    onActionPage((user) => withdraw(services, user, shiftId(request)), "withdrawn", "shifts")(request, reply),
  );
  web.post("/actions/:id/shifts/:item/delete", (request: WithItem, reply) =>
    onActionPage((user) => removeShift(services, user, shiftId(request)), "shift_removed", "shifts")(request, reply),
  );

  const figuresOf = (form: Form) => Object.fromEntries(METRICS.map((m) => [m, figure(one(form[m]))]));
  web.post(
    "/actions/:id/results",
    onActionPage((user, actionId, form) => recordResult(services, user, actionId, figuresOf(form), one(form.comment)), "result_saved", "results", "result"),
  );

  web.post("/actions/:id/results/:item", (request: WithItem, reply) => {
    const resultId = idOf(request.params.item, "result_not_found");
    return onActionPage((user, _actionId, form) => correctResult(services, user, resultId, figuresOf(form), one(form.comment)), "result_saved", "results", "result", resultId)(request, reply);
  });

  web.post("/actions/:id/results/:item/delete", (request: WithItem, reply) =>
    onActionPage((user) => deleteResult(services, user, idOf(request.params.item, "result_not_found")), "result_deleted", "results")(request, reply),
  );

  web.post(
    "/actions/:id/contacts",
    onActionPage(
      (user, actionId, form) =>
        addContact(services, user, actionId, { name: one(form.name), email: one(form.email), phone: one(form.phone), note: one(form.note), consent: one(form.consent) === "1" }),
      "contact_added",
      "contacts",
      "contact",
    ),
  );
}
