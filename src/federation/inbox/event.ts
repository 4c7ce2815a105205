// Create(Event) and Update(Event): a meeting published on another server.
// The object is read as JSON-LD (Mobilizon's properties have no Fedify
// class); we ask the organiser's server for the current version when we can.
import type { InboxContext } from "@fedify/fedify";
import type { Create, Update } from "@fedify/vocab";
import { INSTANCE_ACTOR_USERNAME } from "../../members/members.ts";
import type { Services } from "../../services.ts";
import { storeRemoteEvent } from "../events.ts";
import { sameOrigin, senderOf } from "./common.ts";

type Json = Record<string, unknown>;

export async function onEventActivity(ctx: InboxContext<Services>, activity: Create | Update): Promise<void> {
  const raw = (await activity.toJsonLd()) as Json;
  let object = raw.object && typeof raw.object === "object" ? (raw.object as Json) : null;
  const id = typeof object?.id === "string" ? object.id : typeof raw.object === "string" ? raw.object : null;
  if (!id || !sameOrigin(new URL(id), activity.actorId)) return;
  // The organiser's own server has the whole, current object.
  try {
    const loader = await ctx.getDocumentLoader({ identifier: INSTANCE_ACTOR_USERNAME });
    const { document } = await loader(id);
    if (document && typeof document === "object" && (document as Json).id === id) object = document as Json;
  } catch {
    // Not fetchable (or not public): keep the embedded copy.
  }
  if (!object || object.type !== "Event") return;
  const attributed = Array.isArray(object.attributedTo) ? object.attributedTo[0] : object.attributedTo;
  const organiserUri = typeof attributed === "string" ? attributed : (attributed as Json | undefined)?.id;
  // Mobilizon attributes group events to the group and sends them from it; either way, same server.
  if (typeof organiserUri !== "string" || !sameOrigin(new URL(organiserUri), activity.actorId)) return;
  const sender = await senderOf(ctx, activity);
  if (!sender) return;
  storeRemoteEvent(ctx.data, object, sender);
}
