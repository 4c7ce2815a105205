// Create(Event) and Update(Event): a meeting published on another server.
// The object is read as JSON-LD (Mobilizon's properties have no Fedify
// class); we ask the organiser's server for the current version when we can.
// An event for a list of groups, or for the whole fédération, says so in a
// Coopol payload (docs/federation.md); it is kept only when the server that
// sent it may speak for that audience: the groups' own server, or the
// fédération (directly from one of its sections, or relayed by it).
import type { InboxContext } from "@fedify/fedify";
import type { Create, Update } from "@fedify/vocab";
import { INSTANCE_ACTOR_USERNAME } from "../../members/members.ts";
import type { Services } from "../../services.ts";
import { rememberRemoteGroup } from "../../groups/groups.ts";
import { linkedChildren } from "../../territory/links.ts";
import type { ActorRow } from "../actors.ts";
import { eventPayload, isPublicObject, storeRemoteEvent, type ReceivedScope } from "../events.ts";
import { actorByUri, resolveActor } from "../remote.ts";
import { context } from "../send.ts";
import { nodeActor, relayEvent } from "../send-territory.ts";
import { sameOrigin, senderOf } from "./common.ts";

type Json = Record<string, unknown>;

const attributedUri = (object: Json): string | null => {
  const attributed = Array.isArray(object.attributedTo) ? object.attributedTo[0] : object.attributedTo;
  const uri = typeof attributed === "string" ? attributed : (attributed as Json | undefined)?.id;
  return typeof uri === "string" ? uri : null;
};

/**
 * The organiser's own server has the whole, current object (Fedify keeps only
 * the properties it knows in what it relays). Our instance actor signs the
 * request: a server whose members an event is for may have it.
 */
async function currentVersion(ctx: InboxContext<Services>, id: string, embedded: Json | null): Promise<Json | null> {
  try {
    const loader = await ctx.getDocumentLoader({ identifier: INSTANCE_ACTOR_USERNAME });
    const { document } = await loader(id);
    if (document && typeof document === "object" && (document as Json).id === id) return document as Json;
  } catch {
    // Not fetchable (or not for us): keep the embedded copy.
  }
  return embedded;
}

export async function onEventActivity(ctx: InboxContext<Services>, activity: Create | Update): Promise<void> {
  const raw = (await activity.toJsonLd()) as Json;
  let object = raw.object && typeof raw.object === "object" ? (raw.object as Json) : null;
  const id = typeof object?.id === "string" ? object.id : typeof raw.object === "string" ? raw.object : null;
  if (!id || !sameOrigin(new URL(id), activity.actorId)) return;
  object = await currentVersion(ctx, id, object);
  if (!object || object.type !== "Event") return;
  const organiserUri = attributedUri(object);
  // Mobilizon attributes group events to the group and sends them from it; either way, same server.
  if (!organiserUri || !sameOrigin(new URL(organiserUri), activity.actorId)) return;
  const sender = await senderOf(ctx, activity);
  if (!sender) return;
  if (isPublicObject(object)) {
    storeRemoteEvent(ctx.data, object, sender);
    return;
  }
  const payload = eventPayload(object);
  if (payload?.audience === "groups") {
    const scope = await groupsScope(ctx.data, payload.groups, sender);
    if (scope) storeRemoteEvent(ctx.data, object, sender, scope);
    return;
  }
  if (payload?.audience === "federation") {
    const { config, db } = ctx.data;
    // Only a fédération takes a fédération-wide event directly, from one of its own sections.
    if (config.kind !== "federation" || payload.federation !== nodeActor(ctx.data).uri) return;
    const children = linkedChildren(db);
    const section = children.find((c) => new URL(c.uri).origin === new URL(sender.uri).origin);
    if (!section) return;
    const stored = storeRemoteEvent(ctx.data, object, sender, { audience: "federation" });
    // Passed on, as received, to every other section of the fédération.
    if (stored) await relayEvent(ctx.data, { ...raw, object }, children.filter((c) => c.id !== section.id));
  }
}

/**
 * A group event: every group must live on the sender's server (which knows
 * their members and vouches for them); at least one must be known here.
 */
async function groupsScope(services: Services, groupUris: string[], sender: ActorRow): Promise<ReceivedScope | null> {
  const groupIds: number[] = [];
  for (const uri of groupUris) {
    if (!sameOrigin(new URL(uri), new URL(sender.uri))) return null;
    const actor = actorByUri(services.db, uri) ?? (await resolveActor(context(services), uri).catch(() => null));
    const group = actor ? rememberRemoteGroup(services.db, actor) : undefined;
    if (group) groupIds.push(group.id);
  }
  return groupIds.length ? { audience: "groups", groupIds } : null;
}

/**
 * Our fédération relays a sibling section's fédération-wide event (an
 * Announce of its Create or Update, checked by the caller to come from our
 * linked parent). The event must name that fédération and be the organiser's.
 */
export async function onRelayedEvent(ctx: InboxContext<Services>, activity: Json, federation: ActorRow): Promise<void> {
  const { config, log } = ctx.data;
  const embedded = activity.object && typeof activity.object === "object" ? (activity.object as Json) : null;
  const object = typeof embedded?.id === "string" ? await currentVersion(ctx, embedded.id, embedded) : null;
  const actorUri = typeof activity.actor === "string" ? activity.actor : typeof (activity.actor as Json | undefined)?.id === "string" ? ((activity.actor as Json).id as string) : null;
  if (!object || !actorUri || config.kind !== "section") return;
  const payload = eventPayload(object);
  const organiserUri = attributedUri(object);
  const id = typeof object.id === "string" ? object.id : null;
  if (!id || !organiserUri || payload?.audience !== "federation" || payload.federation !== federation.uri) {
    log.warn({ from: federation.uri, id }, "event relay dropped: not a fédération-wide event of this fédération");
    return;
  }
  if (!sameOrigin(new URL(id), new URL(organiserUri)) || !sameOrigin(new URL(organiserUri), new URL(actorUri))) return;
  const organiser = actorByUri(ctx.data.db, organiserUri) ?? (await resolveActor(context(ctx.data), organiserUri).catch(() => null));
  if (!organiser || organiser.local) return;
  storeRemoteEvent(ctx.data, object, organiser, { audience: "federation" });
}
