// Results of field actions: what the coordinator or participants recorded
// here, and what the sections below sent up. Every result has a URI and a
// version: the same result delivered twice is stored once, an edited one
// replaces the old figures, an older copy arriving late changes nothing.
import { and, desc, eq, inArray, isNull, sql, type SQL } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { MAX_FIGURE } from "../bounds.ts";
import type { User } from "../members/members.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { actionResults, campaigns, fieldActions, fieldContacts, METRICS, resultTotals, type ActionType, type Metric } from "../storage/schema.ts";
import { resultObject, type ResultWire } from "../federation/territory.ts";
import { toCsv } from "../csv.ts";
import { nodeActor } from "../federation/actors.ts";
import { record } from "../outbox/outbox.ts";
import { canEditAction, getAction, notifyActionPeople, tookPart, type ActionRow } from "./actions.ts";

export type ResultRow = typeof actionResults.$inferSelect;
export type Metrics = Record<Metric, number>;


function checkMetrics(input: Partial<Record<Metric, number>>): Metrics {
  return Object.fromEntries(
    METRICS.map((m) => {
      const value = input[m] ?? 0;
      if (!Number.isInteger(value) || value < 0 || value > MAX_FIGURE) throw new UserError("result_figure_invalid", 422, { metric: m });
      return [m, value];
    }),
  ) as Metrics;
}

function wireOf(services: Services, row: ResultRow, campaignName: string): ResultWire {
  return {
    uri: row.uri,
    sectionUri: row.sectionUri,
    sectionName: row.sectionName,
    federationUri: row.federationUri,
    campaignUri: row.campaignUri,
    campaignName,
    actionType: row.actionType,
    actionDate: row.actionDate,
    metrics: Object.fromEntries(METRICS.map((m) => [m, row[m]])) as Metrics,
    comment: row.comment,
    deleted: row.deletedAt != null,
    version: row.version,
  };
}

/** A result of ours goes up to the fédération (through the outbox: call it in the change's transaction). */
function sendResult(services: Services, db: Db, row: ResultRow, type: "Create" | "Update"): void {
  const campaign = db.select({ title: campaigns.title }).from(campaigns).where(eq(campaigns.uri, row.campaignUri)).get();
  record(db, { kind: "territory.up", type, object: resultObject(wireOf(services, row, campaign?.title ?? ""), []) });
}

/** Who may change a recorded result: whoever recorded it, and whoever may edit its action. */
export function canChangeResult(user: User, row: ResultRow, action: ActionRow): boolean {
  return row.recordedBy === user.id || canEditAction(user, action);
}

/** A live result recorded here (not one received from below), with its action. */
function ownResult(db: Db, user: User, resultId: number): { row: ResultRow; action: ActionRow } {
  const row = db.select().from(actionResults).where(eq(actionResults.id, resultId)).get();
  if (!row?.actionId || row.deletedAt != null) throw new UserError("result_not_found", 404);
  return { row, action: getAction(db, user, row.actionId) };
}

/**
 * Stores new figures: a first result of `recordedBy` for the action, or new
 * figures for an existing one. A correction keeps the result's URI and raises
 * its version, so the fédération replaces the earlier figures instead of
 * adding to them.
 */
function saveFigures(services: Services, action: ActionRow, existing: ResultRow | undefined, recordedBy: number, figures: Partial<Record<Metric, number>>, comment: string): ResultRow {
  const { db, config } = services;
  const campaign = db.select().from(campaigns).where(eq(campaigns.id, action.campaignId)).get()!;
  const metrics = checkMetrics(figures);
  const values = {
    ...metrics,
    campaignUri: campaign.uri,
    campaignName: campaign.title,
    actionType: action.type,
    actionDate: action.startAt,
    comment: comment.trim().slice(0, 5000),
    deletedAt: null,
    // Strictly increasing, so that the receiver can tell the newest version.
    version: Math.max(Date.now(), (existing?.version ?? 0) + 1),
  };
  return db.transaction((tx) => {
    const row = existing
      ? tx.update(actionResults).set(values).where(eq(actionResults.id, existing.id)).returning().get()
      : tx
          .insert(actionResults)
          .values({ id: newId(), uri: `${config.origin}/results/${newId()}`, actionId: action.id, sectionUri: nodeActor(services).uri, sectionName: config.name, federationUri: null, recordedBy, ...values })
          .returning()
          .get();
    sendResult(services, tx, row, existing ? "Update" : "Create");
    return row;
  });
}

