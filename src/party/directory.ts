// The party's directory of nodes: which instances (national, fédérations,
// sections) are the party's. The national node composes it (its linked
// fédérations, the sections each one reports, its admins' additions and
// removals), signs it (FEP-8b32, eddsa-jcs-2022, with its node actor's
// Ed25519 key) and serves it at /party/directory. A notice goes down the
// territory links; each node fetches the document from the node that told it
// (its linked parent), checks the proof against the national node's key,
// keeps it, serves the same bytes and tells its own children. A fédération
// thus relays it without being able to change it. Wire format:
// docs/federation.md#annuaire-du-parti--party-directory.
//
// `isPartyDomain()` is the one answer to "is this server the party's?"; with
// no directory yet (a small party without a national node) it falls back to
// the territory links.
import { webcrypto } from "node:crypto";
import { and, eq, isNotNull, sql } from "drizzle-orm";
import { importJwk, exportJwk } from "@fedify/fedify";
import { isActor, Multikey } from "@fedify/vocab";
import type { Services } from "../services.ts";
import type { Db, OpenDb } from "../storage/db.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { actors, follows, groups, NODE_KINDS, nodeStats, partyDirectory, partyNodeEdits, partyNodes, partyReportedSections, settings, territoryLinks, type NodeKind } from "../storage/schema.ts";
import { keyPairsOf, nodeActor, type ActorRow } from "../federation/actors.ts";
import { context } from "../federation/context.ts";
import { INSTANCE_ACTOR_USERNAME } from "../members/members.ts";
import { record } from "../outbox/outbox.ts";
import { fetchBoundedText } from "../outbound.ts";
import { safeUrl } from "../safe-url.ts";
import { jsonTooDeep } from "../bounds.ts";
import { COOPOL_NS } from "../federation/territory.ts";
import { actorNames, linkedChildren, linkedParent, linkedSiblings, linksOf } from "../territory/links.ts";
import { canonicalize, proofKeyId, signDocument, verifyDocument } from "./proof.ts";

type Json = Record<string, unknown>;

export const DIRECTORY_PATH = "/party/directory";

/** What a directory may make a node do or keep (5,000 nodes weigh about 1 MB). */
export const DIRECTORY_LIMITS = { nodes: 20_000, bytes: 8 * 1024 * 1024, timeoutMs: 30_000, name: 200, territory: 10 };

export const DIRECTORY_CONTEXT = [
  "https://www.w3.org/ns/activitystreams",
  "https://w3id.org/security/data-integrity/v1",
  { coopol: COOPOL_NS, PartyDirectory: "coopol:PartyDirectory", version: "coopol:version", nodes: { "@id": "coopol:nodes", "@type": "@json" } },
];

export type PartyNode = typeof partyNodes.$inferSelect;

/** Why a directory was not taken (logged; shown on the /territory page). */
export type DirectoryRefusal = "malformed" | "too_large" | "unsigned" | "bad_proof" | "not_national" | "older" | "unreachable";
export type DirectoryOutcome = { accepted: true; version: number } | { accepted: false; reason: DirectoryRefusal };

// ---- Questions ----------------------------------------------------------------------------

/** The copy this node holds, if any. */
export function heldDirectory(db: Db): typeof partyDirectory.$inferSelect | undefined {
  return db.select().from(partyDirectory).where(eq(partyDirectory.id, 1)).get();
}

// Asked for every recipient of a delivery in party-only mode: built once per database.
const directoryHeldQuery = preparedOnce((db) => db.select({ id: partyDirectory.id }).from(partyDirectory).prepare());
const partyDomainQuery = preparedOnce((db) => db.select({ uri: partyNodes.actorUri }).from(partyNodes).where(eq(partyNodes.domain, sql.placeholder("domain"))).prepare());

/** Whether this node holds a directory, without reading it (the document can be megabytes). */
export function holdsDirectory(db: Db): boolean {
  return !!directoryHeldQuery(db as OpenDb).get();
}

