// Group discovery: the thematic groups of the Coopol instances this instance
// knows appear in its directory without anyone knowing their handles.
//
// A round (every 6 hours, and when a secretary or admin asks on /groups):
// 1. the known Coopol instances: the servers of the nodes we have a territory
//    link with (fédération, sections, siblings), of the Group actors our node
//    actor follows or is followed by, and of the remote thematic groups we
//    already know (their actor document said `coopol:kind: group`); at most
//    MAX_INSTANCES of them;
// 2. each one's public directory, GET /api/coopol/v1/groups, fetched
//    anonymously (what it shows to anyone is what we may list; members-only
//    groups included only if it lists them), with a timeout and a size limit;
// 3. each group it lists as its own (its URI on that very origin) and that we
//    do not know yet, or not since STALE_MS, is fetched as an ActivityPub actor
//    (lookupActor, signed by the instance actor): the directory row comes from
//    that document (readRemoteGroup), never from the JSON alone. The JSON's
//    `last_activity_at` only orders the directory (sort by activity).
// Anything wrong (unreachable server, malformed JSON, a URI on another origin,
// too many entries) is logged and skipped; a round never fails as a whole.
import { and, eq, isNotNull, or } from "drizzle-orm";
import type { Services } from "../services.ts";
import { actors, follows, groups, settings, territoryLinks } from "../storage/schema.ts";
import { actorByUri } from "../federation/remote.ts";
import { nodeActor } from "../federation/actors.ts";
import { linkedSiblings } from "../territory/links.ts";
import { repeat } from "../jobs.ts";
import { groupOfActor } from "./groups.ts";
import { fetchBoundedText, outboundDispatcher } from "../outbound.ts";
import { jsonTooDeep } from "../bounds.ts";
import { forEachAtMost } from "../concurrency.ts";

export const DISCOVERY_LIMITS = {
  /** Instances asked per round. */
  instances: 200,
  /** Entries read from one instance's directory (more are left out, and logged). */
  entries: 200,
  /** Actor documents fetched per round, all instances together. */
  fetches: 1000,
  /** Size of one directory answer. */
  bytes: 1024 * 1024,
  /** Time to wait for one directory. */
  timeoutMs: 10_000,
  /** Time to wait for one group's actor document (the round goes on without it). */
  actorTimeoutMs: 15_000,
  /** Instances asked at the same time. */
  concurrency: 4,
};
/** A known group's actor is fetched again after this long. */
const STALE_MS = 24 * 60 * 60_000;
/** The periodic round: a while after start, then every 6 hours. */
const FIRST_ROUND_DELAY_MS = 2 * 60_000;
const ROUND_EVERY_MS = 6 * 60 * 60_000;
const LAST_ROUND_KEY = "groups.discovery.last";

export interface DiscoveryResult {
  at: number;
  /** Instances asked. */
  instances: number;
  /** Instances whose directory could be read. */
  reached: number;
  /** Groups of those instances now in our directory (listed by their instance and read from their actor). */
  found: number;
  /** Of which unknown before this round. */
  added: number;
  /** Entries left out (another origin, malformed, not a Coopol group, over a limit). */
  skipped: number;
}

/** Origins (scheme://host[:port]) of the Coopol instances this instance knows, our own left out. */
export function knownInstances(services: Services): string[] {
  const { db, config } = services;
  const uris: string[] = [];
  // Territory links: declared parent and children, siblings the fédération told us about.
  uris.push(...db.select({ uri: actors.uri }).from(territoryLinks).innerJoin(actors, eq(actors.id, territoryLinks.actorId)).all().map((r) => r.uri), ...linkedSiblings(db));
  // Node actors (Groups) our node actor follows, or that follow it.
  const node = nodeActor(services);
  const linked = db
    .select({ follower: follows.followerId, following: follows.followingId })
    .from(follows)
    .where(and(isNotNull(follows.acceptedAt), or(eq(follows.followerId, node.id), eq(follows.followingId, node.id))))
    .all()
    .map((f) => (f.follower === node.id ? f.following : f.follower));
  for (const id of linked) {
    const actor = db.select({ uri: actors.uri, type: actors.type, local: actors.local }).from(actors).where(eq(actors.id, id)).get();
    if (actor && !actor.local && actor.type === "Group") uris.push(actor.uri);
  }
  // Servers of the remote thematic groups we know: their documents said they are Coopol's.
  uris.push(...db.select({ uri: actors.uri }).from(groups).innerJoin(actors, eq(actors.id, groups.actorId)).where(eq(groups.local, false)).all().map((r) => r.uri));
  const own = new URL(config.origin).origin;
  const origins = new Set<string>();
  for (const uri of uris) {
    const origin = originOf(uri);
    if (origin && origin !== own) origins.add(origin);
    if (origins.size >= DISCOVERY_LIMITS.instances) break;
  }
  return [...origins];
}

function originOf(uri: string): string | null {
  try {
    const url = new URL(uri);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
  } catch {
    return null;
  }
}

/**
 * One instance's public directory, as anyone sees it: an array, or an error.
 * Private addresses are refused when connecting (`src/outbound.ts`), so a DNS
 * answer cannot change between the check and the request; `dispatcher` is for tests.
 */
export async function fetchDirectory(origin: string, allowPrivateAddress: boolean, dispatcher = outboundDispatcher(allowPrivateAddress)): Promise<unknown[]> {
  const url = new URL("/api/coopol/v1/groups?limit=200", origin);
  const { text } = (await fetchBoundedText(url, { bytes: DISCOVERY_LIMITS.bytes, timeoutMs: DISCOVERY_LIMITS.timeoutMs, accept: "application/json" }, allowPrivateAddress, dispatcher))!;
  if (jsonTooDeep(text)) throw new Error("nested too deeply");
  const parsed = JSON.parse(text) as unknown;
  if (!Array.isArray(parsed)) throw new Error("not a list");
  return parsed;
}

