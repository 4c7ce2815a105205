// Membership attestations: a section says, signed with its node actor's
// Ed25519 key (FEP-8b32 Object Integrity Proof, eddsa-jcs-2022), that one of
// its members is a card-holder or a sympathisant (or no longer either), since
// when, valid for a day. Any party node checks it without taking the member's
// word; thematic groups admit remote members by it (src/groups/groups.ts).
//
// Party membership is special-category data (GDPR: political opinion): an
// attestation is served only to a party node or to the member themself, never
// publicly; the actor document carries its address, not the status.
//
// Issuer trust: the party directory (src/party/directory.ts, isPartyDomain).
//
// Replay: every change of a member's status bumps a per-member sequence
// number (`users.membership_seq`); a verifier keeps the highest one it saw per
// subject (`membership_checks`) and refuses anything older. The wire format
// is in docs/federation.md.
import type { webcrypto } from "node:crypto";
import { signObject, verifyObject, signRequest, type DocumentLoader } from "@fedify/fedify";
import { Object as APObject, PropertyValue, isActor } from "@fedify/vocab";
import { and, eq, sql } from "drizzle-orm";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { ATTESTED_STATUSES, membershipChecks, users, type AttestedStatus } from "../storage/schema.ts";
import { isPartyDomain } from "./directory.ts";
import { statusOf, type User } from "../members/members.ts";
import { record } from "../outbox/outbox.ts";
import { readPayload, toWire, WIRE_CONTEXT } from "../federation/territory.ts";
import { context } from "../federation/context.ts";
import { MEMBERSHIP_FIELD, membershipUrl, nodeActor, signingKeys, type ActorRow } from "../federation/actors.ts";
import { INSTANCE_ACTOR_USERNAME } from "../members/members.ts";
import { fetchBoundedText } from "../outbound.ts";
import { jsonTooDeep } from "../bounds.ts";

type Json = Record<string, unknown>;

export const ATTESTATION_TYPE = "MembershipAttestation";
/** The attachment of an `Update` that carries an attestation (as JSON text). */
export const ATTESTATION_FIELD = "coopol:attestation";
/** An attestation lasts a day; a verifier fetches a new one after that. */
export const ATTESTATION_TTL_MS = 24 * 3600_000;
/** Longer-lived attestations are refused: a withdrawal must not wait long. */
const MAX_VALIDITY_MS = 7 * 24 * 3600_000;
/** Clocks of two servers may differ by this much. */
const CLOCK_SKEW_MS = 5 * 60_000;
export const ATTESTATION_LIMITS = { bytes: 64 * 1024, timeoutMs: 5_000 };

/** A local actor's key of the given algorithm, with its id. */
async function keyOf(services: Services, actor: ActorRow, algorithm: "RSASSA-PKCS1-v1_5" | "Ed25519"): Promise<{ privateKey: webcrypto.CryptoKey; keyId: URL }> {
  const key = (await signingKeys(context(services), actor)).find((k) => k.privateKey.algorithm.name === algorithm);
  if (!key) throw new Error(`no ${algorithm} key for ${actor.username}`);
  return key;
}

/** The signed attestation of a local account, as JSON-LD, exactly as it is served and verified. */
export async function issueAttestation(services: Services, user: User, now = Date.now()): Promise<Json> {
  const issuer = nodeActor(services);
  const subject = `${services.config.origin}/users/${user.username}`;
  const key = await keyOf(services, issuer, "Ed25519");
  return signAttestation(
    {
      id: membershipUrl(subject),
      subject,
      issuer: issuer.uri,
      status: statusOf(user),
      since: user.statusSince ?? user.createdAt,
      sequence: user.membershipSeq,
      validFrom: now,
      validUntil: now + ATTESTATION_TTL_MS,
    },
    key.privateKey,
    key.keyId,
    context(services).contextLoader,
  );
}

export interface Attestation {
  id: string;
  subject: string;
  issuer: string;
  status: AttestedStatus;
  since: number;
  sequence: number;
  validFrom: number;
  validUntil: number;
}

const ATTESTATION_CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/data-integrity/v1", WIRE_CONTEXT[1] as Record<string, string>];

/** Builds and signs the wire document (also used by the benchmark and tests). */
export async function signAttestation(a: Attestation, privateKey: webcrypto.CryptoKey, keyId: URL, contextLoader: DocumentLoader): Promise<Json> {
  const iso = (ms: number) => new Date(ms).toISOString();
  const wire = toWire({
    id: a.id,
    type: ["Object", ATTESTATION_TYPE],
    attributedTo: a.issuer,
    published: iso(a.validFrom),
    subject: a.subject,
    status: a.status,
    since: iso(a.since),
    sequence: a.sequence,
    validFrom: iso(a.validFrom),
    validUntil: iso(a.validUntil),
  });
  const object = await APObject.fromJsonLd({ "@context": ATTESTATION_CONTEXT, ...wire }, { contextLoader });
  // One fixed context for the signed form and the served one: the proof covers the exact JSON (JCS).
  const signed = await signObject(object, privateKey, keyId, { contextLoader, context: ATTESTATION_CONTEXT });
  return (await signed.toJsonLd({ format: "compact", contextLoader, context: ATTESTATION_CONTEXT })) as Json;
}

