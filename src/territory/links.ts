// The hierarchy between nodes: a section's fédération, a fédération's
// sections and national node, national's fédérations. Both sides declare the
// link in their configuration (COOPOL_PARENT, COOPOL_CHILDREN); the
// overseeing node's actor then follows the overseen one's with an oversight
// request, which the overseen node accepts only from the parent it declared.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { actors, follows, settings, territoryLinks, type LinkRole } from "../storage/schema.ts";
import type { ActorRow } from "../federation/actors.ts";
import type { SectionsWire } from "../federation/territory.ts";
import { nodeActor } from "../federation/actors.ts";
import { record, unsentOf } from "../outbox/outbox.ts";
import { forEachAtMost } from "../concurrency.ts";

export type LinkRow = typeof territoryLinks.$inferSelect;

/** Oversight requests are sent again after this long without an answer (or after a refusal, less often). */
const RETRY_PENDING_MS = 5 * 60_000;
const RETRY_REFUSED_MS = 60 * 60_000;

/** Writes the configuration's declarations into territory_links; links no longer declared are dropped. */
export function syncDeclaredLinks(db: Db, config: Config): void {
  const declared: Array<{ role: LinkRole; handle: string }> = [
    ...(config.parent ? [{ role: "parent" as const, handle: config.parent }] : []),
    ...config.children.map((handle) => ({ role: "child" as const, handle })),
  ];
  db.transaction((tx) => {
    for (const { role, handle } of declared) {
      tx.insert(territoryLinks).values({ id: newId(), role, handle }).onConflictDoNothing().run();
    }
    for (const row of tx.select().from(territoryLinks).all()) {
      // Siblings are not declared: the fédération tells them (setSiblings).
      if (row.role === "sibling") continue;
      if (!declared.some((d) => d.role === row.role && d.handle === row.handle)) {
        tx.delete(territoryLinks).where(eq(territoryLinks.id, row.id)).run();
        // The overseeing side stops following; the overseen side stops answering to it.
        if (row.followUri) tx.delete(follows).where(eq(follows.uri, row.followUri)).run();
      }
    }
  });
}

export function linksOf(db: Db, role: LinkRole): Array<LinkRow & { actor: ActorRow | null }> {
  return db
    .select({ link: territoryLinks, actor: actors })
    .from(territoryLinks)
    .leftJoin(actors, eq(actors.id, territoryLinks.actorId))
    .where(eq(territoryLinks.role, role))
    .orderBy(territoryLinks.handle)
    .all()
    .map((r) => ({ ...r.link, actor: r.actor }));
}

export function linkedParent(db: Db): ActorRow | undefined {
  return db
    .select({ actor: actors })
    .from(territoryLinks)
    .innerJoin(actors, eq(actors.id, territoryLinks.actorId))
    .where(and(eq(territoryLinks.role, "parent"), eq(territoryLinks.state, "linked")))
    .get()?.actor;
}

export function linkedChildren(db: Db): ActorRow[] {
  return db
    .select({ actor: actors })
    .from(territoryLinks)
    .innerJoin(actors, eq(actors.id, territoryLinks.actorId))
    .where(and(eq(territoryLinks.role, "child"), eq(territoryLinks.state, "linked")))
    .all()
    .map((r) => r.actor);
}

/** Whether the actor is linked to us in that role: one indexed lookup, done for every incoming activity of the hierarchy. */
function isLinked(db: Db, actorId: number, role: LinkRole): boolean {
  return !!db
    .select({ id: territoryLinks.id })
    .from(territoryLinks)
    .where(and(eq(territoryLinks.actorId, actorId), eq(territoryLinks.role, role), eq(territoryLinks.state, "linked")))
    .get();
}

export const isLinkedChild = (db: Db, actorId: number) => isLinked(db, actorId, "child");
export const isLinkedParent = (db: Db, actorId: number) => isLinked(db, actorId, "parent");

function setLink(db: Db, id: number, values: Partial<LinkRow>): void {
  db.update(territoryLinks).set({ ...values, updatedAt: Date.now() }).where(eq(territoryLinks.id, id)).run();
}

/** Children looked up at the same time: a fédération of 500 sections is not linked one by one. */
const LOOKUPS_AT_ONCE = 4;
/**
 * A background job, not a person waiting: a section on a busy host (loaded
 * for the lookup, 4 at a time) may take more than the usual 5 s to answer,
 * and a lookup given up is work thrown away (the instance is loaded anyway).
 */
