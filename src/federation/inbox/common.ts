// Helpers shared by the inbox handlers: who sent an activity, and which local
// actor or post it points at.
import type { InboxContext } from "@fedify/fedify";
import type { Activity } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { findLocalActor, type ActorRow } from "../actors.ts";
import { actorByUri, upsertRemoteActor } from "../remote.ts";

/** The sending actor, stored or refreshed. Fedify has already checked that it signed the request. */
export async function senderOf(ctx: InboxContext<Services>, activity: Activity): Promise<ActorRow | null> {
  if (!activity.actorId) return null;
  const known = actorByUri(ctx.data.db, activity.actorId.href);
  // An account its server deleted stays deleted here: later activities signed with its old keys are ignored.
  if (known?.deletedAt) return null;
  if (known && !known.local && Date.now() - known.updatedAt < 86_400_000) return known;
  const actor = await activity.getActor();
  return actor ? upsertRemoteActor(ctx.data.db, actor) : (known ?? null);
}

/** The local actor a URI names, if it is one of ours. */
export function localActorOf(ctx: InboxContext<Services>, uri: URL | null): ActorRow | undefined {
  if (!uri) return undefined;
  const parsed = ctx.parseUri(uri);
  if (parsed?.type !== "actor") return undefined;
  return findLocalActor(ctx.data.db, parsed.identifier);
}

/** Same origin: an actor may only create, change or delete objects of its own server. */
export function sameOrigin(a: URL | null, b: URL | null): boolean {
  return !!a && !!b && a.origin === b.origin;
}