/** Whether a server (host, with its port if any) is one of the party's nodes. */
export function isPartyDomain(db: Db, domain: string): boolean {
  const host = domain.toLowerCase();
  if (holdsDirectory(db)) return !!partyDomainQuery(db as OpenDb).get({ domain: host });
  return linkedDomains(db).has(host);
}

/** The directory's entry for a node actor, if the directory lists it. */
export function partyNode(db: Db, actorUri: string): PartyNode | undefined {
  return db.select().from(partyNodes).where(eq(partyNodes.actorUri, actorUri)).get();
}

/** Every node of the directory, searched by name, handle or territory (the directory page). */
export function listPartyNodes(db: Db, search = ""): PartyNode[] {
  const q = `%${search.trim().toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return db
    .select()
    .from(partyNodes)
    .where(search.trim() ? sql`(lower(coalesce(${partyNodes.name}, '')) like ${q} escape '\\' or ${partyNodes.domain} like ${q} escape '\\' or coalesce(${partyNodes.territory}, '') like ${q} escape '\\')` : undefined)
    .orderBy(partyNodes.kind, partyNodes.name)
    .all();
}

/**
 * Without a directory: the servers of the nodes this one has a territory link
 * with (its fédération, its sections, its siblings), of the actors its node
 * actor follows, and its own.
 */
function linkedDomains(db: Db): Set<string> {
  const linked = db
    .select({ domain: actors.domain })
    .from(territoryLinks)
    .innerJoin(actors, eq(actors.id, territoryLinks.actorId))
    .where(eq(territoryLinks.state, "linked"))
    .all();
  // The node actor: the local Group that is not a thematic group.
  const node = db
    .select({ id: actors.id, domain: actors.domain })
    .from(actors)
    .where(and(eq(actors.local, true), eq(actors.type, "Group"), sql`${actors.id} not in (select ${groups.actorId} from ${groups} where ${groups.actorId} is not null)`))
    .get();
  const followed = node
    ? db
        .select({ domain: actors.domain })
        .from(follows)
        .innerJoin(actors, eq(actors.id, follows.followingId))
        .where(and(eq(follows.followerId, node.id), isNotNull(follows.acceptedAt)))
        .all()
    : [];
  // Siblings are kept by URI, their actors fetched only when needed.
  const siblings = linkedSiblings(db).map((uri) => ({ domain: new URL(uri).host }));
  return new Set([...linked, ...siblings, ...followed, ...(node ? [node] : [])].map((r) => r.domain));
}

/** The nodes of a fédération as the directory lists them (itself and the nodes under it), or null without a directory. */
export function federationNodes(db: Db, federationUri: string): PartyNode[] | null {
  if (!holdsDirectory(db)) return null;
  return db.select().from(partyNodes).where(sql`${partyNodes.actorUri} = ${federationUri} or ${partyNodes.parentUri} = ${federationUri}`).all();
}

/** Our fédération's node actor URI: ourselves for a fédération, the linked parent for a section. */
export function ourFederationUri(services: Services): string | undefined {
  const { config, db } = services;
  return config.kind === "federation" ? nodeActor(services).uri : config.kind === "section" ? linkedParent(db)?.uri : undefined;
}

/**
 * Servers whose members belong to our fédération (fédération-wide events):
 * with a directory, the fédération and the nodes it lists under it; without,
 * the fédération's own and the sibling sections it told us about (for a
 * fédération: its linked sections).
 */
export function federationOrigins(services: Services): Set<string> {
  const { db } = services;
  const federationUri = ourFederationUri(services);
  const listed = federationUri ? federationNodes(db, federationUri) : null;
  if (listed) return new Set(listed.map((n) => new URL(n.actorUri).origin));
  const nodes = [...linkedChildren(db), linkedParent(db)].filter((a): a is ActorRow => !!a).map((a) => a.uri);
  return new Set([...nodes, ...linkedSiblings(db)].map((uri) => new URL(uri).origin));
}

// ---- The document ---------------------------------------------------------------------------

interface Entry {
  actorUri: string;
  kind: NodeKind;
  name: string | null;
  territory: string | null;
  parentUri: string | null;
}

const entryWire = (e: Entry): Json => ({ id: e.actorUri, kind: e.kind, ...(e.name ? { name: e.name } : {}), ...(e.territory ? { territory: e.territory } : {}), ...(e.parentUri ? { parent: e.parentUri } : {}) });

/** An entry of a received document, or null when anything in it is wrong. */
function readEntry(v: unknown): Entry | null {
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const o = v as Json;
  const actorUri = typeof o.id === "string" ? safeUrl(o.id) : null;
  const kind = NODE_KINDS.find((k) => k === o.kind);
  const text = (x: unknown, max: number) => (x === undefined ? null : typeof x === "string" && x.length <= max ? x : undefined);
  const name = text(o.name, DIRECTORY_LIMITS.name);
  const territory = text(o.territory, DIRECTORY_LIMITS.territory);
  const parentUri = o.parent === undefined ? null : typeof o.parent === "string" ? safeUrl(o.parent) : undefined;
  if (!actorUri || actorUri !== o.id || !kind || name === undefined || territory === undefined || parentUri === undefined) return null;
  return { actorUri, kind, name, territory, parentUri };
}

interface ReadDirectory {
  id: string;
  nationalUri: string;
  version: number;
  entries: Entry[];
}

/** A received document's fields, checked and bounded (the proof is checked apart). */
export function readDirectory(doc: Json): ReadDirectory | DirectoryRefusal {
  const types = ([] as unknown[]).concat(doc.type);
  const nationalUri = typeof doc.attributedTo === "string" ? safeUrl(doc.attributedTo) : null;
  const id = typeof doc.id === "string" ? safeUrl(doc.id) : null;
  if (!types.includes("PartyDirectory") || !nationalUri || !id || !Number.isSafeInteger(doc.version) || (doc.version as number) <= 0 || !Array.isArray(doc.nodes)) return "malformed";
  if (doc.nodes.length > DIRECTORY_LIMITS.nodes) return "too_large";
  const entries: Entry[] = [];
  for (const raw of doc.nodes) {
    const entry = readEntry(raw);
    // Signed by national, so a bad entry means a bug or a forgery: the whole document is refused.
    if (!entry) return "malformed";
    entries.push(entry);
  }
  return { id, nationalUri, version: doc.version as number, entries };
}

function store(db: Db, read: ReadDirectory, text: string): void {
  db.transaction((tx) => {
    tx.insert(partyDirectory)
      .values({ id: 1, nationalUri: read.nationalUri, version: read.version, document: text, receivedAt: Date.now() })
      .onConflictDoUpdate({ target: partyDirectory.id, set: { nationalUri: read.nationalUri, version: read.version, document: text, receivedAt: Date.now() } })
      .run();
    tx.delete(partyNodes).run();
    const rows = new Map(read.entries.map((e) => [e.actorUri, { ...e, domain: new URL(e.actorUri).host }]));
    const all = [...rows.values()];
    for (let i = 0; i < all.length; i += 500) tx.insert(partyNodes).values(all.slice(i, i + 500)).run();
    // Our children get it next (federation/send-territory.ts directoryChanged).
    record(tx, { kind: "party.directory.changed" });
  });
}

// ---- National: composing and signing --------------------------------------------------------

/** The territory each node below says it covers (its last statistics, reports/stats.ts), by actor URI. */
export function nodeTerritories(db: Db): Map<string, string | null> {
  return new Map(db.select({ uri: nodeStats.nodeUri, territory: nodeStats.territory }).from(nodeStats).all().map((r) => [r.uri, r.territory]));
}

/** What the directory should say now, on the national node. */
export function composeDirectory(services: Services): Entry[] {
  const { db, config } = services;
  const node = nodeActor(services);
  const entries = new Map<string, Entry>();
  entries.set(node.uri, { actorUri: node.uri, kind: "national", name: config.name, territory: config.territory, parentUri: null });
  const fédérations: string[] = [];
  const territories = nodeTerritories(db);
  for (const link of linksOf(db, "child")) {
    if (link.state !== "linked" || !link.actor) continue;
    const kind = link.kind === "section" ? "section" : "federation";
    entries.set(link.actor.uri, { actorUri: link.actor.uri, kind, name: link.actor.name || link.actor.username, territory: territories.get(link.actor.uri) ?? link.territory, parentUri: node.uri });
    if (kind === "federation") fédérations.push(link.actor.uri);
  }
  const reported = fédérations.length ? db.select().from(partyReportedSections).all().filter((r) => fédérations.includes(r.federationUri)) : [];
  const names = actorNames(db, reported.map((r) => r.sectionUri));
  for (const r of reported) {
    if (!entries.has(r.sectionUri)) entries.set(r.sectionUri, { actorUri: r.sectionUri, kind: "section", name: r.name ?? names.get(r.sectionUri) ?? null, territory: r.territory, parentUri: r.federationUri });
  }
  for (const edit of db.select().from(partyNodeEdits).all()) {
    if (edit.action === "remove") entries.delete(edit.actorUri);
    else entries.set(edit.actorUri, { actorUri: edit.actorUri, kind: edit.kind, name: edit.name, territory: edit.territory, parentUri: edit.parentUri });
  }
  return [...entries.values()].sort((a, b) => (a.actorUri < b.actorUri ? -1 : 1)).slice(0, DIRECTORY_LIMITS.nodes);
}

/** The node actor's Ed25519 key pair and its id, for proofs. */
async function signingKey(services: Services): Promise<{ privateKey: webcrypto.CryptoKey; keyId: string }> {
  const published = await context(services).getActorKeyPairs(services.config.handle);
  // Proofs name the Multikey (the actor's assertionMethod), not the CryptographicKey.
  const keyId = published.find((p) => p.multikey.publicKey?.algorithm.name === "Ed25519")?.multikey.id;
  const pair = (await keyPairsOf(services.db, nodeActor(services).id)).find((p) => p.privateKey.algorithm.name === "Ed25519");
  if (!keyId || !pair) throw new Error("the node actor has no Ed25519 key");
  return { privateKey: pair.privateKey, keyId: keyId.href };
}

/** Builds and signs a directory document (also used by the benchmark and the tests' forgeries). */
export async function signedDirectory(nationalUri: string, id: string, version: number, entries: Entry[], key: { privateKey: webcrypto.CryptoKey; keyId: string }): Promise<Json> {
  const doc = { "@context": DIRECTORY_CONTEXT, id, type: "PartyDirectory", attributedTo: nationalUri, version, published: new Date(Math.min(version, 8.64e15)).toISOString(), nodes: entries.map(entryWire) };
  return signDocument(doc, key.privateKey, key.keyId);
}

/**
 * On the national node: publishes a new version when the directory changed
 * (a fédération linked, sections reported, an admin's edit). True if it did.
 */
export function publishDirectory(services: Services): Promise<boolean> {
  if (services.config.kind !== "national") return Promise.resolve(false);
  // One at a time: two reports arriving together must not make two versions from the same copy.
  const next = (publishing.get(services) ?? Promise.resolve(false)).catch(() => false).then(() => publishNow(services));
  publishing.set(services, next);
  return next;
}

const publishing = new WeakMap<Services, Promise<boolean>>();

async function publishNow(services: Services): Promise<boolean> {
  const { db, config } = services;
  const entries = composeDirectory(services);
  const held = heldDirectory(db);
  const wire = canonicalize(entries.map(entryWire));
  if (held && canonicalize((JSON.parse(held.document) as Json).nodes) === wire) return false;
  const version = Math.max(Date.now(), (held?.version ?? 0) + 1);
  const node = nodeActor(services);
  const id = new URL(DIRECTORY_PATH, config.origin).href;
  const signed = await signedDirectory(node.uri, id, version, entries, await signingKey(services));
  store(db, { id, nationalUri: node.uri, version, entries }, JSON.stringify(signed));
  services.log.info({ version, nodes: entries.length }, "party directory published");
  return true;
}

/** A fédération's report of its linked sections (national keeps the latest list per fédération). */
export function reportSections(db: Db, federationUri: string, sectionUris: string[], version: number, details: Array<{ id: string; name: string | null; territory: string | null }> = []): boolean {
  const key = `party.sections_version:${federationUri}`;
  const seen = Number(db.select().from(settings).where(eq(settings.key, key)).get()?.value ?? 0);
  if (version < seen) return false;
  db.transaction((tx) => {
    tx.insert(settings).values({ key, value: String(version) }).onConflictDoUpdate({ target: settings.key, set: { value: String(version) } }).run();
    tx.delete(partyReportedSections).where(eq(partyReportedSections.federationUri, federationUri)).run();
    const about = new Map(details.map((d) => [d.id, d]));
    const rows = [...new Set(sectionUris)].slice(0, DIRECTORY_LIMITS.nodes).map((sectionUri) => ({ federationUri, sectionUri, name: about.get(sectionUri)?.name ?? null, territory: about.get(sectionUri)?.territory ?? null }));
    for (let i = 0; i < rows.length; i += 500) tx.insert(partyReportedSections).values(rows.slice(i, i + 500)).run();
  });
  return true;
}

/** National admins add a node (or take one out) by hand; a new version follows. */
export async function editDirectory(services: Services, edit: { actorUri: string; action: "add" | "remove"; kind?: NodeKind; name?: string | null; territory?: string | null; parentUri?: string | null; reason?: string }): Promise<void> {
  const values = { action: edit.action, kind: edit.kind ?? "section", name: edit.name ?? null, territory: edit.territory ?? null, parentUri: edit.parentUri ?? null, reason: edit.reason ?? "" };
  services.db.insert(partyNodeEdits).values({ actorUri: edit.actorUri, ...values }).onConflictDoUpdate({ target: partyNodeEdits.actorUri, set: values }).run();
  await publishDirectory(services);
}

/** Forgets an admin's edit (the node is then listed as the links say); a new version follows. */
export async function dropDirectoryEdit(services: Services, actorUri: string): Promise<void> {
  services.db.delete(partyNodeEdits).where(eq(partyNodeEdits.actorUri, actorUri)).run();
  await publishDirectory(services);
}

export function directoryEdits(db: Db): Array<typeof partyNodeEdits.$inferSelect> {
  return db.select().from(partyNodeEdits).orderBy(partyNodeEdits.createdAt).all();
}

// ---- Every other node: receiving ------------------------------------------------------------

const NATIONAL_KEY = "party.national_key";

/**
 * The national node's Ed25519 public key named by the proof: the one kept
 * from an earlier check, else read from the national actor's assertion
 * methods (a key must be controlled by the national actor), then kept, so a
 * relayed directory is checked while national is unreachable.
 */
async function nationalKey(services: Services, nationalUri: string, keyId: string): Promise<webcrypto.CryptoKey | null> {
  const { db } = services;
  const kept = db.select().from(settings).where(eq(settings.key, NATIONAL_KEY)).get();
  if (kept) {
    const value = JSON.parse(kept.value) as { nationalUri: string; keyId: string; jwk: webcrypto.JsonWebKey };
    if (value.nationalUri === nationalUri && value.keyId === keyId) return (await importJwk(value.jwk, "public")) as webcrypto.CryptoKey;
  }
  const ctx = context(services);
  const documentLoader = await ctx.getDocumentLoader({ identifier: INSTANCE_ACTOR_USERNAME });
  const actor = await ctx.lookupObject(nationalUri, { documentLoader }).catch(() => null);
  if (!isActor(actor) || actor.id?.href !== nationalUri) return null;
  for await (const method of actor.getAssertionMethods({ documentLoader })) {
    if (!(method instanceof Multikey) || method.id?.href !== keyId || method.controllerId?.href !== nationalUri || !method.publicKey) continue;
    if (method.publicKey.algorithm.name !== "Ed25519") return null;
    const value = JSON.stringify({ nationalUri, keyId, jwk: await exportJwk(method.publicKey) });
    db.insert(settings).values({ key: NATIONAL_KEY, value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();
    return method.publicKey as webcrypto.CryptoKey;
  }
  return null;
}

/**
 * Whether the document comes from the national node this one trusts:
 * COOPOL_NATIONAL if set; else the one whose directory it already holds;
 * else (first copy) the one its linked parent passes on, as the root of its
 * own territory chain.
 */
async function trusts(services: Services, nationalUri: string): Promise<boolean> {
  const { config, db } = services;
  if (config.national) {
    const actor = await services.remote.resolve(nationalUri).catch(() => null);
    return !!actor && `${actor.username}@${actor.domain}` === config.national;
  }
  const held = heldDirectory(db);
  return !held || held.nationalUri === nationalUri;
}

/** Checks a directory document received as text and keeps it if it is newer. */
export async function acceptDirectory(services: Services, text: string): Promise<DirectoryOutcome> {
  const { db, config, log } = services;
  const refuse = (reason: DirectoryRefusal): DirectoryOutcome => {
    log.warn({ reason }, "party directory refused");
    return { accepted: false, reason };
  };
  if (config.kind === "national") return refuse("not_national");
  if (Buffer.byteLength(text) > DIRECTORY_LIMITS.bytes) return refuse("too_large");
  if (jsonTooDeep(text)) return refuse("malformed");
  let doc: Json;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return refuse("malformed");
    doc = parsed as Json;
  } catch {
    return refuse("malformed");
  }
  const read = readDirectory(doc);
  if (typeof read === "string") return refuse(read);
  if (!(await trusts(services, read.nationalUri))) return refuse("not_national");
  const held = heldDirectory(db);
  if (held && read.version <= held.version) return refuse("older");
  const keyId = proofKeyId(doc);
  if (!keyId) return refuse("unsigned");
  const key = await nationalKey(services, read.nationalUri, keyId);
  if (!key || !(await verifyDocument(doc, key))) return refuse("bad_proof");
  // Again after the awaits: two notices read at once must not let the older one be stored last.
  const latest = heldDirectory(db);
  if (latest && read.version <= latest.version) return refuse("older");
  store(db, read, text);
  log.info({ version: read.version, nodes: read.entries.length }, "party directory received");
  return { accepted: true, version: read.version };
}

/** Fetches the directory its parent holds (told by a notice, or every few minutes) and keeps it if newer. */
export async function pullDirectory(services: Services, parent: ActorRow): Promise<DirectoryOutcome | null> {
  const held = heldDirectory(services.db);
  const url = new URL(DIRECTORY_PATH, parent.uri);
  let fetched: Awaited<ReturnType<typeof fetchBoundedText>>;
  try {
    fetched = await fetchBoundedText(
      url,
      { bytes: DIRECTORY_LIMITS.bytes, timeoutMs: DIRECTORY_LIMITS.timeoutMs, accept: "application/activity+json", headers: held ? { "if-none-match": `"${held.version}"` } : {} },
      services.config.allowPrivateAddress,
    );
  } catch (error) {
    services.log.warn({ err: error, url: url.href }, "party directory: fetch failed");
    return { accepted: false, reason: (error as Error).message === "too large" ? "too_large" : "unreachable" };
  }
  return fetched ? acceptDirectory(services, fetched.text) : null;
}
