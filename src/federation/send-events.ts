// Outgoing activities about events: Create/Update of the Event to whoever
// follows its organiser (and those who answered it), Join/TentativeAccept/Leave
// from our members, Accept/Reject from our organisers.
import { Accept, Create, Join, Leave, Reject, TentativeAccept, Update } from "@fedify/vocab";
import { and, eq } from "drizzle-orm";
import type { Services } from "../services.ts";
import { activityKey } from "./activity-ids.ts";
import { actors, rsvps } from "../storage/schema.ts";
import type { ActorRow } from "./actors.ts";
import { EVENT_CONTEXT, eventExtras, eventObject, groupsOfEvent } from "./events.ts";
import { linkedParent } from "../territory/links.ts";
import { deliver, remoteFollowers, type DeliveryTarget } from "./send.ts";
import type { EventRow } from "../agenda/events.ts";

function organiserOf(services: Services, event: EventRow): ActorRow {
  return services.db.select().from(actors).where(eq(actors.id, event.actorId)).get()!;
}

/** Followers of the organiser and of the section (which relays its members' public events), and remote attendees. */
function audience(services: Services, event: EventRow, organiser: ActorRow): DeliveryTarget[] {
  const byUri = new Map<string, DeliveryTarget>();
  const add = (rows: DeliveryTarget[]) => rows.forEach((r) => byUri.set(r.uri, r));
  add(remoteFollowers(services, organiser.id));
  const section = services.db.select().from(actors).where(and(eq(actors.username, services.config.handle), eq(actors.local, true))).get();
  if (section && section.id !== organiser.id) add(remoteFollowers(services, section.id));
  add(
    services.db
      .select({ actor: actors })
      .from(rsvps)
      .innerJoin(actors, eq(actors.id, rsvps.actorId))
      .where(and(eq(rsvps.eventId, event.id), eq(actors.local, false)))
      .all()
      .map((r) => r.actor),
  );
  return [...byUri.values()];
}

/**
 * An event for a list of groups goes to the groups' members on other servers
 * (the groups are this instance's own: it knows their followers). Remote
 * attendees keep getting updates only while they are still members.
 */
function groupsAudience(services: Services, event: EventRow): DeliveryTarget[] {
  const byUri = new Map<string, DeliveryTarget>();
  for (const { actor } of groupsOfEvent(services, event.id)) {
    if (!actor.local) continue;
    for (const follower of remoteFollowers(services, actor.id)) byUri.set(follower.uri, follower);
  }
  return [...byUri.values()];
}

/** A fédération-wide event goes to the fédération only, which relays it to its sections. */
function federationAudience(services: Services): ActorRow[] {
  const parent = linkedParent(services.db);
  return parent ? [parent] : [];
}

async function publish(services: Services, event: EventRow, type: "Create" | "Update"): Promise<void> {
  // Section-only events never leave the instance.
  if (event.audience === "section") return;
  const organiser = organiserOf(services, event);
  if (!organiser.local) return;
  const to =
    event.audience === "groups"
      ? groupsAudience(services, event)
      : event.audience === "federation"
        ? federationAudience(services)
        : audience(services, event, organiser);
  if (to.length === 0) return;
  const object = eventObject(event, organiser, eventExtras(services, event));
  const json = {
    "@context": EVENT_CONTEXT,
    id: `${event.uri}#${type.toLowerCase()}-${event.sequence}`,
    type,
    actor: organiser.uri,
    to: object.to,
    cc: object.cc,
    object,
  };
  // Built from JSON-LD, so Fedify sends the Mobilizon properties it has no classes for.
  const activity = type === "Create" ? await Create.fromJsonLd(json) : await Update.fromJsonLd(json);
  await deliver(services, organiser, to, activity);
}

export const eventPublished = (services: Services, event: EventRow) => publish(services, event, "Create");
export const eventUpdated = (services: Services, event: EventRow) => publish(services, event, "Update");

/** Our organiser accepts or refuses a remote attendee's Join. */
export async function joinAnswered(services: Services, event: EventRow, attendee: ActorRow, rsvpUri: string, accepted: boolean): Promise<void> {
  const organiser = organiserOf(services, event);
  const Kind = accepted ? Accept : Reject;
  await deliver(services, organiser, [attendee], new Kind({
    id: new URL(`${organiser.uri}#rsvp-answers/${activityKey()}`),
    actor: new URL(organiser.uri),
    object: new URL(rsvpUri),
    to: new URL(attendee.uri),
  }));
}

/** Our member answers a remote event. */
export async function answerSent(services: Services, event: EventRow, organiser: ActorRow, me: ActorRow, answer: "going" | "maybe" | "not_going", uri: string): Promise<void> {
  const base = { actor: new URL(me.uri), object: new URL(event.uri), to: new URL(organiser.uri) };
  const activity =
    answer === "going"
      ? new Join({ id: new URL(uri), ...base })
      : answer === "maybe"
        ? new TentativeAccept({ id: new URL(uri), ...base })
        : new Leave({ id: new URL(`${me.uri}#leave/${activityKey()}`), ...base });
  await deliver(services, me, [organiser], activity);
}
