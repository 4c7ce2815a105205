// Reports up ("faire remonter les informations"): a section's secretary
// writes to the fédération (and, if asked, the national level through it).
// A report travels addressed to the parent node's actor only; the receiver
// acknowledges receipt at once and tells when someone there first read it.
import { and, desc, eq } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { actorOf, isCardHolder, memberManagerActorIds, type User } from "../members/members.ts";
import { notifyAll } from "../notifications/notifications.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { campaigns, REPORT_KINDS, reports, type ReportKind } from "../storage/schema.ts";
import { isLinkedParent } from "../territory/links.ts";
import type { ActorRow } from "../federation/actors.ts";
import { reportObject, type ReportWire } from "../federation/territory.ts";
import { nodeActor } from "../federation/actors.ts";
import { record } from "../outbox/outbox.ts";
import { canRunCampaigns } from "../campaigns/campaigns.ts";
import { aggregate } from "../campaigns/results.ts";

export type ReportRow = typeof reports.$inferSelect;

export interface ReportInput {
  kind: ReportKind;
  title: string;
  body?: string;
  alsoNational?: boolean;
  /** Attach the section's figures per campaign and action type (default: yes). */
  withFigures?: boolean;
}

function wireOf(row: ReportRow): ReportWire {
  return {
    uri: row.uri,
    sectionUri: row.sectionUri,
    sectionName: row.sectionName,
    federationUri: row.federationUri,
    kind: row.kind,
    title: row.title,
    body: row.body,
    figures: JSON.parse(row.figures),
    alsoNational: row.alsoNational,
    authorName: row.authorName,
    version: row.version,
  };
}

/** This node's own results, {campaignUri: {actionType: figures}}: the structured part of a report. */
export function figuresOf(services: Services): Record<string, Record<string, Record<string, number>>> {
  const node = nodeActor(services);
  const out: Record<string, Record<string, Record<string, number>>> = {};
  for (const row of aggregate(services.db, "campaign_type", { sectionUri: node.uri })) {
    const { results: _results, ...metrics } = row.totals;
    (out[row.campaignUri!] ??= {})[row.actionType!] = metrics;
  }
  return out;
}

export async function writeReport(services: Services, user: User, input: ReportInput): Promise<ReportRow> {
  if (!canRunCampaigns(user)) throw new UserError("report_forbidden", 403);
  if (services.config.kind === "national") throw new UserError("report_no_parent", 409);
  const title = input.title?.trim() ?? "";
  if (!title) throw new UserError("report_title_missing", 422);
  if (title.length > 200) throw new UserError("report_title_too_long", 422);
  if (!REPORT_KINDS.includes(input.kind)) throw new UserError("report_kind_invalid", 422);
  const body = (input.body ?? "").trim();
  if (body.length > 50_000) throw new UserError("report_too_long", 422);
  const { db, config } = services;
  const node = nodeActor(services);
  const id = newId();
  const now = Date.now();
  const figures = JSON.stringify(input.withFigures === false ? {} : figuresOf(services));
  return db.transaction((tx) => {
    const row = tx
      .insert(reports)
      .values({
        id,
        uri: `${config.origin}/reports/${id}`,
        outgoing: true,
        kind: input.kind,
        title,
        body,
        figures,
        alsoNational: !!input.alsoNational,
        sectionUri: node.uri,
        sectionName: config.name,
        authorId: user.id,
        authorName: actorOf(tx, user).name || user.username,
        version: now,
        createdAt: now,
      })
      .returning()
      .get();
    // Without an established link the report waits here; it is sent when the link is made.
    record(tx, { kind: "territory.up", type: "Create", object: reportObject(wireOf(row), []) });
    return row;
  });
}

/** Sends our reports again (after the link to the parent was made): receivers ignore what they have. */
export async function resendReports(services: Services): Promise<void> {
  services.db.transaction((tx) => {
    for (const row of tx.select().from(reports).where(and(eq(reports.outgoing, true))).all()) {
      if (!row.acknowledgedAt) record(tx, { kind: "territory.up", type: "Create", object: reportObject(wireOf(row), []) });
    }
  });
}

/** Reports written here (sent up) or received from below, newest first. */
export function listReports(db: Db, user: User, direction: "sent" | "received", limit = 100): ReportRow[] {
  if (direction === "received" ? !canRunCampaigns(user) : !isCardHolder(user.role)) throw new UserError("report_forbidden", 403);
  return db.select().from(reports).where(eq(reports.outgoing, direction === "sent")).orderBy(desc(reports.createdAt)).limit(limit).all();
}