/**
 * Records (or corrects) one member's result for an action: the coordinator,
 * the organiser, a manager or a participant. One result per member and action;
 * it goes up to the fédération at once.
 */
export async function recordResult(services: Services, user: User, actionId: number, figures: Partial<Record<Metric, number>>, comment = ""): Promise<ResultRow> {
  const { db } = services;
  const action = getAction(db, user, actionId);
  if (!canEditAction(user, action) && !tookPart(db, user.id, actionId)) throw new UserError("result_forbidden", 403);
  const existing = db.select().from(actionResults).where(and(eq(actionResults.actionId, actionId), eq(actionResults.recordedBy, user.id))).get();
  const row = saveFigures(services, action, existing, user.id, figures, comment);
  notifyActionPeople(services, action, user, "coopol.results");
  return row;
}

/**
 * Corrects a result already recorded, whoever typed it (the coordinator fixing
 * a participant's typo): its figures and comment are replaced, here and at the
 * fédération; it stays the result of the member who recorded it.
 */
export async function correctResult(services: Services, user: User, resultId: number, figures: Partial<Record<Metric, number>>, comment = ""): Promise<ResultRow> {
  const { row, action } = ownResult(services.db, user, resultId);
  if (!canChangeResult(user, row, action)) throw new UserError("result_forbidden", 403);
  const corrected = saveFigures(services, action, row, row.recordedBy ?? user.id, figures, comment);
  notifyActionPeople(services, action, user, "coopol.results");
  return corrected;
}

export async function deleteResult(services: Services, user: User, resultId: number): Promise<void> {
  const { db } = services;
  const { row, action } = ownResult(db, user, resultId);
  if (!canChangeResult(user, row, action)) throw new UserError("result_forbidden", 403);
  db.transaction((tx) => {
    const deleted = tx.update(actionResults).set({ deletedAt: Date.now(), version: Math.max(Date.now(), row.version + 1) }).where(eq(actionResults.id, row.id)).returning().get();
    sendResult(services, tx, deleted, "Update");
  });
}

export function resultsOfAction(db: Db, actionId: number): ResultRow[] {
  return db.select().from(actionResults).where(and(eq(actionResults.actionId, actionId), isNull(actionResults.deletedAt))).orderBy(desc(actionResults.version)).all();
}

/**
 * Stores a result received from below. `federationUri` is the fédération it
 * belongs to, as this node knows it (not as the sender claims).
 */
export function storeReceivedResult(db: Db, wire: ResultWire, federationUri: string | null): "stored" | "replaced" | "ignored" {
  const existing = db.select().from(actionResults).where(eq(actionResults.uri, wire.uri)).get();
  if (existing && (existing.actionId != null || existing.sectionUri !== wire.sectionUri)) return "ignored";
  if (existing && existing.version >= wire.version) return "ignored";
  const values = {
    campaignUri: wire.campaignUri,
    // Shown where the campaign is unknown here (a section's own): plain text, one line, bounded.
    campaignName: wire.campaignName.replace(/\p{Cc}+/gu, " ").trim().slice(0, 200),
    actionType: wire.actionType,
    actionDate: wire.actionDate,
    sectionUri: wire.sectionUri,
    sectionName: wire.sectionName,
    federationUri,
    ...wire.metrics,
    comment: wire.comment,
    version: wire.version,
    deletedAt: wire.deleted ? Date.now() : null,
  };
  if (existing) {
    db.update(actionResults).set(values).where(eq(actionResults.id, existing.id)).run();
    return "replaced";
  }
  db.insert(actionResults).values({ id: newId(), uri: wire.uri, ...values }).onConflictDoNothing().run();
  return "stored";
}

