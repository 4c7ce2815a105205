// Reports up and directives down. A section (or fédération) writes reports
// to the level above and follows whether they arrived and were read; a
// fédération or the national level reads what came up, and sends
// announcements or proposed actions down, which a section may adopt.
import { PIN } from "../icons.ts";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { UserError } from "../../errors.ts";
import type { User } from "../../members/members.ts";
import type { Services } from "../../services.ts";
import { ACTION_TYPES, DIRECTIVE_KINDS, METRICS, REPORT_KINDS, type ActionType, type DirectiveKind, type ReportKind } from "../../storage/schema.ts";
import { canRunCampaigns, findCampaignByUri, listCampaigns } from "../../campaigns/campaigns.ts";
import { campaignNames } from "../../campaigns/results.ts";
import { listReports, openReport, writeReport, type ReportRow } from "../../reports/reports.ts";
import { adoptProposal, getDirective, listDirectives, sendDirective, type DirectiveRow } from "../../reports/directives.ts";
import type { ProposalWire } from "../../federation/territory.ts";
import { linkedParent } from "../../territory/links.ts";
import { html, raw, type Html } from "../html.ts";
import { csrfField, layout, type PageContext, scrollBox } from "../layout.ts";
import { sendPage } from "../respond.ts";
import { localInput, one, parseLocal } from "./agenda.ts";
import { dateTimeText, fieldNav, idOf, paragraphs, requireCardHolder, type Form } from "./campaigns.ts";

type WithId = FastifyRequest<{ Params: { id: string } }>;

/** Proposed dates are typed as French wall-clock time, like the actions they become. */
const ZONE = "Europe/Paris";

interface ReportValues {
  kind: string;
  title: string;
  body: string;
  alsoNational: boolean;
  withFigures: boolean;
}

interface DirectiveValues {
  kind: string;
  title: string;
  body: string;
  type: string;
  campaign: string;
  start: string;
  meetingPoint: string;
}

/** Where a report of ours stands: waiting, received by the level above, read by someone there. */
export function reportStatus(page: PageContext, row: ReportRow): string {
  const { t } = page;
  const parent = t(`report.parent.${page.services.config.kind}`);
  if (row.readAt) return t("report.status.read", { who: row.readBy || parent, date: dateTimeText(page, row.readAt) });
  if (row.acknowledgedAt) return t("report.status.received", { parent, date: dateTimeText(page, row.acknowledgedAt) });
  return t("report.status.waiting", { parent });
}