export interface VerifyOptions {
  documentLoader: DocumentLoader;
  contextLoader: DocumentLoader;
  isPartyNode: (domain: string) => boolean;
  now?: number;
}

const time = (v: unknown): number | null => {
  const t = typeof v === "string" ? Date.parse(v) : NaN;
  return Number.isFinite(t) ? t : null;
};

/**
 * Checks a received attestation: the proof (a key of the issuer's actor), the
 * issuer a party node on the subject's own server, the dates. Returns it, or
 * why it is refused (for the log). The sequence number is checked by the caller.
 */
export async function verifyAttestation(json: unknown, options: VerifyOptions): Promise<Attestation | string> {
  if (!json || typeof json !== "object" || Array.isArray(json)) return "not an object";
  // Before anything is fetched (the proof's key): the signer must be a party node, and every
  // key named one of its own, so a stranger's document makes us fetch nothing.
  const claimed = claimedIssuer(json as Json);
  if (typeof claimed === "string") return claimed;
  if (!options.isPartyNode(claimed.host)) return "issuer is not a party node";
  let object: APObject | null;
  try {
    object = await verifyObject(APObject, json, { documentLoader: options.documentLoader, contextLoader: options.contextLoader });
  } catch {
    return "unreadable";
  }
  if (!object || !object.id) return "bad proof";
  // verifyObject accepts a document without proofs if it names no author: ours always names its issuer.
  const issuers = object.attributionIds.map((u) => u.href);
  if (issuers.length !== 1) return "no single issuer";
  const issuer = issuers[0]!;
  const payload = await readPayload(object);
  if (!payload) return "no payload";
  const types = Array.isArray(payload.type) ? payload.type : [payload.type];
  if (!types.includes(ATTESTATION_TYPE)) return "not an attestation";
  if (payload.attributedTo !== issuer) return "issuer differs";
  const subject = typeof payload.subject === "string" ? payload.subject : "";
  const status = ATTESTED_STATUSES.find((s) => s === payload.status);
  const sequence = payload.sequence;
  const since = time(payload.since);
  const validFrom = time(payload.validFrom);
  const validUntil = time(payload.validUntil);
  if (!status || typeof sequence !== "number" || !Number.isSafeInteger(sequence) || sequence < 0) return "malformed";
  if (since === null || validFrom === null || validUntil === null) return "malformed dates";
  let subjectUrl: URL, issuerUrl: URL;
  try {
    subjectUrl = new URL(subject);
    issuerUrl = new URL(issuer);
  } catch {
    return "malformed";
  }
  // A section attests its own members only.
  if (subjectUrl.origin !== issuerUrl.origin || object.id.origin !== issuerUrl.origin) return "issuer is not the subject's server";
  if (!options.isPartyNode(issuerUrl.host)) return "issuer is not a party node";
  const now = options.now ?? Date.now();
  if (validFrom > now + CLOCK_SKEW_MS || validUntil - validFrom > MAX_VALIDITY_MS) return "validity out of bounds";
  if (validUntil <= now) return "expired";
  return { id: object.id.href, subject, issuer, status, since, sequence, validFrom, validUntil };
}

/** The issuer a document names, if it is signed only with keys of the issuer's server; else why not. */
function claimedIssuer(json: Json): URL | string {
  const proofs = [json.proof].flat();
  if (typeof json.attributedTo !== "string" || proofs.length === 0 || proofs.length > 4) return "unsigned";
  try {
    const issuer = new URL(json.attributedTo);
    for (const proof of proofs) {
      const method = proof && typeof proof === "object" ? (proof as Json).verificationMethod : null;
      if (typeof method !== "string" || new URL(method).origin !== issuer.origin) return "key is not the issuer's";
    }
    return issuer;
  } catch {
    return "malformed";
  }
}

function verifyOptions(services: Services): VerifyOptions {
  const ctx = context(services);
  return { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader, isPartyNode: (domain) => isPartyDomain(services.db, domain) };
}

type Check = typeof membershipChecks.$inferSelect;

function checkOf(db: Db, actorId: number): Check | undefined {
  return db.select().from(membershipChecks).where(eq(membershipChecks.actorId, actorId)).get();
}

/**
 * Keeps a verified attestation of a known actor, unless an equal or newer one
 * was seen before. Returns false for a replay (older sequence number).
 */
function remember(db: Db, actorId: number, a: Attestation): boolean {
  const known = checkOf(db, actorId);
  if (known && a.sequence < known.seq) return false;
  const values = { issuer: a.issuer, status: a.status, seq: a.sequence, since: a.since, expiresAt: a.validUntil, checkedAt: Date.now() };
  db.insert(membershipChecks)
    .values({ actorId, ...values })
    .onConflictDoUpdate({ target: membershipChecks.actorId, set: values })
    .run();
  return true;
}

/**
 * The status a remote actor's home section attests: the kept one while it is
 * valid (unless `fresh`), else fetched and verified now. "none" when the
 * section withdrew it (or says so); null when no valid attestation could be
 * had (unreachable, refused, forged, replayed, not a party node).
 */
