// Create, Update and Announce of the hierarchy's objects (federation/territory.ts):
// campaigns and directives from the parent node, results, reports and
// statistics from the children. Anything from a node that is not linked to
// this one is dropped: a section never takes orders from, nor reports to, a
// node it did not declare. A fédération passes what it receives on (relay).
import type { InboxContext } from "@fedify/fedify";
import { Create, Object as APObject, Update, type Activity, type Announce } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import type { ActorRow } from "../actors.ts";
import { resolveActor } from "../remote.ts";
import { context } from "../send.ts";
import { nodeActor, relay } from "../send-territory.ts";
import { readCampaign, readCampaignJoin, readDirective, readDirectoryNotice, readPayload, readReport, readResult, readSections, readStatus, territoryTypeOf } from "../territory.ts";
import { heldDirectory, nodeTerritories, publishDirectory, pullDirectory, reportSections } from "../../party/directory.ts";
import { isLinkedChild, isLinkedParent, setSiblings } from "../../territory/links.ts";
import { sectionsChanged } from "../../territory/sync.ts";
import { actorByUri } from "../remote.ts";
import { onRelayedEvent } from "./event.ts";
import { findCampaignByUri, storeCampaign } from "../../campaigns/campaigns.ts";
import { storeReceivedResult } from "../../campaigns/results.ts";
import { receiveReport } from "../../reports/reports.ts";
import { storeStatus } from "../../reports/stats.ts";
import { receiveDirective } from "../../reports/directives.ts";
import { senderOf } from "./common.ts";
import { notifyAll } from "../../notifications/notifications.ts";
import { memberManagerActorIds } from "../../members/members.ts";

type Json = Record<string, unknown>;

/** Coopol's objects are plain Objects to Fedify (their payload says the rest): a cheap first test. */
export function mayBeTerritoryObject(object: unknown): boolean {
  return object instanceof APObject && Object.getPrototypeOf(object) === APObject.prototype;
}

interface Received {
  type: "Create" | "Update";
  id: string;
  actor: string;
  payload: Json;
}

async function receivedOf(activity: Activity, relayed = false): Promise<Received | null> {
  const type = activity instanceof Create ? "Create" : activity instanceof Update ? "Update" : null;
  if (!type || !activity.id || !activity.actorId) return null;
  // A relayed activity is another node's: its embedded object is trusted as the relaying (linked) node vouches for it.
  const payload = await readPayload(await activity.getObject(relayed ? { crossOrigin: "trust" } : {}));
  return payload ? { type, id: activity.id.href, actor: activity.actorId.href, payload } : null;
}

/** Create or Update whose object is one of ours. */
export async function onTerritoryActivity(ctx: InboxContext<Services>, activity: Activity): Promise<void> {
  const received = await receivedOf(activity);
  if (!received) return;
  const sender = await senderOf(ctx, activity);
  if (sender) await handle(ctx.data, received, sender, null);
}

/** An Announce relaying one of our activities. Returns false when it is not one (an ordinary boost). */
export async function onTerritoryAnnounce(ctx: InboxContext<Services>, announce: Announce): Promise<boolean> {
  // Only an embedded Create or Update can be ours; boosts name a post by its URI (not fetched here).
  const raw = (await announce.toJsonLd()) as Json;
  const embedded = raw.object && typeof raw.object === "object" ? (raw.object as Json) : null;
  if (!embedded || (embedded.type !== "Create" && embedded.type !== "Update")) return false;
  // A fédération-wide event of a sibling section, relayed by our fédération (only our linked parent is heard here).
  const inner0 = embedded.object && typeof embedded.object === "object" ? (embedded.object as Json) : null;
  if (inner0?.type === "Event") {
    const relayer = announce.actorId ? actorByUri(ctx.data.db, announce.actorId.href) : undefined;
    if (!relayer || !isLinkedParent(ctx.data.db, relayer.id)) return false;
    await onRelayedEvent(ctx, embedded, relayer);
    return true;
  }
  // Embedded from another origin: Fedify would fetch it again unless told to take the relayed copy;
  // handle() then accepts it only if the relaying node is linked to us.
  const inner = await announce.getObject({ crossOrigin: "trust" });
  if (!(inner instanceof Create || inner instanceof Update)) return false;
  const received = await receivedOf(inner, true);
  if (!received) return false;
  const sender = await senderOf(ctx, announce);
  if (sender) await handle(ctx.data, received, sender, sender);
  return true;
}

