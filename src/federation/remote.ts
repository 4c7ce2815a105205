// Remote actors: turning what another server publishes into rows of `actors`.
import { isActor, type Actor } from "@fedify/vocab";
import { and, eq, or, sql } from "drizzle-orm";
import type { Context } from "@fedify/fedify";
import { INSTANCE_ACTOR_USERNAME } from "../members/members.ts";
import { sanitizeRemoteHtml } from "../posts/content.ts";
import { safeUrl } from "../safe-url.ts";
import { UserError } from "../errors.ts";
import { MAX_ALIASES, MAX_CONTENT_LENGTH, MAX_NAME_LENGTH } from "../bounds.ts";
import type { RemoteActors, Services } from "../services.ts";
import type { Db, OpenDb } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { actors, type ActorType, ACTOR_TYPES } from "../storage/schema.ts";
import type { ActorRow } from "./actors.ts";
import { context } from "./context.ts";
import { readRemoteGroup } from "./group-actor.ts";

function actorType(actor: Actor): ActorType {
  const name = actor.constructor.name as ActorType;
  return ACTOR_TYPES.includes(name) ? name : "Person";
}

const actorByUriQuery = preparedOnce((db) => db.select().from(actors).where(eq(actors.uri, sql.placeholder("uri"))).prepare());

/** The stored actor (local or remote) with this URI. Every incoming activity looks its sender up. */
export function actorByUri(db: OpenDb, uri: string): ActorRow | undefined {
  return actorByUriQuery(db).get({ uri });
}

/** Inserts or refreshes a remote actor. Local actors are never overwritten from outside. */
export async function upsertRemoteActor(db: Db, actor: Actor): Promise<ActorRow | null> {
  if (!actor.id) return null;
  const uri = actor.id.href;
  const existing = db.select().from(actors).where(eq(actors.uri, uri)).get();
  if (existing?.local) return existing;
  const icon = await actor.getIcon().catch(() => null);
  const image = await actor.getImage().catch(() => null);
  const values = {
    type: actorType(actor),
    username: (actor.preferredUsername?.toString() ?? actor.id.pathname.split("/").pop() ?? "unknown").toLowerCase().slice(0, MAX_NAME_LENGTH),
    domain: actor.id.host,
    name: actor.name?.toString().slice(0, MAX_NAME_LENGTH) ?? "",
    summary: sanitizeRemoteHtml(actor.summary?.toString().slice(0, MAX_CONTENT_LENGTH) ?? ""),
    // Only http(s) addresses are kept: a javascript: profile link or avatar would run on our pages.
    url: safeUrl(actor.url),
    inboxUrl: safeUrl(actor.inboxId),
    sharedInboxUrl: safeUrl(actor.endpoints?.sharedInbox),
    followersUrl: safeUrl(actor.followersId),
    avatarUrl: safeUrl(icon?.url),
    headerUrl: safeUrl(image?.url),
    locked: actor.manuallyApprovesFollowers ?? false,
    // Its other accounts, which a Move to it is checked against (members/transfer.ts); http(s) only, 20 at most.
    alsoKnownAs: JSON.stringify(actor.aliasIds.slice(0, MAX_ALIASES).map((u) => safeUrl(u)).filter((u) => u)),
    updatedAt: Date.now(),
  };
  const row = existing
    ? db.update(actors).set(values).where(eq(actors.id, existing.id)).returning().get()
    : db
        .insert(actors)
        .values({ id: newId(), uri, local: false, ...values })
        // Two activities from a new actor may arrive together: the second one updates.
        .onConflictDoUpdate({ target: actors.uri, set: values })
        .returning()
        .get();
  await readRemoteGroup(db, actor, row);
  return row;
}

/**
 * The actor behind a URI: from the database if known, else fetched (signed by
 * the instance actor). `refresh` fetches a known remote actor again (group discovery).
 */
export async function resolveActor(ctx: Context<Services>, uri: string | URL, options: { refresh?: boolean } = {}): Promise<ActorRow | null> {
  const known = actorByUri(ctx.data.db, String(uri));
  if (known && (known.local || !options.refresh)) return known;
  const documentLoader = await ctx.getDocumentLoader({ identifier: INSTANCE_ACTOR_USERNAME });
  const object = await ctx.lookupObject(String(uri), { documentLoader }).catch(() => null);
  if (!isActor(object)) return null;
  return upsertRemoteActor(ctx.data.db, object);
}

/** Finds a remote actor by handle, looking it up with WebFinger if it is not known yet. */
export async function resolveHandle(ctx: Context<Services>, username: string, domain: string, httpTimeoutMs = 5000): Promise<ActorRow | null> {
  const known = ctx.data.db
    .select()
    .from(actors)
    .where(and(eq(actors.username, username), eq(actors.domain, domain)))
    .get();
  if (known) return known;
  const documentLoader = await ctx.getDocumentLoader({ identifier: INSTANCE_ACTOR_USERNAME });
  const object = await ctx.lookupObject(`@${username}@${domain}`, { documentLoader }).catch(() => null);
  if (isActor(object)) return upsertRemoteActor(ctx.data.db, object);
  // WebFinger of acct: handles is HTTPS only. On a private test network
  // (COOPOL_ALLOW_PRIVATE_ADDRESS) instances speak plain HTTP: ask there too.
  if (!ctx.data.config.allowPrivateAddress) return null;
  const self = await webfingerOverHttp(username, domain, httpTimeoutMs);
  return self ? resolveActor(ctx, self) : null;
}