const LOOKUP_TIMEOUT_MS = 30_000;
/** One round at a time per instance (the periodic job and the early retries may meet). */
const rounds = new WeakMap<Services, Promise<void>>();

/**
 * Asks every declared child that is not linked yet to accept the oversight.
 * Runs at start-up and every few minutes: the child may not be up yet.
 */
export function requestOversight(services: Services, options: { now?: number; retryPendingMs?: number } = {}): Promise<void> {
  const running = rounds.get(services);
  if (running) return running;
  const round = askChildren(services, options).finally(() => rounds.delete(services));
  rounds.set(services, round);
  return round;
}

async function askChildren(services: Services, { now = Date.now(), retryPendingMs = RETRY_PENDING_MS }): Promise<void> {
  const { db, log } = services;
  const node = nodeActor(services);
  // A request still in our outbox has not even left: asking again would only queue
  // another behind it (on a busy host linking 500 sections, faster than they leave).
  const unsent = new Set(unsentOf(db, "territory.oversight.requested").map((request) => request.childId));
  const due = linksOf(db, "child").filter(
    (link) =>
      link.state !== "linked" &&
      !(link.state === "pending" && (now - link.updatedAt < retryPendingMs || (link.actorId !== null && unsent.has(link.actorId)))) &&
      !(link.state === "refused" && now - link.updatedAt < RETRY_REFUSED_MS),
  );
  await forEachAtMost(due, LOOKUPS_AT_ONCE, async (link) => {
    const child = await services.remote.lookup(link.handle, { httpTimeoutMs: LOOKUP_TIMEOUT_MS }).catch(() => null);
    if (!child || child.local) {
      setLink(db, link.id, { problem: "unreachable" });
      log.warn({ handle: link.handle }, "territory: declared child not found (yet)");
      return;
    }
    const followUri = `${node.uri}#oversight/${newId()}`;
    db.transaction((tx) => {
      tx.insert(follows)
        .values({ id: newId(), followerId: node.id, followingId: child.id, uri: followUri })
        .onConflictDoUpdate({ target: [follows.followerId, follows.followingId], set: { uri: followUri } })
        .run();
      setLink(tx, link.id, { actorId: child.id, state: link.state === "refused" ? "refused" : "pending", followUri });
      record(tx, { kind: "territory.oversight.requested", childId: child.id, followUri });
    });
  });
}

/**
 * An oversight request reached our node actor. Accepted from the declared
 * parent only; anyone else is refused (and the refusal remembered for the
 * administrators' page).
 */
export async function receiveOversight(services: Services, requester: ActorRow, followUri: string): Promise<boolean> {
  const { db, log } = services;
  const node = nodeActor(services);
  const parent = linksOf(db, "parent")[0];
  let declared: ActorRow | null = null;
  if (parent) declared = parent.actor ?? (await services.remote.lookup(parent.handle, { httpTimeoutMs: LOOKUP_TIMEOUT_MS }).catch(() => null));
  // Our declared parent cannot be looked up right now: no answer, the request comes again.
  if (parent && !declared) return false;
  if (!parent || !declared || declared.uri !== requester.uri) {
    log.warn({ requester: requester.uri }, "territory: oversight refused, this node was not declared as parent");
    db.transaction((tx) => {
      rememberRefusal(tx, requester);
      record(tx, { kind: "territory.oversight.answered", accepted: false, followUri, parentId: requester.id });
    });
    return false;
  }
  db.transaction((tx) => {
    tx.insert(follows)
      .values({ id: newId(), followerId: requester.id, followingId: node.id, uri: followUri, acceptedAt: Date.now() })
      .onConflictDoUpdate({ target: [follows.followerId, follows.followingId], set: { uri: followUri, acceptedAt: Date.now() } })
      .run();
    setLink(tx, parent.id, { actorId: requester.id, state: "linked", followUri, problem: null });
    record(tx, { kind: "territory.oversight.answered", accepted: true, followUri, parentId: requester.id });
  });
  return true;
}

/**
 * Our oversight request was answered. Returns the child when it was one of
 * ours and the answer changes the link (a second Accept does nothing). A
 * request asked again while the first was on its way has a new id; the answer
 * to the first one counts too (same node, same child, an oversight id).
 */
export function oversightAnswered(db: Db, followUri: string, answerer: ActorRow, accepted: boolean): LinkRow | undefined {
  const link = db
    .select()
    .from(territoryLinks)
    .where(and(eq(territoryLinks.role, "child"), eq(territoryLinks.actorId, answerer.id)))
    .get();
  if (!link?.followUri || !(link.followUri === followUri || (link.state === "pending" && sameOversight(link.followUri, followUri)))) return undefined;
  if (accepted && link.state === "linked") return undefined;
  setLink(db, link.id, accepted ? { state: "linked", problem: null } : { state: "refused", problem: "refused" });
  if (!accepted) db.delete(follows).where(eq(follows.uri, link.followUri)).run();
  return { ...link, state: accepted ? "linked" : "refused" };
}

