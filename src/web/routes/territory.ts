// The hierarchy as this node sees it (its parent, its children, refused
// oversight attempts), and the dashboard of a fédération or the national
// level with its CSV export. The figures come from src/territory/dashboard.ts.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { UserError } from "../../errors.ts";
import type { User } from "../../members/members.ts";
import type { Services } from "../../services.ts";
import { METRICS } from "../../storage/schema.ts";
import { canRunCampaigns } from "../../campaigns/campaigns.ts";
import { linksOf, refusals, type LinkRow } from "../../territory/links.ts";
import { dashboard, dashboardCsv, latestReports, type DashboardRow } from "../../territory/dashboard.ts";
import type { ActorRow } from "../../federation/actors.ts";
import { barChart, chartScripts } from "../charts.ts";
import { departementMap } from "../territory-map.ts";
import { isDepartementCode } from "../../territory/departements.ts";
import { html, type Html } from "../html.ts";
import { layout, type PageContext, scrollBox } from "../layout.ts";
import { sendCsv, sendPage } from "../respond.ts";
import { dateTimeText, fieldNav, progressBars, requireCardHolder } from "./campaigns.ts";

export function registerTerritoryRoutes(web: FastifyInstance, services: Services): void {
  const { db, config } = services;

  const linkItem = (page: PageContext, link: LinkRow & { actor: ActorRow | null }): Html => {
    const { t } = page;
    return html`<li><strong>${link.actor?.name || link.handle}</strong> <code>@${link.handle}</code><br>
  ${t("territory.link_state")} : <strong>${t(`territory.state.${link.state}`)}</strong> — ${t(`territory.state_help.${link.role}.${link.state}`)}
  ${link.problem ? html`<br>${t("territory.problem")} : ${t(`territory.problem.${link.problem}`) === `territory.problem.${link.problem}` ? link.problem : t(`territory.problem.${link.problem}`)}` : ""}
  <br><span class="help">${t("territory.since", { date: dateTimeText(page, link.updatedAt) })}</span></li>`;
  };

  web.get("/territory", (request, reply) => {
    const { page } = request;
    const { t } = page;
    const user = requireCardHolder(request);
    const parents = linksOf(db, "parent");
    const children = linksOf(db, "child");
    const refused = refusals(db);
    const manager = canRunCampaigns(user);
    return sendPage(reply, layout(page, t("territory.title"), html`<h1>${t("territory.title")}</h1>
${fieldNav(page)}
<p>${t("territory.intro", { name: config.name, kind: t(`kind.${config.kind}`) })}</p>
<p>${t("territory.code")} : ${config.territory ? html`<strong>${config.territory}</strong>` : t("territory.code_none")}</p>

<h2>${t("territory.parent")}</h2>
${config.kind === "national"
  ? html`<p>${t("territory.parent_national")}</p>`
  : parents.length
    ? html`<ul class="events links">${parents.map((l) => linkItem(page, l))}</ul>`
    : html`<p>${t("territory.parent_none")}</p>`}

${config.kind !== "section"
  ? html`<h2>${t(`territory.children.${config.kind}`)}</h2>
${children.length ? html`<ul class="events links">${children.map((l) => linkItem(page, l))}</ul>` : html`<p>${t("territory.children_none")}</p>`}`
  : ""}

<h2>${t("territory.refusals")}</h2>
${refused.length
  ? html`<p>${t("territory.refusals_help")}</p><ul>${refused.map((r) => html`<li><code>@${r.handle}</code> — ${dateTimeText(page, r.at)}</li>`)}</ul>`
  : html`<p>${t("territory.refusals_none")}</p>`}

${manager
  ? html`<h2>${t("territory.how_title")}</h2>
<p>${t(`territory.how.${config.kind}`)}</p>
<p>${t("territory.how_waiting")}</p>`
  : ""}`));
  });

  /** Dashboards exist on fédérations and the national node, for their managers. */
  const dashboardUser = (request: FastifyRequest): User => {
    const user = requireCardHolder(request);
    if (config.kind === "section") throw new UserError("dashboard.not_here", 404);
    if (!canRunCampaigns(user)) throw new UserError("dashboard.forbidden", 403);
    return user;
  };

  const nodeRow = (page: PageContext, r: DashboardRow): Html => html`<tr>
  <th scope="row">${r.name || r.handle || r.uri}${r.handle ? html`<br><code>@${r.handle}</code>` : ""}</th>
  <td>${r.territory ?? "—"}</td>
  ${config.kind === "national" ? html`<td>${r.sections}</td>` : ""}
  <td>${r.linkState ? page.t(`territory.state.${r.linkState}`) : "—"}</td>
  <td>${r.members}</td><td>${r.activeMembers}</td><td>${r.eventsHeld}</td><td>${r.eventsUpcoming}</td>
  <td>${r.totals.results}</td>${METRICS.map((m) => html`<td>${r.totals[m]}</td>`)}
  <td>${r.reports}</td><td>${r.lastReportAt ? dateTimeText(page, r.lastReportAt) : "—"}</td>
</tr>`;

  web.get("/dashboard", (request, reply) => {
    const { page } = request;
    const { t } = page;
    dashboardUser(request);
    const board = dashboard(db, config);
    const reports = latestReports(db);
    const national = config.kind === "national";
    // National: fédérations placed by their département code, coloured by how many members were active.
    const activity = new Map(board.rows.filter((r) => r.territory && isDepartementCode(r.territory)).map((r) => [r.territory!, r.activeMembers]));
    return sendPage(reply, layout(page, t("dashboard.title"), html`<h1>${t(`dashboard.title_${config.kind}`)}</h1>
${fieldNav(page)}
<p><a href="/dashboard.csv" download>${t("dashboard.csv")}</a></p>
<h2>${t(national ? "dashboard.rows_national" : "dashboard.rows_federation")}</h2>
${board.rows.length === 0
  ? html`<p>${t("dashboard.rows_none")}</p>`
  : scrollBox(t(national ? "dashboard.rows_national" : "dashboard.rows_federation"), html`<table class="dashboard"><thead><tr>
  <th scope="col">${t(national ? "dashboard.federation" : "dashboard.section")}</th><th scope="col">${t("dashboard.territory")}</th>
  ${national ? html`<th scope="col">${t("dashboard.sections")}</th>` : ""}
  <th scope="col">${t("territory.link_state")}</th>
  <th scope="col">${t("dashboard.members")}</th><th scope="col">${t("dashboard.active")}</th><th scope="col">${t("dashboard.events_held")}</th><th scope="col">${t("dashboard.events_upcoming")}</th>
  <th scope="col">${t("result.count")}</th>${METRICS.map((m) => html`<th scope="col">${t(`result.metric.${m}`)}</th>`)}
  <th scope="col">${t("dashboard.reports")}</th><th scope="col">${t("dashboard.last_report")}</th>
</tr></thead>
<tbody>${board.rows.map((r) => nodeRow(page, r))}</tbody>
<tfoot><tr><th scope="row">${t("dashboard.total")}</th><td></td>${national ? html`<td>${board.total.sections}</td>` : ""}<td>${national ? "" : t("dashboard.sections_n", { n: board.total.sections })}</td>
  <td>${board.total.members}</td><td>${board.total.activeMembers}</td><td>${board.total.eventsHeld}</td><td>${board.total.eventsUpcoming}</td>
  <td>${board.total.totals.results}</td>${METRICS.map((m) => html`<td>${board.total.totals[m]}</td>`)}<td>${board.total.reports}</td><td></td></tr></tfoot>
</table>`)}

${national
  ? html`<h2>${t("dashboard.map")}</h2>${departementMap({ id: "federations-map", title: t("dashboard.map_title"), description: t("dashboard.map_description"), values: activity, valueHeader: t("dashboard.active"), locale: page.locale, t })}`
  : ""}

<h2>${t("dashboard.campaigns")}</h2>
${board.campaigns.length === 0
  ? html`<p>${t("campaign.none")}</p>`
  : board.campaigns.map((c) => {
      const aimed = METRICS.filter((m) => (c.goals[m] ?? 0) > 0);
      return html`<section class="campaign-progress"><h3><a href="/campaigns/${c.campaign.id}">${c.campaign.title}</a> <span class="badge">${t(`campaign.level.${c.campaign.level}`)}</span></h3>
${aimed.length
  ? barChart({
      id: `campaign-${c.campaign.id}`,
      title: t("dashboard.chart_title", { campaign: c.campaign.title }),
      labels: aimed.map((m) => t(`result.metric.${m}`)),
      series: [{ label: t("dashboard.chart_results"), values: aimed.map((m) => c.totals[m]) }],
      goal: aimed.map((m) => c.goals[m] ?? null),
      labelHeader: t("dashboard.chart_metric"),
      locale: page.locale,
      t,
    })
  : ""}
${progressBars(page, c.goals, c.totals)}
${c.byType.length ? html`<ul>${c.byType.map((b) => html`<li>${t(`action.type.${b.type}`)} : ${t("dashboard.type_results", { n: b.totals.results })}</li>`)}</ul>` : html`<p>${t("campaign.no_results")}</p>`}
</section>`;
    })}

${board.otherCampaigns.length
  ? html`<h2 id="section-campaigns">${t("dashboard.section_campaigns")}</h2>
<p class="help">${t("dashboard.section_campaigns_help")}</p>
${scrollBox(t("dashboard.section_campaigns"), html`<table class="section-campaigns"><thead><tr><th scope="col">${t("report.campaign")}</th><th scope="col">${t("result.count")}</th>${METRICS.map((m) => html`<th scope="col">${t(`result.metric.${m}`)}</th>`)}</tr></thead>
<tbody>${board.otherCampaigns.map((c) => html`<tr><th scope="row">${c.name}</th><td>${c.totals.results}</td>${METRICS.map((m) => html`<td>${c.totals[m]}</td>`)}</tr>`)}</tbody></table>`)}`
  : ""}

<h2>${t("dashboard.latest_reports")}</h2>
${reports.length === 0
  ? html`<p>${t("report.received_none")}</p>`
  : html`<ul class="events">${reports.map((r) => {
      const title = html`<a href="/reports/${r.id}">${r.title}</a>`;
      return html`<li>${r.openedAt ? title : html`<strong>${title}</strong>`} · ${r.sectionName} · ${t(`report.kind.${r.kind}`)} · ${dateTimeText(page, r.createdAt)}${r.openedAt ? "" : html` · <strong>${t("report.unread")}</strong>`}</li>`;
    })}</ul>`}
${board.campaigns.some((c) => METRICS.some((m) => (c.goals[m] ?? 0) > 0)) ? chartScripts() : ""}`, { wide: true }));
  });

  web.get("/dashboard.csv", (request, reply) => {
    dashboardUser(request);
    const day = new Date().toISOString().slice(0, 10);
    return sendCsv(reply, `tableau-de-bord-${day}.csv`, dashboardCsv(dashboard(db, config)));
  });
}