async function webfingerOverHttp(username: string, domain: string, timeoutMs: number): Promise<string | null> {
  try {
    const url = `http://${domain}/.well-known/webfinger?resource=${encodeURIComponent(`acct:${username}@${domain}`)}`;
    const response = await fetch(url, { headers: { accept: "application/jrd+json" }, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return null;
    const jrd = (await response.json()) as { links?: Array<{ rel?: string; type?: string; href?: string }> };
    const link = jrd.links?.find((l) => l.rel === "self" && /activity\+json|ld\+json/.test(l.type ?? ""));
    return link?.href ?? null;
  } catch {
    return null;
  }
}

/** What domain code uses to reach other servers' actors (`services.remote`), for `services` once built. */
export function remoteActors(services: () => Services): RemoteActors {
  return {
    lookup: (text, options) => lookupActor(services(), text, options),
    resolve: (uri, options) => resolveActor(context(services()), uri, options),
  };
}

/**
 * Why `lookupActor` found nothing for what a person typed, so that the page
 * can say it plainly: the server did not answer at all ("unreachable": down,
 * wrong host, or too slow), or it answered but knows no such account
 * ("not_found", also for what is not a handle or an address). Asked only
 * after a failed lookup: one more request, bounded like the lookup.
 */
export async function whyNotFound(services: Services, text: string): Promise<{ reason: "unreachable" | "not_found"; host?: string }> {
  const target = text.trim();
  const handle = /^@?([a-z0-9_.-]+)@([a-z0-9.-]+(?::\d+)?)$/i.exec(target);
  let urls: string[];
  let host: string;
  if (handle) {
    host = handle[2]!.toLowerCase();
    const path = `/.well-known/webfinger?resource=${encodeURIComponent(`acct:${handle[1]!.toLowerCase()}@${host}`)}`;
    urls = [`https://${host}${path}`, ...(services.config.allowPrivateAddress ? [`http://${host}${path}`] : [])];
  } else if (/^https?:\/\//.test(target) && URL.canParse(target)) {
    host = new URL(target).host;
    urls = [target];
  } else return { reason: "not_found" };
  if (host === new URL(services.config.origin).host) return { reason: "not_found" };
  for (const url of urls) {
    try {
      const response = await fetch(url, { headers: { accept: "application/activity+json, application/jrd+json" }, redirect: "manual", signal: AbortSignal.timeout(5000) });
      await response.body?.cancel();
      return { reason: "not_found", host };
    } catch {
      // No answer there: the next address, or unreachable.
    }
  }
  return { reason: "unreachable", host };
}

/** `lookupActor`, or a UserError that says why nothing was found: `notFound`, or `remote_unreachable` with the server's name. */
export async function lookupActorOrExplain(services: Services, text: string, notFound = "actor_not_found"): Promise<ActorRow> {
  const actor = await lookupActor(services, text);
  if (actor) return actor;
  const why = await whyNotFound(services, text);
  if (why.reason === "unreachable") throw new UserError("remote_unreachable", 502, { host: why.host ?? "" });
  throw new UserError(notFound, 404);
}

/**
 * An actor from what a person typed: `@name@host`, `name@host`, a profile
 * address, or a local `name`. Remote ones are fetched if not known yet.
 */
export async function lookupActor(services: Services, text: string, options: { resolve?: boolean; refresh?: boolean; httpTimeoutMs?: number } = {}): Promise<ActorRow | null> {
  const { db, config } = services;
  const target = text.trim();
  const resolve = options.resolve ?? true;
  const host = new URL(config.origin).host;
  if (/^https?:\/\//.test(target)) {
    const known = db.select().from(actors).where(or(eq(actors.uri, target), eq(actors.url, target))).get();
    if (known && options.refresh && !known.local && resolve) return (await resolveActor(context(services), known.uri, { refresh: true })) ?? known;
    return known ?? (resolve ? resolveActor(context(services), target) : null);
  }
  const handle = /^@?([a-z0-9_.-]+)(?:@([a-z0-9.-]+(?::\d+)?))?$/i.exec(target);
  if (!handle) return null;
  const username = handle[1]!.toLowerCase();
  const domain = handle[2]?.toLowerCase() ?? host;
  if (domain === host) return db.select().from(actors).where(and(eq(actors.username, username), eq(actors.local, true))).get() ?? null;
  const known = db.select().from(actors).where(and(eq(actors.username, username), eq(actors.domain, domain))).get();
  return known ?? (resolve ? resolveHandle(context(services), username, domain, options.httpTimeoutMs) : null);
}
