// Campaigns: run by a section for itself, or by a fédération or the national
// level for everyone below it. They flow down the hierarchy (send-territory);
// a section sees its own and its upper levels' campaigns and joins those it
// takes part in.
import { and, desc, eq, isNull, or, sql } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { canManageMembers, isCardHolder, type User } from "../members/members.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { campaigns, METRICS, type Metric } from "../storage/schema.ts";
import type { ActorRow } from "../federation/actors.ts";
import { campaignJoinObject, campaignObject, goalsOf, type CampaignWire } from "../federation/territory.ts";
import { safeUrl } from "../safe-url.ts";
import { nodeActor } from "../federation/actors.ts";
import { record } from "../outbox/outbox.ts";

export type CampaignRow = typeof campaigns.$inferSelect;

export interface CampaignInput {
  title: string;
  description?: string;
  startsAt: number;
  endsAt?: number | null;
  goals?: Partial<Record<Metric, number>>;
  materials?: Array<{ name: string; url: string }>;
}

/** Who runs campaigns and writes reports: the section's (or fédération's) secretaries and admins. */
export function canRunCampaigns(user: User): boolean {
  return canManageMembers(user.role);
}

function requireCardHolder(user: User): void {
  if (!isCardHolder(user.role)) throw new UserError("campaign_forbidden", 403);
}

function requireManager(user: User): void {
  if (!canRunCampaigns(user)) throw new UserError("campaign_forbidden", 403);
}

function checkInput(input: CampaignInput): Required<CampaignInput> {
  const title = input.title?.trim() ?? "";
  if (!title) throw new UserError("campaign_title_missing", 422);
  if (title.length > 200) throw new UserError("campaign_title_too_long", 422);
  if (!Number.isFinite(input.startsAt)) throw new UserError("campaign_dates_invalid", 422);
  if (input.endsAt != null && (!Number.isFinite(input.endsAt) || input.endsAt < input.startsAt)) throw new UserError("campaign_dates_invalid", 422);
  const goals = goalsOf(input.goals ?? {});
  for (const [metric, value] of Object.entries(input.goals ?? {})) {
    if (!METRICS.includes(metric as Metric) || (value != null && (!Number.isInteger(value) || value < 0))) throw new UserError("campaign_goal_invalid", 422, { metric });
  }
  const materials = (input.materials ?? []).map((m) => ({ name: m.name.trim().slice(0, 200), url: m.url.trim() }));
  for (const m of materials) {
    if (!safeUrl(m.url)) throw new UserError("campaign_material_invalid", 422, { url: m.url });
  }
  return { title, description: (input.description ?? "").trim().slice(0, 20_000), startsAt: input.startsAt, endsAt: input.endsAt ?? null, goals, materials: materials.slice(0, 50) };
}

export function wireOf(row: CampaignRow, ownerUri: string): CampaignWire {
  return {
    uri: row.uri,
    ownerUri,
    level: row.level,
    title: row.title,
    description: row.description,
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    goals: JSON.parse(row.goals),
    materials: JSON.parse(row.materials),
    cancelled: row.cancelledAt != null,
    version: row.updatedAt,
  };
}

/** A campaign of ours goes to the linked children (through the outbox: call it in the change's transaction). */
function publish(services: Services, db: Db, row: CampaignRow, type: "Create" | "Update", only?: ActorRow[]): void {
  const node = nodeActor(services);
  if (row.ownerActorId !== node.id || row.level === "section") return;
  record(db, { kind: "territory.down", type, object: campaignObject(wireOf(row, node.uri), []), only: only?.map((a) => a.id) });
}

export async function createCampaign(services: Services, user: User, input: CampaignInput): Promise<CampaignRow> {
  requireManager(user);
  const values = checkInput(input);
  const { db, config } = services;
  const node = nodeActor(services);
  const id = newId();
  const now = Date.now();
  return db.transaction((tx) => {
    const row = tx
      .insert(campaigns)
      .values({
        id,
        uri: `${config.origin}/campaigns/${id}`,
        ownerActorId: node.id,
        level: config.kind,
        title: values.title,
        description: values.description,
        startsAt: values.startsAt,
        endsAt: values.endsAt,
        goals: JSON.stringify(values.goals),
        materials: JSON.stringify(values.materials),
        // Our own campaigns are ours to work on from the start.
        joinedAt: now,
        createdBy: user.id,
        createdAt: now,
        updatedAt: now,
      })
      .returning()
      .get();
    publish(services, tx, row, "Create");
    return row;
  });
}

export function findCampaign(db: Db, id: number): CampaignRow | undefined {
  return db.select().from(campaigns).where(eq(campaigns.id, id)).get();
}

export function findCampaignByUri(db: Db, uri: string): CampaignRow | undefined {
  return db.select().from(campaigns).where(eq(campaigns.uri, uri)).get();
}

/** A campaign as members may see it: card-holders only (campaign work is the party's own business). */
export function getCampaign(db: Db, user: User, id: number): CampaignRow {
  requireCardHolder(user);
  const row = findCampaign(db, id);
  if (!row) throw new UserError("campaign_not_found", 404);
  return row;
}