/**
 * Opens a report. A received one is marked read the first time a manager
 * opens it, and the section that wrote it is told so.
 */
export async function openReport(services: Services, user: User, id: number): Promise<ReportRow> {
  const { db } = services;
  const row = db.select().from(reports).where(eq(reports.id, id)).get();
  if (!row) throw new UserError("report_not_found", 404);
  if (row.outgoing ? !isCardHolder(user.role) : !canRunCampaigns(user)) throw new UserError("report_not_found", 404);
  if (row.outgoing || row.openedAt) return row;
  const section = await services.remote.resolve(row.sectionUri).catch(() => null);
  return db.transaction((tx) => {
    const opened = tx.update(reports).set({ openedAt: Date.now(), openedBy: user.id }).where(eq(reports.id, id)).returning().get();
    if (section && !section.local) record(tx, { kind: "territory.acknowledged", type: "Read", reportUri: row.uri, sectionId: section.id });
    return opened;
  });
}

/** Stores a report from below (once; a newer version replaces the text) and acknowledges it. */
export async function receiveReport(services: Services, wire: ReportWire, federationUri: string | null, section: ActorRow | null): Promise<{ row: ReportRow; changed: boolean } | null> {
  const { db } = services;
  const existing = db.select().from(reports).where(eq(reports.uri, wire.uri)).get();
  if (existing && (existing.outgoing || existing.sectionUri !== wire.sectionUri)) return null;
  const values = {
    kind: wire.kind,
    title: wire.title,
    body: wire.body,
    figures: JSON.stringify(wire.figures),
    alsoNational: wire.alsoNational,
    sectionUri: wire.sectionUri,
    sectionName: wire.sectionName,
    federationUri,
    authorName: wire.authorName,
    version: wire.version,
  };
  return db.transaction((tx) => {
    let row: ReportRow | undefined;
    let changed = true;
    if (!existing) row = tx.insert(reports).values({ id: newId(), uri: wire.uri, outgoing: false, ...values }).onConflictDoNothing().returning().get();
    else if (existing.version < wire.version) row = tx.update(reports).set(values).where(eq(reports.id, existing.id)).returning().get();
    else [row, changed] = [existing, false];
    // The managers here are told of a new report (not of its corrections), from the section that wrote it.
    if (row && !existing) notifyAll(services, memberManagerActorIds(tx), { type: "coopol.report", fromActorId: (section ?? nodeActor(services)).id, reportId: row.id });
    // Acknowledged again on a redelivery: the sender may have missed the first answer.
    if (section && !section.local) record(tx, { kind: "territory.acknowledged", type: "Accept", reportUri: wire.uri, sectionId: section.id });
    return row ? { row, changed } : null;
  });
}

/**
 * Who may acknowledge our reports: our linked parent, and for reports sent on
 * to national, the national node (known here as the owner of national campaigns).
 */
function mayAcknowledge(db: Db, report: ReportRow, by: ActorRow): boolean {
  if (isLinkedParent(db, by.id)) return true;
  return report.alsoNational && !!db.select({ id: campaigns.id }).from(campaigns).where(and(eq(campaigns.ownerActorId, by.id), eq(campaigns.level, "national"))).get();
}

/** The parent (or national) acknowledged one of our reports: received, or read. */
export function reportAcknowledged(db: Db, reportUri: string, type: "Accept" | "Read", by: ActorRow): boolean {
  const row = db.select().from(reports).where(and(eq(reports.uri, reportUri), eq(reports.outgoing, true))).get();
  if (!row || !mayAcknowledge(db, row, by)) return false;
  const name = by.name || `${by.username}@${by.domain}`;
  if (type === "Accept") {
    if (!row.acknowledgedAt) db.update(reports).set({ acknowledgedAt: Date.now() }).where(eq(reports.id, row.id)).run();
  } else {
    const readers = new Set((row.readBy ?? "").split(" · ").filter(Boolean));
    readers.add(name);
    db.update(reports)
      .set({ readAt: row.readAt ?? Date.now(), acknowledgedAt: row.acknowledgedAt ?? Date.now(), readBy: [...readers].join(" · ") })
      .where(eq(reports.id, row.id))
      .run();
  }
  return true;
}