async function handle(services: Services, activity: Received, sender: ActorRow, relayedBy: ActorRow | null): Promise<void> {
  const { db, config, log } = services;
  const object = activity.payload;
  const kind = territoryTypeOf(object);
  if (!kind) return;
  const direct = relayedBy === null;
  const fromChild = () => isLinkedChild(db, sender.id);
  const fromParent = () => isLinkedParent(db, sender.id);
  const drop = (why: string) => log.warn({ sender: sender.uri, kind, why }, "territory: activity dropped");
  // Which fédération the work below belongs to, as we know it: ourselves, or the child that sent it.
  const federationUri = config.kind === "federation" ? nodeActor(services).uri : sender.uri;
  const relayUp = () => (config.kind === "federation" && direct ? relay(services, "up", activity) : undefined);
  const relayDown = () => (config.kind === "federation" && direct ? relay(services, "down", activity) : undefined);

  switch (kind) {
    case "ActionResult": {
      if (!fromChild()) return drop("not a linked child");
      const wire = readResult(object);
      if (!wire) return drop("malformed");
      if (direct && wire.sectionUri !== sender.uri) return drop("not its own result");
      if (storeReceivedResult(db, wire, federationUri) !== "ignored") await relayUp();
      return;
    }
    case "Report": {
      if (!fromChild()) return drop("not a linked child");
      const wire = readReport(object);
      if (!wire) return drop("malformed");
      if (direct && wire.sectionUri !== sender.uri) return drop("not its own report");
      const section = direct ? sender : await resolveActor(context(services), wire.sectionUri).catch(() => null);
      const received = await receiveReport(services, wire, federationUri, section);
      // Passed on to national once per version, not on every redelivery.
      if (received?.changed && wire.alsoNational) await relayUp();
      return;
    }
    case "NodeStatus": {
      if (!fromChild()) return drop("not a linked child");
      const wire = readStatus(object);
      if (!wire) return drop("malformed");
      if (direct && wire.nodeUri !== sender.uri) return drop("not its own figures");
      const territoryBefore = nodeTerritories(db).get(wire.nodeUri);
      if (storeStatus(db, wire, federationUri)) await relayUp();
      // A section's territory, first known (or changed): national's directory lists it.
      if (config.kind === "federation" && direct && territoryBefore !== wire.territory) sectionsChanged(services);
      return;
    }
    case "Campaign": {
      if (!fromParent()) return drop("not the linked parent");
      const wire = readCampaign(object);
      if (!wire) return drop("malformed");
      if (direct && wire.ownerUri !== sender.uri) return drop("not its own campaign");
      const owner = direct ? sender : ((await resolveActor(context(services), wire.ownerUri).catch(() => null)) ?? sender);
      const stored = storeCampaign(db, wire, owner);
      // The managers here are told of a new campaign from above (they decide whether to join it).
      if (stored?.created) notifyAll(services, memberManagerActorIds(db), { type: "coopol.campaign", fromActorId: owner.id, campaignId: stored.row.id });
      if (stored?.changed) await relayDown();
      return;
    }
    case "CampaignJoin": {
      // Nothing stored: the managers here are told that a node below joined a campaign they know.
      if (!fromChild() || !direct) return drop("not a linked child");
      const wire = readCampaignJoin(object);
      if (!wire) return drop("malformed");
      if (wire.nodeUri !== sender.uri) return drop("not its own join");
      const campaign = findCampaignByUri(db, wire.campaignUri);
      if (!campaign) return drop("unknown campaign");
      if (wire.joined) notifyAll(services, memberManagerActorIds(db), { type: "coopol.campaign_joined", fromActorId: sender.id, campaignId: campaign.id });
      return;
    }
    case "Sections": {
      if (!direct) return drop("relayed");
      const wire = readSections(object);
      if (!wire || wire.federationUri !== sender.uri) return drop("malformed");
      // From a linked fédération: the sections it oversees, for the party directory.
      if (fromChild()) {
        if (config.kind === "national" && reportSections(db, sender.uri, wire.sections, wire.version, wire.details)) await publishDirectory(services);
        return;
      }
      if (!fromParent()) return drop("not the linked parent");
      setSiblings(services, wire);
      return;
    }
    case "PartyDirectory": {
      // A notice only: the document is fetched from the parent that sent it, and checked against national's key.
      if (!fromParent() || !direct) return drop("not the linked parent");
      const wire = readDirectoryNotice(object);
      if (!wire || wire.nodeUri !== sender.uri) return drop("malformed");
      if (wire.version <= (heldDirectory(db)?.version ?? 0)) return;
      await pullDirectory(services, sender);
      return;
    }
    case "Directive": {
      if (!fromParent()) return drop("not the linked parent");
      const wire = readDirective(object);
      if (!wire) return drop("malformed");
      if (direct && wire.fromUri !== sender.uri) return drop("not its own directive");
      const author = direct ? sender : ((await resolveActor(context(services), wire.fromUri).catch(() => null)) ?? sender);
      if (receiveDirective(services, wire, author)) await relayDown();
      return;
    }
  }
}