function ownCampaign(services: Services, user: User, id: number): CampaignRow {
  requireManager(user);
  const row = findCampaign(services.db, id);
  if (!row || row.ownerActorId !== nodeActor(services).id) throw new UserError("campaign_not_found", 404);
  return row;
}

export async function updateCampaign(services: Services, user: User, id: number, input: CampaignInput): Promise<CampaignRow> {
  const existing = ownCampaign(services, user, id);
  const values = checkInput(input);
  return services.db.transaction((tx) => {
    const row = tx
      .update(campaigns)
      .set({ ...values, goals: JSON.stringify(values.goals), materials: JSON.stringify(values.materials), updatedAt: Math.max(Date.now(), existing.updatedAt + 1) })
      .where(eq(campaigns.id, id))
      .returning()
      .get();
    publish(services, tx, row, "Update");
    return row;
  });
}

export async function cancelCampaign(services: Services, user: User, id: number): Promise<CampaignRow> {
  const existing = ownCampaign(services, user, id);
  return services.db.transaction((tx) => {
    const row = tx
      .update(campaigns)
      .set({ cancelledAt: Date.now(), updatedAt: Math.max(Date.now(), existing.updatedAt + 1) })
      .where(eq(campaigns.id, id))
      .returning()
      .get();
    publish(services, tx, row, "Update");
    return row;
  });
}

/** A section (or fédération) takes part in a campaign of an upper level. */
export function joinCampaign(services: Services, user: User, id: number, join = true): CampaignRow {
  requireManager(user);
  const row = findCampaign(services.db, id);
  if (!row) throw new UserError("campaign_not_found", 404);
  const node = nodeActor(services);
  return services.db.transaction((tx) => {
    const updated = tx.update(campaigns).set({ joinedAt: join ? (row.joinedAt ?? Date.now()) : null }).where(eq(campaigns.id, id)).returning().get();
    // The level above is told (its managers get a notification); only a change, and only of an upper level's campaign.
    if (row.ownerActorId !== node.id && (row.joinedAt != null) !== join) {
      record(tx, { kind: "territory.up", type: "Update", object: campaignJoinObject({ nodeUri: node.uri, campaignUri: row.uri, joined: join, version: Date.now() }, []) });
    }
    return updated;
  });
}

/** Every campaign this node knows: its own and its upper levels', newest first. */
export function listCampaigns(db: Db, options: { current?: boolean; joined?: boolean } = {}, now = Date.now()): CampaignRow[] {
  const filters = [
    ...(options.current ? [isNull(campaigns.cancelledAt), or(isNull(campaigns.endsAt), sql`${campaigns.endsAt} >= ${now}`)] : []),
    ...(options.joined ? [sql`${campaigns.joinedAt} is not null`] : []),
  ];
  return db
    .select()
    .from(campaigns)
    .where(filters.length ? and(...filters) : undefined)
    .orderBy(desc(campaigns.startsAt))
    .all();
}

/**
 * Stores a campaign received from the parent node (directly or relayed from
 * further up). A newer version replaces an older one; our own never change here.
 */
export function storeCampaign(db: Db, wire: CampaignWire, owner: ActorRow): { row: CampaignRow; changed: boolean; created: boolean } | null {
  const existing = findCampaignByUri(db, wire.uri);
  if (existing && (owner.local || existing.ownerActorId !== owner.id)) return null;
  if (existing && existing.updatedAt >= wire.version) return { row: existing, changed: false, created: false };
  const values = {
    ownerActorId: owner.id,
    level: wire.level,
    title: wire.title,
    description: wire.description,
    startsAt: wire.startsAt,
    endsAt: wire.endsAt,
    goals: JSON.stringify(wire.goals),
    materials: JSON.stringify(wire.materials),
    cancelledAt: wire.cancelled ? (existing?.cancelledAt ?? Date.now()) : null,
    updatedAt: wire.version,
  };
  const row = existing
    ? db.update(campaigns).set(values).where(eq(campaigns.id, existing.id)).returning().get()
    : db.insert(campaigns).values({ id: newId(), uri: wire.uri, ...values }).returning().get();
  return { row, changed: true, created: !existing };
}

/** Campaigns of ours and of our upper levels that a newly linked child should have. */
export async function sendCampaignsTo(services: Services, child: ActorRow): Promise<void> {
  const node = nodeActor(services);
  for (const row of listCampaigns(services.db, { current: true })) {
    if (row.level === "section") continue;
    if (row.ownerActorId === node.id) publish(services, services.db, row, "Create", [child]);
    else {
      const owner = services.db.query.actors.findFirst({ where: (a, { eq }) => eq(a.id, row.ownerActorId) }).sync();
      const activity = owner && { type: "Create" as const, id: `${row.uri}#create-${row.updatedAt}`, actor: owner.uri, payload: campaignObject(wireOf(row, owner.uri), []) };
      if (activity) record(services.db, { kind: "territory.relayed", childId: child.id, activity });
    }
  }
}
