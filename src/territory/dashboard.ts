// The dashboard of a fédération (one row per section) or of the national
// level (one row per fédération): members, activity, field results against
// the campaigns' goals, latest reports. Built from what the nodes below sent
// (results, reports, statistics), never from their members' data.
import { count, desc, eq, max } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Db } from "../storage/db.ts";
import { ACTION_TYPES, actors, METRICS, nodeStats, reports, territoryLinks, type ActionType, type Metric, type NodeKind } from "../storage/schema.ts";
import { toCsv } from "../csv.ts";
import { listCampaigns, type CampaignRow } from "../campaigns/campaigns.ts";
import { aggregate, campaignNames, type Totals } from "../campaigns/results.ts";

export interface DashboardRow {
  uri: string;
  name: string;
  handle: string | null;
  territory: string | null;
  linkState: string | null;
  /** National's rows: how many sections the fédération has reported about. */
  sections: number;
  members: number;
  activeMembers: number;
  eventsHeld: number;
  eventsUpcoming: number;
  totals: Totals;
  reports: number;
  lastReportAt: number | null;
  statsAt: number | null;
}

export interface CampaignProgress {
  campaign: CampaignRow;
  goals: Partial<Record<Metric, number>>;
  totals: Totals;
  byType: Array<{ type: ActionType; totals: Totals }>;
}

/** Results for a campaign unknown here: a section's own, named as the section sent it. */
export interface OtherCampaign {
  uri: string;
  name: string;
  totals: Totals;
}

export interface Dashboard {
  kind: NodeKind;
  rows: DashboardRow[];
  total: Omit<DashboardRow, "uri" | "name" | "handle" | "territory" | "linkState" | "lastReportAt" | "statsAt">;
  campaigns: CampaignProgress[];
  otherCampaigns: OtherCampaign[];
}

const zero = (): Totals => ({ results: 0, ...(Object.fromEntries(METRICS.map((m) => [m, 0])) as Record<Metric, number>) });

function add(into: Totals, more: Totals): void {
  into.results += more.results;
  for (const m of METRICS) into[m] += more[m];
}