/** The promise's value, or an error after `ms` (the promise itself goes on). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Listed {
  uri: string;
  lastActivityAt: number | null;
}

/** The entries an instance lists as its own groups; the others are counted as skipped. */
function ownEntries(services: Services, origin: string, list: unknown[]): { entries: Listed[]; skipped: number } {
  const { log } = services;
  let skipped = 0;
  const entries: Listed[] = [];
  if (list.length > DISCOVERY_LIMITS.entries) {
    log.warn({ origin, entries: list.length }, "group discovery: directory too long, the rest left out");
    skipped += list.length - DISCOVERY_LIMITS.entries;
  }
  for (const item of list.slice(0, DISCOVERY_LIMITS.entries)) {
    const entry = item as { uri?: unknown; local?: unknown; last_activity_at?: unknown } | null;
    if (!entry || typeof entry !== "object" || typeof entry.uri !== "string") {
      skipped++;
      log.warn({ origin }, "group discovery: malformed directory entry");
      continue;
    }
    // Groups of other instances that this one knows: we ask their own instance, if we know it.
    if (entry.local === false) continue;
    if (originOf(entry.uri) !== origin) {
      skipped++;
      log.warn({ origin, uri: entry.uri }, "group discovery: a listed group is on another origin, skipped");
      continue;
    }
    const at = typeof entry.last_activity_at === "string" ? Date.parse(entry.last_activity_at) : NaN;
    entries.push({ uri: entry.uri, lastActivityAt: Number.isFinite(at) && at <= Date.now() ? at : null });
  }
  return { entries, skipped };
}

const running = new WeakMap<Services, Promise<DiscoveryResult>>();

/** Runs a discovery round, or waits for the one under way. */
export function discoverGroups(services: Services): Promise<DiscoveryResult> {
  const current = running.get(services);
  if (current) return current;
  const round = runRound(services).finally(() => running.delete(services));
  running.set(services, round);
  return round;
}

async function runRound(services: Services): Promise<DiscoveryResult> {
  const { db, log, config } = services;
  const origins = knownInstances(services);
  const result: DiscoveryResult = { at: Date.now(), instances: origins.length, reached: 0, found: 0, added: 0, skipped: 0 };
  let fetches = 0;
  const one = async (origin: string) => {
    let list: unknown[];
    try {
      list = await fetchDirectory(origin, config.allowPrivateAddress);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // A 404: a server that is not Coopol's (a forum whose community a member follows, say), asked again next round.
      log[message === "HTTP 404" ? "info" : "warn"]({ origin, err: message }, "group discovery: directory not read");
      return;
    }
    result.reached++;
    const { entries, skipped } = ownEntries(services, origin, list);
    result.skipped += skipped;
    for (const entry of entries) {
      try {
        const known = actorByUri(db, entry.uri);
        let group = known ? groupOfActor(db, known.id) : undefined;
        const fresh = group && !group.local && Date.now() - group.updatedAt < STALE_MS;
        if (!fresh) {
          if (fetches >= DISCOVERY_LIMITS.fetches) {
            result.skipped++;
            continue;
          }
          fetches++;
          const actor = await withTimeout(services.remote.lookup(entry.uri, { refresh: !!known }), DISCOVERY_LIMITS.actorTimeoutMs);
          // The document fetched must be the listed group's, on that server, and a Coopol thematic group.
          group = actor && !actor.local && actor.uri === entry.uri ? groupOfActor(db, actor.id) : undefined;
          if (!group) {
            result.skipped++;
            log.warn({ origin, uri: entry.uri }, "group discovery: not a Coopol group, skipped");
            continue;
          }
          if (!known || !groupOfActor(db, known.id)) result.added++;
        }
        if (!group || group.local || group.state !== "active") continue;
        result.found++;
        if (entry.lastActivityAt && entry.lastActivityAt > (group.lastActivityAt ?? 0)) {
          db.update(groups).set({ lastActivityAt: entry.lastActivityAt }).where(eq(groups.id, group.id)).run();
        }
      } catch (error) {
        result.skipped++;
        log.warn({ origin, uri: entry.uri, err: error instanceof Error ? error.message : String(error) }, "group discovery: entry failed");
      }
    }
  };
  await forEachAtMost(origins, DISCOVERY_LIMITS.concurrency, one);
  const value = JSON.stringify(result);
  db.insert(settings).values({ key: LAST_ROUND_KEY, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();
  log.info({ ...result }, "group discovery: round done");
  return result;
}

/** The last round's figures, for the directory page. */
export function lastDiscovery(services: Services): DiscoveryResult | null {
  const row = services.db.select().from(settings).where(eq(settings.key, LAST_ROUND_KEY)).get();
  if (!row) return null;
  try {
    return JSON.parse(row.value) as DiscoveryResult;
  } catch {
    return null;
  }
}

/** The periodic round: a first one a little after start, then every 6 hours. */
export function startGroupDiscovery(services: Services): () => void {
  // Host mode: the job clock spaces the rounds across the instance's loads.
  if (services.jobs) return repeat(services.log, "group discovery", ROUND_EVERY_MS, () => discoverGroups(services), services.jobs);
  let stop: (() => void) | null = null;
  const timer = setTimeout(() => {
    stop = repeat(services.log, "group discovery", ROUND_EVERY_MS, () => discoverGroups(services));
  }, FIRST_ROUND_DELAY_MS);
  timer.unref();
  return () => {
    clearTimeout(timer);
    stop?.();
  };
}