/**
 * Names of campaigns by URI: ours and those sent down to us by their title,
 * the others (a section's own campaign, known above only through its results)
 * by the name the section sent with them.
 */
export function campaignNames(db: Db, uris: string[]): Map<string, string> {
  const names = new Map<string, string>();
  if (uris.length === 0) return names;
  for (const c of db.select({ uri: campaigns.uri, title: campaigns.title }).from(campaigns).where(inArray(campaigns.uri, uris)).all()) names.set(c.uri, c.title);
  const unknown = uris.filter((u) => !names.has(u));
  if (unknown.length === 0) return names;
  // SQLite takes a bare column from the row max() picks: the name of the newest result.
  const sent = db
    .select({ uri: actionResults.campaignUri, name: actionResults.campaignName, newest: sql<number>`max(${actionResults.version})` })
    .from(actionResults)
    .where(and(inArray(actionResults.campaignUri, unknown), sql`${actionResults.campaignName} != ''`))
    .groupBy(actionResults.campaignUri)
    .all();
  for (const row of sent) names.set(row.uri, row.name);
  return names;
}

export interface Totals extends Metrics {
  results: number;
}

const sums = Object.fromEntries(METRICS.map((m) => [m, sql<number>`coalesce(sum(${resultTotals[m]}), 0)`])) as Record<Metric, SQL<number>>;

function totalsOf(row: Record<string, unknown>): Totals {
  return { results: Number(row.results ?? 0), ...(Object.fromEntries(METRICS.map((m) => [m, Number(row[m] ?? 0)])) as Metrics) };
}

/**
 * Sums of the live results, grouped as asked: by campaign and action type, by
 * section, or by fédération. Read from result_totals (kept by triggers), so
 * the cost follows the number of sections and campaigns, not of results.
 */
export function aggregate(db: Db, by: AggregateBy, where: { campaignUri?: string; sectionUri?: string; federationUri?: string } = {}) {
  const t = resultTotals;
  const filters = [
    ...(where.campaignUri ? [eq(t.campaignUri, where.campaignUri)] : []),
    ...(where.sectionUri ? [eq(t.sectionUri, where.sectionUri)] : []),
    ...(where.federationUri ? [eq(t.federationUri, where.federationUri)] : []),
  ];
  // Unfiltered (the dashboards, the campaigns list), a statement built once per grouping.
  const rows = filters.length ? aggregateQuery(db, by, filters).all() : unfilteredAggregate[by](db).all();
  const grouped = (name: string) => GROUP_BY[by].some((c) => c.name === name);
  return rows.map((row) => ({
    campaignUri: grouped("campaign_uri") ? row.campaignUri : null,
    actionType: grouped("action_type") ? row.actionType : null,
    sectionUri: grouped("section_uri") ? row.sectionUri : null,
    sectionName: grouped("section_uri") ? row.sectionName : null,
    federationUri: grouped("federation_uri") ? row.federationUri : null,
    totals: totalsOf(row as Record<string, unknown>),
  }));
}

type AggregateBy = "campaign_type" | "section" | "federation" | "campaign";

const GROUP_BY = {
  campaign_type: [resultTotals.campaignUri, resultTotals.actionType],
  campaign: [resultTotals.campaignUri],
  section: [resultTotals.sectionUri],
  federation: [resultTotals.federationUri],
};

function aggregateQuery(db: Db, by: AggregateBy, filters: SQL[]) {
  const t = resultTotals;
  return db
    .select({
      campaignUri: sql<string>`max(${t.campaignUri})`,
      actionType: sql<ActionType>`max(${t.actionType})`,
      sectionUri: sql<string>`max(${t.sectionUri})`,
      sectionName: sql<string>`max(${t.sectionName})`,
      federationUri: sql<string | null>`max(${t.federationUri})`,
      results: sql<number>`sum(${t.results})`,
      ...sums,
    })
    .from(t)
    .where(and(sql`${t.results} > 0`, ...filters))
    .groupBy(...GROUP_BY[by]);
}

