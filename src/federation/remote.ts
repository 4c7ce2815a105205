// Remote actors: turning what another server publishes into rows of `actors`.
import { isActor, type Actor } from "@fedify/vocab";
import { and, eq } from "drizzle-orm";
import type { Context } from "@fedify/fedify";
import { INSTANCE_ACTOR_USERNAME } from "../members/members.ts";
import { sanitizeRemoteHtml } from "../posts/content.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { actors, type ActorType, ACTOR_TYPES } from "../storage/schema.ts";
import type { ActorRow } from "./actors.ts";

function actorType(actor: Actor): ActorType {
  const name = actor.constructor.name as ActorType;
  return ACTOR_TYPES.includes(name) ? name : "Person";
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
    username: (actor.preferredUsername?.toString() ?? actor.id.pathname.split("/").pop() ?? "unknown").toLowerCase(),
    domain: actor.id.host,
    name: actor.name?.toString() ?? "",
    summary: sanitizeRemoteHtml(actor.summary?.toString() ?? ""),
    url: actor.url instanceof URL ? actor.url.href : (actor.url?.href?.href ?? null),
    inboxUrl: actor.inboxId?.href ?? null,
    sharedInboxUrl: actor.endpoints?.sharedInbox?.href ?? null,
    followersUrl: actor.followersId?.href ?? null,
    avatarUrl: icon?.url instanceof URL ? icon.url.href : (icon?.url?.href?.href ?? null),
    headerUrl: image?.url instanceof URL ? image.url.href : (image?.url?.href?.href ?? null),
    locked: actor.manuallyApprovesFollowers ?? false,
    updatedAt: Date.now(),
  };
  if (existing) {
    return db.update(actors).set(values).where(eq(actors.id, existing.id)).returning().get();
  }
  return db
    .insert(actors)
    .values({ id: newId(), uri, local: false, ...values })
    // Two activities from a new actor may arrive together: the second one updates.
    .onConflictDoUpdate({ target: actors.uri, set: values })
    .returning()
    .get();
}

/** The actor behind a URI: from the database if known, else fetched (signed by the instance actor). */
export async function resolveActor(ctx: Context<Services>, uri: string | URL): Promise<ActorRow | null> {
  const known = ctx.data.db.select().from(actors).where(eq(actors.uri, String(uri))).get();
  if (known) return known;
  const documentLoader = await ctx.getDocumentLoader({ identifier: INSTANCE_ACTOR_USERNAME });
  const object = await ctx.lookupObject(String(uri), { documentLoader }).catch(() => null);
  if (!isActor(object)) return null;
  return upsertRemoteActor(ctx.data.db, object);
}

/** Finds a remote actor by handle, looking it up with WebFinger if it is not known yet. */
export async function resolveHandle(ctx: Context<Services>, username: string, domain: string): Promise<ActorRow | null> {
  const known = ctx.data.db
    .select()
    .from(actors)
    .where(and(eq(actors.username, username), eq(actors.domain, domain)))
    .get();
  if (known) return known;
  const documentLoader = await ctx.getDocumentLoader({ identifier: INSTANCE_ACTOR_USERNAME });
  const object = await ctx.lookupObject(`@${username}@${domain}`, { documentLoader }).catch(() => null);
  if (!isActor(object)) return null;
  return upsertRemoteActor(ctx.data.db, object);
}
