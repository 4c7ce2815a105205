// What a node tells its parent about itself, for the dashboards: how many
// members, how many active in the last 30 days, events held and planned.
// Counts only, never who. Sent when the link is made and every few hours.
import { and, count, countDistinct, eq, gt, gte, isNull, lt, ne, or, sql } from "drizzle-orm";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { actors, events, nodeStats, posts, users } from "../storage/schema.ts";
import { statusObject, type StatusWire } from "../federation/territory.ts";
import { nodeActor } from "../federation/actors.ts";
import { record } from "../outbox/outbox.ts";
import { linkedParent } from "../territory/links.ts";

const DAY = 86_400_000;

export type NodeStatsRow = typeof nodeStats.$inferSelect;

/** This node's own figures. */
export function ownStatus(services: Services, now = Date.now()): StatusWire {
  const { db, config } = services;
  const monthAgo = now - 30 * DAY;
  const members = db.select({ n: count() }).from(users).where(and(isNull(users.disabledAt), ne(users.role, "sympathisant"))).get()?.n ?? 0;
  // Active: logged in on the web, or posted, in the last 30 days (apps do not log in every day).
  const activeMembers =
    db
      .select({ n: countDistinct(users.id) })
      .from(users)
      .where(and(isNull(users.disabledAt), ne(users.role, "sympathisant"), or(gt(users.lastLoginAt, monthAgo), sql`exists (select 1 from ${posts} where ${posts.actorId} = ${users.actorId} and ${posts.publishedAt} > ${monthAgo})`)))
      .get()?.n ?? 0;
  const localEvents = (from: number, to: number) =>
    db
      .select({ n: count() })
      .from(events)
      .innerJoin(actors, eq(actors.id, events.actorId))
      .where(and(eq(actors.local, true), ne(events.status, "cancelled"), gte(events.startAt, from), lt(events.startAt, to)))
      .get()?.n ?? 0;
  return {
    nodeUri: nodeActor(services).uri,
    name: config.name,
    kind: config.kind,
    territory: config.territory,
    federationUri: config.kind === "federation" ? nodeActor(services).uri : (linkedParent(db)?.uri ?? null),
    members,
    activeMembers,
    eventsHeld: localEvents(monthAgo, now),
    eventsUpcoming: localEvents(now, now + 30 * DAY),
    version: now,
  };
}

/** Sends our figures to the parent, if linked. */
export async function sendStatus(services: Services): Promise<void> {
  if (services.config.kind === "national") return;
  record(services.db, { kind: "territory.up", type: "Update", object: statusObject(ownStatus(services), []) });
}

/** Figures of a node below, kept if newer than what we have. */
export function storeStatus(db: Db, wire: StatusWire, federationUri: string | null): boolean {
  const existing = db.select().from(nodeStats).where(eq(nodeStats.nodeUri, wire.nodeUri)).get();
  if (existing && existing.version >= wire.version) return false;
  const values = { ...wire, federationUri, receivedAt: Date.now() };
  db.insert(nodeStats).values(values).onConflictDoUpdate({ target: nodeStats.nodeUri, set: values }).run();
  return true;
}

export function statsOf(db: Db): NodeStatsRow[] {
  return db.select().from(nodeStats).all();
}