export function registerReportRoutes(web: FastifyInstance, services: Services): void {
  const { db, config } = services;

  const reportForm = (page: PageContext, values: ReportValues) => {
    const { t } = page;
    return html`<form method="post" action="/reports">
  ${csrfField(page)}
  <label for="r-kind">${t("report.field.kind")}</label>
  <select id="r-kind" name="kind">${REPORT_KINDS.map((k) => html`<option value="${k}" ${k === values.kind ? raw("selected") : ""}>${t(`report.kind.${k}`)}</option>`)}</select>
  <label for="r-title">${t("report.field.title")}</label>
  <input type="text" id="r-title" name="title" required maxlength="200" value="${values.title}">
  <label for="r-body">${t("report.field.body")}</label>
  <textarea id="r-body" name="body" rows="10">${values.body}</textarea>
  ${config.kind === "section" ? html`<label><input type="checkbox" name="also_national" value="1" ${values.alsoNational ? raw("checked") : ""}> ${t("report.field.also_national")}</label>` : ""}
  <label><input type="checkbox" name="with_figures" value="1" ${values.withFigures ? raw("checked") : ""} aria-describedby="r-figures-help"> ${t("report.field.with_figures")}</label>
  <p class="help" id="r-figures-help">${t("report.field.with_figures_help")}</p>
  <p><button type="submit">${t("report.send")}</button></p>
</form>`;
  };

  const reportsPage = (request: FastifyRequest, reply: FastifyReply, user: User, options: { values?: ReportValues; error?: string; status?: number } = {}) => {
    const { page } = request;
    const { t } = page;
    const manager = canRunCampaigns(user);
    const sent = config.kind === "national" ? [] : listReports(db, user, "sent");
    const received = manager && config.kind !== "section" ? listReports(db, user, "received") : [];
    const notice = (request.query as Record<string, string | undefined>).notice;
    const noParent = config.kind !== "national" && !linkedParent(db);
    return sendPage(
      reply,
      layout(
        page,
        t("report.list_title"),
        html`<h1>${t("report.list_title")}</h1>
${fieldNav(page)}
${config.kind !== "section" && manager
  ? html`<h2>${t("report.received")}</h2>
${received.length === 0
  ? html`<p>${t("report.received_none")}</p>`
  : scrollBox(t("report.received"), html`<table class="reports"><thead><tr><th scope="col">${t("report.date")}</th><th scope="col">${t("report.from")}</th><th scope="col">${t("report.field.kind")}</th><th scope="col">${t("report.field.title")}</th><th scope="col">${t("report.state")}</th></tr></thead>
<tbody>${received.map((r) => {
      const cell = (text: string | Html) => (r.openedAt ? text : html`<strong>${text}</strong>`);
      return html`<tr class="${r.openedAt ? "read" : "unread"}"><td>${cell(dateTimeText(page, r.createdAt))}</td><td>${cell(r.sectionName)}</td><td>${cell(t(`report.kind.${r.kind}`))}</td><td><a href="/reports/${r.id}">${cell(r.title)}</a></td><td>${r.openedAt ? t("report.opened", { date: dateTimeText(page, r.openedAt) }) : html`<strong>${t("report.unread")}</strong>`}</td></tr>`;
    })}</tbody></table>`)}`
  : ""}
${config.kind !== "national"
  ? html`<h2>${t("report.sent")}</h2>
${noParent ? html`<p class="help">${t("report.no_parent_yet", { to_parent: t(`report.to_parent.${config.kind}`) })}</p>` : ""}
${sent.length === 0
  ? html`<p>${t("report.sent_none")}</p>`
  : html`<ul class="events reports-sent">${sent.map((r) => html`<li><a href="/reports/${r.id}"><strong>${r.title}</strong></a> <span class="badge">${t(`report.kind.${r.kind}`)}</span><br>
  ${t("report.sent_on", { date: dateTimeText(page, r.createdAt), author: r.authorName })}<br>
  <span class="report-status">${reportStatus(page, r)}</span></li>`)}</ul>`}
${manager ? html`<h2 id="new">${t("report.new")}</h2>${reportForm(page, options.values ?? { kind: "activity", title: "", body: "", alsoNational: false, withFigures: true })}` : ""}`
  : ""}`,
        { error: options.error, notice: notice ? t(`report.notice.${notice}`) : undefined },
      ),
      options.status,
    );
  };

  web.get("/reports", (request, reply) => reportsPage(request, reply, requireCardHolder(request)));

  web.post("/reports", async (request, reply) => {
    const user = requireCardHolder(request);
    const form = request.body as Form;
    const values: ReportValues = { kind: one(form.kind), title: one(form.title), body: one(form.body), alsoNational: one(form.also_national) === "1", withFigures: one(form.with_figures) === "1" };
    try {
      const row = await writeReport(services, user, { kind: values.kind as ReportKind, title: values.title, body: values.body, alsoNational: values.alsoNational, withFigures: values.withFigures });
      return reply.redirect(`/reports/${row.id}?notice=sent`, 303);
    } catch (error) {
      if (!(error instanceof UserError) || error.status === 403) throw error;
      return reportsPage(request, reply, user, { values, error: request.page.t(error.code, error.params), status: error.status });
    }
  });

  web.get("/reports/:id", async (request: WithId, reply) => {
    const { page } = request;
    const { t } = page;
    const user = requireCardHolder(request);
    // Opening a received report marks it read here and tells the section.
    const r = await openReport(services, user, idOf(request.params.id, "report_not_found"));
    const figures = JSON.parse(r.figures) as Record<string, Record<string, Record<string, number>>>;
    // A section's own campaign is unknown here: its name comes with the section's results.
    const names = campaignNames(db, Object.keys(figures));
    const rows = Object.entries(figures).flatMap(([campaignUri, byType]) =>
      Object.entries(byType).map(([type, metrics]) => ({ campaign: names.get(campaignUri) ?? campaignUri, type, metrics })),
    );
    const notice = (request.query as Record<string, string | undefined>).notice;
    return sendPage(
      reply,
      layout(
        page,
        r.title,
        html`<article>
<h1>${r.title}</h1>
${fieldNav(page)}
<p><span class="badge">${t(`report.kind.${r.kind}`)}</span> · ${t("report.written_by", { section: r.sectionName, author: r.authorName, date: dateTimeText(page, r.createdAt) })}</p>
${r.alsoNational ? html`<p class="help">${t("report.also_national")}</p>` : ""}
${r.outgoing ? html`<p class="report-status"><strong>${t("report.state")} :</strong> ${reportStatus(page, r)}</p>` : ""}
${paragraphs(r.body)}
<h2>${t("report.figures")}</h2>
${rows.length === 0
  ? html`<p>${t("report.figures_none")}</p>`
  : scrollBox(t("report.figures"), html`<table><thead><tr><th scope="col">${t("report.campaign")}</th><th scope="col">${t("action.field.type")}</th>${METRICS.map((m) => html`<th scope="col">${t(`result.metric.${m}`)}</th>`)}</tr></thead>
<tbody>${rows.map((row) => html`<tr><th scope="row">${row.campaign}</th><td>${t(`action.type.${row.type}`)}</td>${METRICS.map((m) => html`<td>${row.metrics[m] ?? 0}</td>`)}</tr>`)}</tbody></table>`)}
<p><a href="/reports">${t("report.back")}</a></p>
</article>`,
        { notice: notice ? t(`report.notice.${notice}`) : undefined },
      ),
    );
  });

  // ---- Directives ---------------------------------------------------------------------

  const directiveForm = (page: PageContext, values: DirectiveValues) => {
    const { t } = page;
    const campaigns = listCampaigns(db, { current: true });
    return html`<form method="post" action="/directives">
  ${csrfField(page)}
  <label for="d-kind">${t("directive.field.kind")}</label>
  <select id="d-kind" name="kind">${DIRECTIVE_KINDS.map((k) => html`<option value="${k}" ${k === values.kind ? raw("selected") : ""}>${t(`directive.kind.${k}`)}</option>`)}</select>
  <label for="d-title">${t("directive.field.title")}</label>
  <input type="text" id="d-title" name="title" required maxlength="200" value="${values.title}">
  <label for="d-body">${t("directive.field.body")}</label>
  <textarea id="d-body" name="body" rows="6">${values.body}</textarea>
  <fieldset><legend>${t("directive.proposal")}</legend>
  <p class="help">${t("directive.proposal_help")}</p>
  <label for="d-type">${t("action.field.type")}</label>
  <select id="d-type" name="type">${ACTION_TYPES.map((type) => html`<option value="${type}" ${type === values.type ? raw("selected") : ""}>${t(`action.type.${type}`)}</option>`)}</select>
  <label for="d-campaign">${t("directive.field.campaign")}</label>
  <select id="d-campaign" name="campaign"><option value="">${t("directive.field.no_campaign")}</option>${campaigns.map((c) => html`<option value="${c.uri}" ${c.uri === values.campaign ? raw("selected") : ""}>${c.title}</option>`)}</select>
  <label for="d-start">${t("directive.field.start")}</label>
  <input type="datetime-local" id="d-start" name="start" value="${values.start}">
  <label for="d-meeting">${t("action.field.meeting_point")}</label>
  <input type="text" id="d-meeting" name="meeting_point" maxlength="300" value="${values.meetingPoint}">
  </fieldset>
  <p><button type="submit">${t("directive.send")}</button></p>
</form>`;
  };

  const proposalText = (page: PageContext, d: DirectiveRow): Html => {
    if (!d.proposal) return html``;
    const p = JSON.parse(d.proposal) as ProposalWire;
    const campaign = p.campaignUri ? findCampaignByUri(db, p.campaignUri) : undefined;
    return html`<p>${page.t(`action.type.${p.type}`)}${campaign ? html` · ${page.t("action.for_campaign")} <a href="/campaigns/${campaign.id}">${campaign.title}</a>` : ""}${p.startAt != null ? html` · ${dateTimeText(page, p.startAt)}` : ""}${p.meetingPoint ? html` · ${PIN} ${p.meetingPoint}` : ""}</p>`;
  };

  const adoptForm = (page: PageContext, d: DirectiveRow): Html => {
    const { t } = page;
    if (d.outgoing || d.kind !== "action_proposal" || !d.proposal) return html``;
    if (d.actionId) return html`<p><a href="/actions/${d.actionId}">${t("directive.adopted")}</a></p>`;
    const p = JSON.parse(d.proposal) as ProposalWire;
    return html`<form method="post" action="/directives/${d.id}/adopt">
  ${csrfField(page)}
  <label for="adopt-start-${d.id}">${t("directive.adopt_start")}</label>
  <input type="datetime-local" id="adopt-start-${d.id}" name="start" value="${localInput(p.startAt, ZONE)}" ${p.startAt == null ? raw("required") : ""}>
  <label for="adopt-meeting-${d.id}">${t("action.field.meeting_point")}</label>
  <input type="text" id="adopt-meeting-${d.id}" name="meeting_point" maxlength="300" value="${p.meetingPoint ?? ""}">
  <p><button type="submit">${t("directive.adopt")}</button></p>
</form>`;
  };

  const directiveItem = (page: PageContext, d: DirectiveRow) => html`<li>
  <span class="badge">${page.t(`directive.kind.${d.kind}`)}</span> <a href="/directives/${d.id}"><strong>${d.title}</strong></a><br>
  ${page.t(d.outgoing ? "directive.sent_on" : "directive.from", { from: d.fromName, date: dateTimeText(page, d.createdAt) })}
  ${proposalText(page, d)}
  ${adoptForm(page, d)}
</li>`;

  const directivesPage = (request: FastifyRequest, reply: FastifyReply, user: User, options: { values?: DirectiveValues; error?: string; status?: number } = {}) => {
    const { page } = request;
    const { t } = page;
    const rows = listDirectives(db, user);
    const received = rows.filter((d) => !d.outgoing);
    const sent = rows.filter((d) => d.outgoing);
    const sender = config.kind !== "section" && canRunCampaigns(user);
    const notice = (request.query as Record<string, string | undefined>).notice;
    const blank: DirectiveValues = { kind: "announcement", title: "", body: "", type: ACTION_TYPES[0], campaign: "", start: "", meetingPoint: "" };
    return sendPage(
      reply,
      layout(
        page,
        t("directive.list_title"),
        html`<h1>${t("directive.list_title")}</h1>
${fieldNav(page)}
${config.kind !== "national"
  ? html`<h2>${t("directive.received")}</h2>${received.length === 0 ? html`<p>${t("directive.received_none")}</p>` : html`<ul class="events directives">${received.map((d) => directiveItem(page, d))}</ul>`}`
  : ""}
${sender
  ? html`<h2 id="new">${t("directive.new")}</h2><p class="help">${t("directive.new_help")}</p>${directiveForm(page, options.values ?? blank)}
<h2>${t("directive.sent")}</h2>${sent.length === 0 ? html`<p>${t("directive.sent_none")}</p>` : html`<ul class="events directives">${sent.map((d) => directiveItem(page, d))}</ul>`}`
  : ""}`,
        { error: options.error, notice: notice ? t(`directive.notice.${notice}`) : undefined },
      ),
      options.status,
    );
  };

  web.get("/directives", (request, reply) => directivesPage(request, reply, requireCardHolder(request)));

  web.post("/directives", async (request, reply) => {
    const user = requireCardHolder(request);
    const form = request.body as Form;
    const values: DirectiveValues = { kind: one(form.kind), title: one(form.title), body: one(form.body), type: one(form.type), campaign: one(form.campaign), start: one(form.start), meetingPoint: one(form.meeting_point) };
    try {
      await sendDirective(services, user, {
        kind: values.kind as DirectiveKind,
        title: values.title,
        body: values.body,
        proposal: { type: values.type as ActionType, campaignUri: values.campaign || null, startAt: values.start ? parseLocal(values.start, ZONE) : null, meetingPoint: values.meetingPoint || null },
      });
      return reply.redirect("/directives?notice=sent", 303);
    } catch (error) {
      if (!(error instanceof UserError) || error.status === 403) throw error;
      return directivesPage(request, reply, user, { values, error: request.page.t(error.code, error.params), status: error.status });
    }
  });

  // Received directives are shown as section-only posts whose link leads here.
  web.get("/directives/:id", (request: WithId, reply) => {
    const { page } = request;
    const { t } = page;
    const user = requireCardHolder(request);
    const d = getDirective(db, user, idOf(request.params.id, "directive_not_found"));
    return sendPage(reply, layout(page, d.title, html`<article>
<h1>${d.title}</h1>
${fieldNav(page)}
<p><span class="badge">${t(`directive.kind.${d.kind}`)}</span> · ${t(d.outgoing ? "directive.sent_on" : "directive.from", { from: d.fromName, date: dateTimeText(page, d.createdAt) })}</p>
${paragraphs(d.body)}
${proposalText(page, d)}
${adoptForm(page, d)}
<p><a href="/directives">${t("directive.back")}</a></p>
</article>`));
  });

  web.post("/directives/:id/adopt", (request: WithId, reply) => {
    const user = requireCardHolder(request);
    const form = request.body as Form;
    const start = one(form.start);
    const action = adoptProposal(services, user, idOf(request.params.id, "directive_not_found"), {
      ...(start ? { startAt: parseLocal(start, ZONE) ?? Number.NaN } : {}),
      ...(one(form.meeting_point) ? { meetingPoint: one(form.meeting_point) } : {}),
    });
    return reply.redirect(`/actions/${action.id}?notice=adopted`, 303);
  });
}