export function dashboard(db: Db, config: Config): Dashboard {
  // Rows: the nodes we oversee (fédération: sections; national: fédérations).
  const byFederation = config.kind === "national";
  const rows = new Map<string, DashboardRow>();
  const rowFor = (uri: string, name = "") => {
    let row = rows.get(uri);
    if (!row) {
      row = { uri, name, handle: null, territory: null, linkState: null, sections: 0, members: 0, activeMembers: 0, eventsHeld: 0, eventsUpcoming: 0, totals: zero(), reports: 0, lastReportAt: null, statsAt: null };
      rows.set(uri, row);
    }
    return row;
  };
  // The nodes' names and link states only: their whole actor rows (keys, fields…) took a third of the page's time.
  const children = db
    .select({ handle: territoryLinks.handle, state: territoryLinks.state, uri: actors.uri, name: actors.name })
    .from(territoryLinks)
    .leftJoin(actors, eq(actors.id, territoryLinks.actorId))
    .where(eq(territoryLinks.role, "child"))
    .all();
  for (const link of children) {
    const uri = link.uri ?? `acct:${link.handle}`;
    const row = rowFor(uri, link.name || link.handle);
    row.handle = link.handle;
    row.linkState = link.state;
  }

  for (const s of db.select().from(nodeStats).all()) {
    const key = byFederation ? s.federationUri : s.nodeUri;
    if (!key) continue;
    const row = rowFor(key, byFederation ? "" : s.name);
    if (!byFederation || s.nodeUri === key) {
      row.territory = s.territory;
      if (!row.name) row.name = s.name;
    }
    if (byFederation && s.kind === "section") row.sections += 1;
    row.members += s.members;
    row.activeMembers += s.activeMembers;
    row.eventsHeld += s.eventsHeld;
    row.eventsUpcoming += s.eventsUpcoming;
    row.statsAt = Math.max(row.statsAt ?? 0, s.receivedAt);
  }

  for (const r of aggregate(db, byFederation ? "federation" : "section")) {
    const key = byFederation ? r.federationUri : r.sectionUri;
    if (key) add(rowFor(key, r.sectionName ?? "").totals, r.totals);
  }

  const reportKey = byFederation ? reports.federationUri : reports.sectionUri;
  for (const r of db
    .select({ key: reportKey, n: count(), last: max(reports.createdAt) })
    .from(reports)
    .where(eq(reports.outgoing, false))
    .groupBy(reportKey)
    .all()) {
    if (!r.key) continue;
    const row = rowFor(r.key);
    row.reports = r.n;
    row.lastReportAt = r.last;
  }

  const list = [...rows.values()].sort((a, b) => (a.territory ?? "~").localeCompare(b.territory ?? "~") || a.name.localeCompare(b.name));
  const total = { sections: 0, members: 0, activeMembers: 0, eventsHeld: 0, eventsUpcoming: 0, totals: zero(), reports: 0 };
  for (const row of list) {
    total.sections += byFederation ? row.sections : 1;
    total.members += row.members;
    total.activeMembers += row.activeMembers;
    total.eventsHeld += row.eventsHeld;
    total.eventsUpcoming += row.eventsUpcoming;
    total.reports += row.reports;
    add(total.totals, row.totals);
  }

  const perType = aggregate(db, "campaign_type");
  const campaigns = listCampaigns(db, { current: true }).map((campaign) => {
    const totals = zero();
    const byType = ACTION_TYPES.map((type) => ({ type, totals: zero() }));
    for (const r of perType) {
      if (r.campaignUri !== campaign.uri) continue;
      add(totals, r.totals);
      add(byType.find((b) => b.type === r.actionType)!.totals, r.totals);
    }
    return { campaign, goals: JSON.parse(campaign.goals) as Partial<Record<Metric, number>>, totals, byType: byType.filter((b) => b.totals.results > 0) };
  });

  // Results of campaigns no node above started: the sections' own campaigns.
  const known = new Set(listCampaigns(db).map((c) => c.uri));
  const others = new Map<string, Totals>();
  for (const r of perType) {
    if (known.has(r.campaignUri!)) continue;
    let totals = others.get(r.campaignUri!);
    if (!totals) others.set(r.campaignUri!, (totals = zero()));
    add(totals, r.totals);
  }
  const names = campaignNames(db, [...others.keys()]);
  const otherCampaigns = [...others].map(([uri, totals]) => ({ uri, name: names.get(uri) ?? uri, totals })).sort((a, b) => a.name.localeCompare(b.name));

  return { kind: config.kind, rows: list, total, campaigns, otherCampaigns };
}

/** The dashboard's rows as a spreadsheet. */
export function dashboardCsv(board: Dashboard): string {
  const header = ["nom", "compte", "territoire", ...(board.kind === "national" ? ["sections"] : []), "membres", "actifs_30j", "evenements_30j", "evenements_a_venir", "resultats", ...METRICS, "rapports", "dernier_rapport"];
  return toCsv(
    header,
    board.rows.map((r) => [
      r.name,
      r.handle,
      r.territory,
      ...(board.kind === "national" ? [r.sections] : []),
      r.members,
      r.activeMembers,
      r.eventsHeld,
      r.eventsUpcoming,
      r.totals.results,
      ...METRICS.map((m) => r.totals[m]),
      r.reports,
      r.lastReportAt ? new Date(r.lastReportAt).toISOString() : null,
    ]),
  );
}

/** Latest reports received, for the dashboard. */
export function latestReports(db: Db, limit = 10) {
  return db.select().from(reports).where(eq(reports.outgoing, false)).orderBy(desc(reports.createdAt)).limit(limit).all();
}