/** Two oversight request ids of the same node actor (`<node>#oversight/<id>`). */
function sameOversight(ours: string, answered: string): boolean {
  const cut = ours.indexOf("#oversight/");
  return cut > 0 && answered.startsWith(ours.slice(0, cut + "#oversight/".length));
}

const REFUSALS_KEY = "territory.refusals";

function rememberRefusal(db: Db, requester: ActorRow): void {
  const list = refusals(db).filter((r) => r.uri !== requester.uri);
  list.unshift({ uri: requester.uri, handle: `${requester.username}@${requester.domain}`, at: Date.now() });
  const value = JSON.stringify(list.slice(0, 20));
  db.insert(settings).values({ key: REFUSALS_KEY, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();
}

/** Nodes that asked to oversee this one without being declared (latest first). */
export function refusals(db: Db): Array<{ uri: string; handle: string; at: number }> {
  const row = db.select().from(settings).where(eq(settings.key, REFUSALS_KEY)).get();
  return row ? (JSON.parse(row.value) as Array<{ uri: string; handle: string; at: number }>) : [];
}

/** Names of nodes by actor URI, for the pages. */
export function actorNames(db: Db, uris: string[]): Map<string, string> {
  if (uris.length === 0) return new Map();
  return new Map(db.select({ uri: actors.uri, name: actors.name, username: actors.username }).from(actors).where(inArray(actors.uri, uris)).all().map((a) => [a.uri, a.name || a.username]));
}

// ---- Siblings: the other sections of our fédération ---------------------------------------

const SIBLINGS_VERSION_KEY = "territory.siblings_version";

/**
 * The sibling sections' node actor URIs, as our fédération last listed them.
 * A sibling row's handle is that URI (rows stored before: its actor's);
 * nothing is fetched to store it: whoever needs a sibling's actor resolves it
 * then (send.ts partyTargets), so a list of 500 sections costs no request.
 */
export function linkedSiblings(db: Db): string[] {
  return db
    .select({ uri: sql<string>`coalesce(${actors.uri}, ${territoryLinks.handle})` })
    .from(territoryLinks)
    .leftJoin(actors, eq(actors.id, territoryLinks.actorId))
    .where(and(eq(territoryLinks.role, "sibling"), eq(territoryLinks.state, "linked")))
    .all()
    .map((r) => r.uri);
}

/**
 * Replaces the sibling list with the sections our linked parent says it
 * oversees (ourselves left out), with the territory it gives for each. The
 * list is bounded by readSections (federation/territory.ts).
 */
export function setSiblings(services: Services, sections: SectionsWire): void {
  const { db } = services;
  // Lists may arrive out of order: the latest wins.
  const seen = Number(db.select().from(settings).where(eq(settings.key, SIBLINGS_VERSION_KEY)).get()?.value ?? 0);
  if (sections.version < seen) return;
  const value = String(sections.version);
  const own = nodeActor(services).uri;
  const uris = new Set(sections.sections.filter((u) => u !== own));
  const territories = new Map((sections.details ?? []).map((d) => [d.id, d.territory]));
  db.transaction((tx) => {
    tx.insert(settings).values({ key: SIBLINGS_VERSION_KEY, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();
    for (const row of tx.select({ id: territoryLinks.id, handle: territoryLinks.handle }).from(territoryLinks).where(eq(territoryLinks.role, "sibling")).all()) {
      if (!uris.has(row.handle)) tx.delete(territoryLinks).where(eq(territoryLinks.id, row.id)).run();
    }
    for (const uri of uris) {
      // An actor already stored is linked (for the pages); an unknown one is not fetched.
      const actorId = tx.select({ id: actors.id }).from(actors).where(and(eq(actors.uri, uri), eq(actors.local, false))).get()?.id ?? null;
      const territory = territories.get(uri) ?? null;
      tx.insert(territoryLinks)
        .values({ id: newId(), role: "sibling", handle: uri, actorId, territory, state: "linked" })
        .onConflictDoUpdate({ target: [territoryLinks.role, territoryLinks.handle], set: { actorId, territory, state: "linked", problem: null, updatedAt: Date.now() } })
        .run();
    }
  });
}
