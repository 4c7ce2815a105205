// JSON entities of campaigns, field actions, results, reports, directives,
// links and dashboards for /api/coopol/v1, in one place.
import { METRICS, type Metric } from "../storage/schema.ts";
import type { User } from "../members/members.ts";
import type { CampaignRow } from "../campaigns/campaigns.ts";
import { canEditAction, type ActionRow, type ShiftView } from "../campaigns/actions.ts";
import type { ContactRow, ResultRow, Totals } from "../campaigns/results.ts";
import type { ReportRow } from "../reports/reports.ts";
import type { DirectiveRow } from "../reports/directives.ts";
import type { LinkRow } from "../territory/links.ts";
import type { Dashboard, DashboardRow } from "../territory/dashboard.ts";
import type { ActorRow } from "../federation/actors.ts";
import type { ProposalWire } from "../federation/territory.ts";
import { safeUrl } from "../safe-url.ts";

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());

export function renderCampaign(row: CampaignRow, ownerUri: string | null, localNodeId: number) {
  return {
    id: String(row.id),
    uri: row.uri,
    level: row.level,
    own: row.ownerActorId === localNodeId,
    owner_uri: ownerUri,
    title: row.title,
    description: row.description,
    starts_at: iso(row.startsAt)!,
    ends_at: iso(row.endsAt),
    goals: JSON.parse(row.goals) as Partial<Record<Metric, number>>,
    materials: (JSON.parse(row.materials) as Array<{ name: string; url: string }>).filter((m) => safeUrl(m.url)),
    joined: row.joinedAt != null,
    cancelled: row.cancelledAt != null,
    updated_at: iso(row.updatedAt)!,
  };
}

export function renderShift(s: ShiftView) {
  return {
    id: String(s.id),
    start: iso(s.startAt)!,
    end: iso(s.endAt)!,
    capacity: s.capacity,
    label: s.label,
    taken: s.taken,
    mine: s.mine,
    people: s.people.map((p) => ({ id: String(p.userId), username: p.username, name: p.name })),
  };
}

export function renderAction(row: ActionRow, viewer: User, shiftList: ShiftView[] = []) {
  return {
    id: String(row.id),
    campaign_id: String(row.campaignId),
    type: row.type,
    title: row.title,
    start: iso(row.startAt)!,
    end: iso(row.endAt),
    timezone: row.timezone,
    meeting_point: row.meetingPoint,
    area: row.area,
    coordinator_id: row.coordinatorId == null ? null : String(row.coordinatorId),
    notes: row.notes,
    cancelled: row.cancelledAt != null,
    can_edit: canEditAction(viewer, row),
    shifts: shiftList.map(renderShift),
  };
}

const metricsOf = (row: Record<Metric, number>) => Object.fromEntries(METRICS.map((m) => [m, row[m]])) as Record<Metric, number>;

export function renderResult(row: ResultRow) {
  return {
    id: String(row.id),
    uri: row.uri,
    action_id: row.actionId == null ? null : String(row.actionId),
    campaign_uri: row.campaignUri,
    campaign_name: row.campaignName,
    action_type: row.actionType,
    action_date: iso(row.actionDate)!,
    section_uri: row.sectionUri,
    section_name: row.sectionName,
    figures: metricsOf(row),
    comment: row.comment,
    updated_at: iso(row.version)!,
  };
}

export function renderContact(row: ContactRow) {
  return { id: String(row.id), name: row.name, email: row.email, phone: row.phone, note: row.note, consent: row.consent, consent_at: iso(row.consentAt)! };
}

export function renderReport(row: ReportRow) {
  return {
    id: String(row.id),
    uri: row.uri,
    direction: row.outgoing ? "sent" : "received",
    kind: row.kind,
    title: row.title,
    body: row.body,
    figures: JSON.parse(row.figures) as Record<string, unknown>,
    also_national: row.alsoNational,
    section_uri: row.sectionUri,
    section_name: row.sectionName,
    author_name: row.authorName,
    created_at: iso(row.createdAt)!,
    acknowledged_at: iso(row.acknowledgedAt),
    read_at: iso(row.readAt),
    read_by: row.readBy,
    opened_at: iso(row.openedAt),
  };
}

function proposalOf(stored: string | null) {
  if (!stored) return null;
  const p = JSON.parse(stored) as ProposalWire;
  return { type: p.type, campaign_uri: p.campaignUri, start: iso(p.startAt), meeting_point: p.meetingPoint };
}

export function renderDirective(row: DirectiveRow) {
  return {
    id: String(row.id),
    uri: row.uri,
    direction: row.outgoing ? "sent" : "received",
    kind: row.kind,
    from_uri: row.fromUri,
    from_name: row.fromName,
    title: row.title,
    body: row.body,
    proposal: proposalOf(row.proposal),
    action_id: row.actionId == null ? null : String(row.actionId),
    created_at: iso(row.createdAt)!,
  };
}

export function renderLink(row: LinkRow & { actor: ActorRow | null }) {
  return { role: row.role, handle: row.handle, uri: row.actor?.uri ?? null, name: row.actor?.name ?? null, state: row.state, problem: row.problem, updated_at: iso(row.updatedAt)! };
}

const renderTotals = (t: Totals) => ({ results: t.results, ...metricsOf(t) });

function renderRow(r: DashboardRow) {
  return {
    uri: r.uri,
    name: r.name,
    handle: r.handle,
    territory: r.territory,
    link_state: r.linkState,
    sections: r.sections,
    members: r.members,
    active_members: r.activeMembers,
    events_held: r.eventsHeld,
    events_upcoming: r.eventsUpcoming,
    totals: renderTotals(r.totals),
    reports: r.reports,
    last_report_at: iso(r.lastReportAt),
  };
}

export function renderDashboard(board: Dashboard, localNodeId: number) {
  return {
    kind: board.kind,
    rows: board.rows.map(renderRow),
    total: {
      sections: board.total.sections,
      members: board.total.members,
      active_members: board.total.activeMembers,
      events_held: board.total.eventsHeld,
      events_upcoming: board.total.eventsUpcoming,
      reports: board.total.reports,
      totals: renderTotals(board.total.totals),
    },
    campaigns: board.campaigns.map((c) => ({
      campaign: renderCampaign(c.campaign, null, localNodeId),
      goals: c.goals,
      totals: renderTotals(c.totals),
      by_type: c.byType.map((b) => ({ type: b.type, totals: renderTotals(b.totals) })),
    })),
    other_campaigns: board.otherCampaigns.map((c) => ({ uri: c.uri, name: c.name, totals: renderTotals(c.totals) })),
  };
}