const unfilteredAggregate = Object.fromEntries(
  (Object.keys(GROUP_BY) as AggregateBy[]).map((by) => [by, preparedOnce((db) => aggregateQuery(db, by, []).prepare())]),
) as Record<AggregateBy, (db: Db) => ReturnType<ReturnType<typeof aggregateQuery>["prepare"]>>;

// ---- Contacts collected in the field -------------------------------------------------

export const CONSENT_TEXT_FR = "J'accepte que la section me recontacte au sujet de cette campagne. Je peux retirer mon accord à tout moment.";

export type ContactRow = typeof fieldContacts.$inferSelect;

/**
 * A person met in the field who explicitly agreed to be contacted again.
 * Without consent nothing is stored. Contacts never leave the section.
 */
export function addContact(services: Services, user: User, actionId: number, input: { name: string; email?: string; phone?: string; note?: string; consent: boolean }): ContactRow {
  const { db } = services;
  const action = getAction(db, user, actionId);
  if (!canEditAction(user, action) && !tookPart(db, user.id, actionId)) throw new UserError("result_forbidden", 403);
  if (!input.consent) throw new UserError("contact_consent_missing", 422);
  const name = input.name?.trim() ?? "";
  if (!name) throw new UserError("contact_name_missing", 422);
  const email = input.email?.trim() || null;
  const phone = input.phone?.trim() || null;
  if (!email && !phone) throw new UserError("contact_reach_missing", 422);
  if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new UserError("contact_email_invalid", 422);
  return db
    .insert(fieldContacts)
    .values({ id: newId(), actionId, name: name.slice(0, 200), email, phone: phone?.slice(0, 40) ?? null, note: (input.note ?? "").trim().slice(0, 1000), consent: CONSENT_TEXT_FR, consentAt: Date.now(), recordedBy: user.id })
    .returning()
    .get();
}

export function contactsOf(db: Db, user: User, actionId: number): ContactRow[] {
  const action = getAction(db, user, actionId);
  if (!canEditAction(user, action)) throw new UserError("action_forbidden", 403);
  return db.select().from(fieldContacts).where(eq(fieldContacts.actionId, actionId)).orderBy(desc(fieldContacts.createdAt)).all();
}

/** Actions whose date has passed and that have no result yet: what the coordinator still owes. */
export function actionsAwaitingResults(db: Db, now = Date.now()) {
  return db
    .select()
    .from(fieldActions)
    .where(and(isNull(fieldActions.cancelledAt), sql`${fieldActions.startAt} < ${now}`, sql`not exists (select 1 from ${actionResults} where ${actionResults.actionId} = ${fieldActions.id} and ${actionResults.deletedAt} is null)`))
    .all();
}

/** Sends every result recorded here again (after the link to the parent was made): receivers keep the newest. */
export async function resendResults(services: Services): Promise<void> {
  const rows = services.db.select().from(actionResults).where(sql`${actionResults.actionId} is not null`).all();
  services.db.transaction((tx) => rows.forEach((row) => sendResult(services, tx, row, "Create")));
}

/** Every live result known here (ours and, upward, the sections'), one row each. */
export function resultsCsv(db: Db): string {
  const rows = db.select().from(actionResults).where(isNull(actionResults.deletedAt)).orderBy(actionResults.actionDate).all();
  return toCsv(
    ["section", "section_uri", "federation_uri", "campagne_uri", "type_action", "date_action", ...METRICS, "commentaire", "version"],
    rows.map((r) => [r.sectionName, r.sectionUri, r.federationUri, r.campaignUri, r.actionType, new Date(r.actionDate).toISOString(), ...METRICS.map((m) => r[m]), r.comment, new Date(r.version).toISOString()]),
  );
}
