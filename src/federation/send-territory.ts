// Outgoing activities of the hierarchy. What goes up (results, reports,
// statistics) is addressed to the parent node's actor only; what goes down
// (campaigns, directives) to the linked children only. Nothing here is ever
// public or sent to followers.
import { Accept, Announce, Create, Follow, Read, Reject, Update } from "@fedify/vocab";
import type { Services } from "../services.ts";
import { activityKey } from "./activity-ids.ts";
import { nodeActor, type ActorRow } from "./actors.ts";
import { deliver } from "./send.ts";
import { directoryNoticeObject, payloadAttachment, sectionsObject, toWire, WIRE_CONTEXT } from "./territory.ts";
import { EVENT_CONTEXT } from "./events.ts";
import { linkedChildren, linkedParent } from "../territory/links.ts";
import { DIRECTORY_PATH, heldDirectory, nodeTerritories } from "../party/directory.ts";

type Json = Record<string, unknown>;

export { nodeActor };

/** The queue's background lanes (federation/queue.ts) of the notices sent to every child. */
export const LANES = { sections: "sections", directory: "directory" } as const;

const KINDS = { Create, Update, Announce, Accept, Reject, Read, Follow } as const;
type Kind = keyof typeof KINDS;

async function send(services: Services, to: ActorRow[], type: Kind, json: Json, options: { background?: string } = {}): Promise<void> {
  if (to.length === 0) return;
  const node = nodeActor(services);
  const activity = await KINDS[type].fromJsonLd({ "@context": WIRE_CONTEXT, type, actor: node.uri, to: to.map((a) => a.uri), ...json });
  await deliver(services, node, to, activity, options);
}

/** Create or Update of an object, to the parent node. False when there is no established parent link. */
export async function sendUp(services: Services, type: "Create" | "Update", object: Json): Promise<boolean> {
  const parent = linkedParent(services.db);
  if (!parent) return false;
  await send(services, [parent], type, { id: `${object.id as string}#${type.toLowerCase()}-${activityKey()}`, object: toWire({ ...object, to: [parent.uri] }) });
  return true;
}

/** Create or Update of an object, to every linked child (or the ones given). */
export async function sendDown(services: Services, type: "Create" | "Update", object: Json, only?: ActorRow[], options: { background?: string } = {}): Promise<void> {
  const children = only ?? linkedChildren(services.db);
  if (children.length === 0) return;
  await send(services, children, type, { id: `${object.id as string}#${type.toLowerCase()}-${activityKey()}`, object: toWire({ ...object, to: children.map((c) => c.uri) }) }, options);
}

/**
 * Passes an activity received from a child up to the parent, or one received
 * from the parent down to the children, as an Announce embedding it (as
 * FEP-1b12 groups relay): the receiver trusts the node that relays it.
 * `activity` is {type, id, actor} of the original and its Coopol payload.
 */
export async function relay(services: Services, direction: "up" | "down", activity: { type: "Create" | "Update"; id: string; actor: string; payload: Json }, only?: ActorRow[]): Promise<void> {
  const to = direction === "up" ? [linkedParent(services.db)].filter((a): a is ActorRow => !!a) : (only ?? linkedChildren(services.db));
  if (to.length === 0) return;
  const node = nodeActor(services);
  await send(services, to, "Announce", {
    id: `${node.uri}#relays/${activityKey()}`,
    object: { type: activity.type, id: activity.id, actor: activity.actor, object: toWire(activity.payload) },
  });
}

/** The overseeing node asks to follow a child's node actor, marked as an oversight request. */
export async function oversightRequested(services: Services, child: ActorRow, followUri: string): Promise<void> {
  await send(services, [child], "Follow", { id: followUri, object: child.uri, ...payloadAttachment({ oversight: true }) });
}

/** The child's answer to an oversight request. */
export async function oversightAnswered(services: Services, accepted: boolean, followUri: string, parent: ActorRow): Promise<void> {
  const node = nodeActor(services);
  await send(services, [parent], accepted ? "Accept" : "Reject", {
    id: `${node.uri}#${accepted ? "accepts" : "rejects"}/${activityKey()}`,
    object: { id: followUri, type: "Follow", actor: parent.uri, object: node.uri },
  });
}

/** Receipt (Accept) and first reading (Read) of a report, told to the section that wrote it. */
export async function acknowledged(services: Services, type: "Accept" | "Read", reportUri: string, section: ActorRow): Promise<void> {
  const node = nodeActor(services);
  await send(services, [section], type, { id: `${node.uri}#${type.toLowerCase()}s/${activityKey()}`, object: reportUri });
}

/**
 * A fédération tells its linked sections which sections it oversees (each
 * stores the others as siblings), and its parent too (national lists them in
 * the party directory).
 */
export async function sectionsChanged(services: Services): Promise<void> {
  const children = linkedChildren(services.db);
  const node = nodeActor(services);
  const territories = nodeTerritories(services.db);
  const details = children.map((c) => ({ id: c.uri, name: c.name || c.username, territory: territories.get(c.uri) ?? null }));
  const sections = { federationUri: node.uri, sections: children.map((c) => c.uri), version: Date.now(), details };
  await sendUp(services, "Update", sectionsObject(sections, []));
  if (children.length === 0) return;
  // One delivery per section, each carrying the whole list: behind campaigns and reports in the queue.
  await sendDown(services, "Update", sectionsObject(sections, children.map((c) => c.uri)), undefined, { background: LANES.sections });
}

/** Our linked children (or the ones given) are told we hold a new party directory; they fetch it from us. */
export async function directoryChanged(services: Services, only?: ActorRow[]): Promise<void> {
  const held = heldDirectory(services.db);
  if (!held) return;
  const node = nodeActor(services);
  await sendDown(services, "Update", directoryNoticeObject({ id: new URL(DIRECTORY_PATH, services.config.origin).href, nodeUri: node.uri, nationalUri: held.nationalUri, version: held.version }, []), only, { background: LANES.directory });
}

/**
 * A fédération passes a section's fédération-wide event (its Create or Update,
 * as received) on to its other sections, as an Announce embedding it. The
 * Event keeps its own JSON-LD (Mobilizon's properties, the Coopol payload).
 */
export async function relayEvent(services: Services, activity: Json, to: ActorRow[]): Promise<void> {
  if (to.length === 0) return;
  const node = nodeActor(services);
  const { "@context": _context, ...embedded } = activity;
  const announce = await Announce.fromJsonLd({
    "@context": EVENT_CONTEXT,
    id: `${node.uri}#relays/${activityKey()}`,
    type: "Announce",
    actor: node.uri,
    to: to.map((a) => a.uri),
    object: embedded,
  });
  await deliver(services, node, to, announce);
}
