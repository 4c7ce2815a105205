// The instance's actors as rows and keys: one Person per member, one Group
// for the section itself and one Application for the instance; remote actors
// are rows too. What their documents say on the wire is actor-documents.ts.
import type { webcrypto } from "node:crypto";
import { exportJwk, generateCryptoKeyPair, importJwk, type Context } from "@fedify/fedify";
import { and, eq, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import { INSTANCE_ACTOR_USERNAME } from "../members/members.ts";
import type { Services } from "../services.ts";
import type { Db, OpenDb } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { actorKeys, actors } from "../storage/schema.ts";
import { MAX_ALIASES } from "../bounds.ts";

export const ACTOR_PATH = "/users/{identifier}";

export type ActorRow = typeof actors.$inferSelect;

// Every WebFinger answer, actor document and local collection looks a local
// actor up by name, some of them several times: built once (storage/prepared.ts).
const localActorQuery = preparedOnce((db) =>
  db
    .select()
    .from(actors)
    .where(and(eq(actors.username, sql.placeholder("username")), eq(actors.local, true)))
    .prepare(),
);

export function findLocalActor(db: OpenDb, username: string): ActorRow | undefined {
  return localActorQuery(db).get({ username });
}

/** This instance's own node actor (the section's, fédération's or national's Group). */
export function nodeActor(services: Services): ActorRow {
  const row = findLocalActor(services.db, services.config.handle);
  if (!row) throw new Error("the instance's node actor is missing");
  return row;
}

/** Creates the section's Group and the instance's Application actors if they are missing. */
export function ensureInstanceActors(db: OpenDb, config: Config): void {
  const host = new URL(config.origin).host;
  const wanted = [
    { username: config.handle, type: "Group" as const, name: config.name },
    { username: INSTANCE_ACTOR_USERNAME, type: "Application" as const, name: host },
  ];
  for (const actor of wanted) {
    const existing = findLocalActor(db, actor.username);
    if (existing) {
      if (existing.name !== actor.name) db.update(actors).set({ name: actor.name }).where(eq(actors.id, existing.id)).run();
      continue;
    }
    db.insert(actors)
      .values({
        id: newId(),
        uri: `${config.origin}/users/${actor.username}`,
        type: actor.type,
        username: actor.username,
        domain: host,
        local: true,
        name: actor.name,
        url: actor.type === "Group" ? `${config.origin}/` : `${config.origin}/about`,
        inboxUrl: `${config.origin}/users/${actor.username}/inbox`,
        sharedInboxUrl: `${config.origin}/inbox`,
        followersUrl: `${config.origin}/users/${actor.username}/followers`,
      })
      .run();
  }
}

type KeyAlgorithm = (typeof actorKeys.$inferSelect)["algorithm"];
const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ["RSASSA-PKCS1-v1_5", "Ed25519"];

/**
 * Imported key pairs, per database and actor id. An actor's keys never change
 * once stored, so each is read and imported once per process instead of on
 * every actor document, WebFinger answer and delivery. The promise is kept
 * from the first call on: concurrent first requests wait for the same pairs.
 */
const keyPairCache = new WeakMap<object, Map<number, Promise<webcrypto.CryptoKeyPair[]>>>();

/** Key pairs are made on first use and kept: RSA for HTTP signatures, Ed25519 for proofs. */
export function keyPairsOf(db: Db, actorId: number): Promise<webcrypto.CryptoKeyPair[]> {
  let cache = keyPairCache.get(db);
  if (!cache) keyPairCache.set(db, (cache = new Map()));
  let pairs = cache.get(actorId);
  if (!pairs) {
    pairs = loadOrCreateKeyPairs(db, actorId);
    cache.set(actorId, pairs);
    // A failure is not kept: the next request tries again.
    pairs.catch(() => cache.delete(actorId));
  }
  return pairs;
}

async function loadOrCreateKeyPairs(db: Db, actorId: number): Promise<webcrypto.CryptoKeyPair[]> {
  const stored = () => db.select().from(actorKeys).where(eq(actorKeys.actorId, actorId)).all();
  let rows = stored();
  const missing = KEY_ALGORITHMS.filter((algorithm) => !rows.some((r) => r.algorithm === algorithm));
  if (missing.length) {
    for (const algorithm of missing) {
      const pair = await generateCryptoKeyPair(algorithm);
      db.insert(actorKeys)
        .values({
          actorId,
          algorithm,
          publicJwk: JSON.stringify(await exportJwk(pair.publicKey)),
          privateJwk: JSON.stringify(await exportJwk(pair.privateKey)),
        })
        .onConflictDoNothing()
        .run();
    }
    // Another process (or an earlier call) may have stored its own pair first:
    // the stored one is the actor's key, never the one generated here.
    rows = stored();
  }
  const pairs: webcrypto.CryptoKeyPair[] = [];
  for (const algorithm of KEY_ALGORITHMS) {
    const row = rows.find((r) => r.algorithm === algorithm);
    if (!row) throw new Error(`no ${algorithm} key stored for actor ${actorId}`);
    pairs.push({
      publicKey: await importJwk(JSON.parse(row.publicJwk), "public"),
      privateKey: await importJwk(JSON.parse(row.privateJwk), "private"),
    });
  }
  return pairs;
}

/**
 * A local actor's private keys with the ids its document gives them: the RSA
 * one (HTTP signatures: `publicKey`) and the Ed25519 one (object proofs: an
 * `assertionMethod` Multikey, whose id is not the key's `publicKey` id), in that order.
 */
export async function signingKeys(ctx: Context<Services>, row: ActorRow): Promise<Array<{ privateKey: webcrypto.CryptoKey; keyId: URL }>> {
  const pairs = await keyPairsOf(ctx.data.db, row.id);
  const published = await ctx.getActorKeyPairs(row.username);
  return pairs.map((pair, i) => ({
    privateKey: pair.privateKey,
    keyId: pair.privateKey.algorithm.name === "Ed25519" ? published[i]!.multikey.id! : published[i]!.keyId,
  }));
}

/** The URIs an actor names in `alsoKnownAs`. */
export function aliasesOf(actor: Pick<ActorRow, "alsoKnownAs">): string[] {
  try {
    const list = JSON.parse(actor.alsoKnownAs ?? "[]") as unknown;
    return Array.isArray(list) ? list.filter((u): u is string => typeof u === "string").slice(0, MAX_ALIASES) : [];
  } catch {
    return [];
  }
}

/** The actor document's profile field that gives the attestation's address. */
export const MEMBERSHIP_FIELD = "coopol:membership";

/** Where a local account's membership attestation is served (src/federation/membership.ts). */
export function membershipUrl(actorUri: string): string {
  return `${actorUri}/membership`;
}