export async function attestedStatus(services: Services, actor: ActorRow, options: { fresh?: boolean } = {}): Promise<AttestedStatus | null> {
  const { db, log } = services;
  const known = checkOf(db, actor.id);
  if (!options.fresh && known && known.expiresAt > Date.now()) return known.status;
  let fetched: { gone: true } | { json: unknown };
  try {
    fetched = await fetchAttestation(services, actor);
  } catch (err) {
    log.info({ err: String(err), actor: actor.uri }, "membership attestation not fetched");
    return null;
  }
  if ("gone" in fetched) {
    // The member left their section: what we kept is void.
    if (known) db.update(membershipChecks).set({ status: "none", checkedAt: Date.now() }).where(eq(membershipChecks.actorId, actor.id)).run();
    return "none";
  }
  const verified = await verifyAttestation(fetched.json, verifyOptions(services));
  if (typeof verified === "string" || verified.subject !== actor.uri) {
    log.info({ actor: actor.uri, reason: typeof verified === "string" ? verified : "another subject" }, "membership attestation refused");
    return null;
  }
  if (!remember(db, actor.id, verified)) {
    log.info({ actor: actor.uri, sequence: verified.sequence }, "membership attestation refused: older than one already seen");
    return null;
  }
  return verified.status;
}

/**
 * The attestation's address from the actor's document (same server only),
 * then the attestation itself, fetched signed as our node actor (its server
 * answers party nodes only), within a time and size limit.
 */
async function fetchAttestation(services: Services, actor: ActorRow): Promise<{ gone: true } | { json: unknown }> {
  const ctx = context(services);
  const loader = await ctx.getDocumentLoader({ identifier: INSTANCE_ACTOR_USERNAME });
  const document = await ctx.lookupObject(actor.uri, { documentLoader: loader });
  if (!isActor(document) || document.id?.href !== actor.uri) throw new Error("actor not found");
  let address: URL | null = null;
  for await (const item of document.getAttachments()) {
    if (item instanceof PropertyValue && item.name?.toString() === MEMBERSHIP_FIELD) {
      try {
        address = new URL(String(item.value));
      } catch {
        address = null;
      }
    }
  }
  if (!address || address.origin !== new URL(actor.uri).origin) throw new Error("no membership address");
  const rsa = await keyOf(services, nodeActor(services), "RSASSA-PKCS1-v1_5");
  const signed = await signRequest(new Request(address, { headers: { accept: "application/activity+json" } }), rsa.privateKey, rsa.keyId);
  const headers: Record<string, string> = {};
  signed.headers.forEach((v, k) => (headers[k] = v));
  let text: string;
  try {
    text = (await fetchBoundedText(address, { ...ATTESTATION_LIMITS, accept: "application/activity+json", headers }, services.config.allowPrivateAddress))!.text;
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 404 || status === 410) return { gone: true };
    throw err;
  }
  if (jsonTooDeep(text)) throw new Error("nested too deeply");
  return { json: JSON.parse(text) as unknown };
}

/**
 * An attestation pushed to us (the home section's `Update` after a change):
 * verified like a fetched one, kept if newer than what we saw, and returned
 * with its subject so groups can re-check that member. Null if refused or
 * about an actor we do not know.
 */
export async function receiveAttestation(services: Services, json: unknown, subjectActor: (uri: string) => ActorRow | undefined): Promise<{ actor: ActorRow; status: AttestedStatus } | null> {
  const verified = await verifyAttestation(json, verifyOptions(services));
  if (typeof verified === "string") {
    services.log.info({ reason: verified }, "pushed membership attestation refused");
    return null;
  }
  const actor = subjectActor(verified.subject);
  if (!actor || actor.local) return null;
  if (!remember(services.db, actor.id, verified)) {
    services.log.info({ actor: actor.uri, sequence: verified.sequence }, "pushed membership attestation refused: older than one already seen");
    return null;
  }
  return { actor, status: verified.status };
}

/** How long a member keeps their place while their section cannot be reached once their attestation expired. */
export const UNREACHABLE_GRACE_MS = 24 * 3600_000;

/** The kept status while within the grace period after its expiry, else null. */
export function statusWithinGrace(db: Db, actorId: number, now = Date.now()): AttestedStatus | null {
  const known = checkOf(db, actorId);
  return known && known.expiresAt + UNREACHABLE_GRACE_MS > now ? known.status : null;
}

/** Kept attestations that expired, for the periodic re-check. */
export function expiredChecks(db: Db, actorIds: number[], now = Date.now()): Set<number> {
  if (actorIds.length === 0) return new Set();
  const fresh = db
    .select({ actorId: membershipChecks.actorId })
    .from(membershipChecks)
    .where(and(sql`${membershipChecks.expiresAt} > ${now}`, sql`${membershipChecks.actorId} in ${actorIds}`))
    .all();
  const valid = new Set(fresh.map((r) => r.actorId));
  return new Set(actorIds.filter((id) => !valid.has(id)));
}
