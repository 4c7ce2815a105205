// Who an event is for, beyond "public" and "section": a list of thematic
// groups (their members, on every instance), or every section of the
// organiser's fédération. The rule for reading lives here, as a check and as
// a WHERE clause side by side; so does the rule for answering from afar.
import { and, eq, inArray, isNotNull, or, sql, type SQL } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { User } from "../members/members.ts";
import { readsSection, type Viewer } from "../posts/visibility.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { actors, eventGroups, events, follows, groups, groupRoles } from "../storage/schema.ts";
import type { ActorRow } from "../federation/actors.ts";
import { canModerate, groupById, type GroupRow } from "../groups/groups.ts";
import { federationOrigins } from "../party/directory.ts";

type EventLike = { id: number; audience: string; actorId: number };

/** Events for groups one of which `me` is a member of (an accepted follow of the group's actor). */
function memberOfEventGroup(me: number): SQL {
  return sql`exists (select 1 from ${eventGroups}
    join ${groups} on ${groups.id} = ${eventGroups.groupId}
    join ${follows} on ${follows.followingId} = ${groups.actorId} and ${follows.followerId} = ${me} and ${follows.acceptedAt} is not null
    where ${eventGroups.eventId} = ${events.id})`;
}

/** Who may see an event, as a WHERE clause over `events`. */
export function eventsVisibleTo(viewer: Viewer): SQL {
  const open = eq(events.audience, "public");
  if (viewer.kind === "anonymous") return open;
  const clauses: SQL[] = [open, eq(events.actorId, viewer.actorId), and(eq(events.audience, "groups"), memberOfEventGroup(viewer.actorId))!];
  // Section-only and fédération-wide events: this instance's card-holders (a fédération-wide
  // event is only ever stored on the instances of the organiser's fédération).
  if (readsSection(viewer)) clauses.push(inArray(events.audience, ["section", "federation"]));
  return or(...clauses)!;
}

/** The same rule for one event. */
export function canSeeEvent(db: Db, viewer: Viewer, event: EventLike): boolean {
  if (event.audience === "public") return true;
  if (viewer.kind === "anonymous") return false;
  if (viewer.actorId === event.actorId) return true;
  if (event.audience === "groups") return isInEventGroup(db, event.id, viewer.actorId);
  return readsSection(viewer);
}

export function isInEventGroup(db: Db, eventId: number, actorId: number): boolean {
  return !!db.get(sql`select 1 from ${events} where ${events.id} = ${eventId} and ${memberOfEventGroup(actorId)}`);
}

/**
 * Whether a person of another server may answer one of our events: anyone
 * for a public event; a member of one of its groups; for a fédération-wide
 * event, a member of the fédération or of one of its sections.
 */
export function mayAnswerFromAfar(services: Services, event: EventLike, actor: ActorRow): boolean {
  const { db } = services;
  switch (event.audience) {
    case "public":
      return true;
    case "groups":
      return isInEventGroup(db, event.id, actor.id);
    case "federation":
      return federationOrigins(services).has(new URL(actor.uri).origin);
    default:
      return false;
  }
}

/**
 * Whether a signed fetch of one of our events may have it: a member of its
 * groups, or a server where some of them are (its instance actor fetches for
 * them); for a fédération-wide event, an actor of the fédération's servers.
 */
export function mayFetchEvent(services: Services, event: EventLike, signer: { uri: string; actor: ActorRow | null }): boolean {
  const { db } = services;
  if (event.audience === "public") return true;
  if (event.audience === "federation") return federationOrigins(services).has(new URL(signer.uri).origin);
  if (event.audience !== "groups") return false;
  if (signer.actor && isInEventGroup(db, event.id, signer.actor.id)) return true;
  const domain = new URL(signer.uri).host;
  return !!db.get(sql`select 1 from ${eventGroups}
    join ${groups} on ${groups.id} = ${eventGroups.groupId}
    join ${follows} on ${follows.followingId} = ${groups.actorId} and ${follows.acceptedAt} is not null
    join ${actors} on ${actors.id} = ${follows.followerId} and ${actors.domain} = ${domain} and ${actors.local} = 0
    where ${eventGroups.eventId} = ${event.id} limit 1`);
}

/** The groups of this instance a member may address an event to: those they belong to or moderate. */
export function groupsUsableBy(db: Db, user: User): GroupRow[] {
  const me = user.actorId;
  return db
    .select({ group: groups })
    .from(groups)
    .where(
      and(
        eq(groups.local, true),
        eq(groups.state, "active"),
        isNotNull(groups.actorId),
        or(
          sql`exists (select 1 from ${follows} where ${follows.followingId} = ${groups.actorId} and ${follows.followerId} = ${me} and ${follows.acceptedAt} is not null)`,
          sql`exists (select 1 from ${groupRoles} where ${groupRoles.groupId} = ${groups.id} and ${groupRoles.actorId} = ${me})`,
        ),
      ),
    )
    .orderBy(groups.name)
    .all()
    .map((r) => r.group);
}

/** Local groups whose moderators (and owner) may organise an event in the group's name. */
export function groupsOrganisableBy(db: Db, user: User): GroupRow[] {
  return groupsUsableBy(db, user).filter((g) => canModerate(db, g, user));
}

/** The group an event is organised by: a local, active group the member moderates. */
export function organisingGroup(db: Db, user: User, groupId: number): { group: GroupRow; actor: ActorRow } {
  const group = groupById(db, groupId);
  if (!group?.local || group.state !== "active" || !group.actorId || !canModerate(db, group, user)) throw new UserError("event_group_forbidden", 403);
  const actor = db.select().from(actors).where(eq(actors.id, group.actorId)).get()!;
  return { group, actor };
}

/** Checks the groups a member addresses an event to; returns their ids. */
export function checkedGroups(db: Db, user: User, groupIds: number[], organiser?: GroupRow): number[] {
  const usable = new Map(groupsUsableBy(db, user).map((g) => [g.id, g]));
  const ids = [...new Set([...(organiser ? [organiser.id] : []), ...groupIds])];
  if (ids.length === 0) throw new UserError("event_groups_missing", 422);
  if (ids.length > 20) throw new UserError("event_groups_too_many", 422, { max: 20 });
  for (const id of ids) if (!usable.has(id) && id !== organiser?.id) throw new UserError("event_group_forbidden", 403);
  return ids;
}

/** Replaces the groups of an event. */
export function setEventGroups(db: Db, eventId: number, groupIds: number[]): void {
  db.transaction((tx) => {
    tx.delete(eventGroups).where(eq(eventGroups.eventId, eventId)).run();
    for (const groupId of groupIds) tx.insert(eventGroups).values({ eventId, groupId }).onConflictDoNothing().run();
  });
}

export function eventGroupIds(db: Db, eventId: number): number[] {
  return eventGroupIdsOf(db, [eventId]).get(eventId) ?? [];
}

/** The groups of several events, in one query. */
export function eventGroupIdsOf(db: Db, eventIds: number[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const r of db.select().from(eventGroups).where(inArray(eventGroups.eventId, eventIds)).all()) out.set(r.eventId, [...(out.get(r.eventId) ?? []), r.groupId]);
  return out;
}

/** A group's events as a WHERE clause: organised by its actor, or addressed to it. */
export function eventsOfGroup(group: GroupRow): SQL {
  return or(
    group.actorId != null ? eq(events.actorId, group.actorId) : sql`0`,
    sql`exists (select 1 from ${eventGroups} where ${eventGroups.eventId} = ${events.id} and ${eventGroups.groupId} = ${group.id})`,
  )!;
}
