// What a new member is offered on their home page until they follow a few
// people: members of the instance to follow and groups to join. Local
// accounts only, active, not the member, not already followed or asked.
import { and, desc, eq, isNull, notInArray, sql } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { actors, follows, users } from "../storage/schema.ts";
import type { User } from "../members/members.ts";
import type { ActorRow } from "../federation/actors.ts";
import { groupDirectory, type DirectoryEntry } from "../groups/groups.ts";

/** Below this many people followed, the home page welcomes the member and shows the section's posts. */
export const FEW_FOLLOWS = 3;

/** People (not groups) the member follows or asked to follow. */
export function peopleFollowed(db: Db, user: User): number {
  return db
    .select({ n: sql<number>`count(*)` })
    .from(follows)
    .innerJoin(actors, eq(actors.id, follows.followingId))
    .where(and(eq(follows.followerId, user.actorId), eq(actors.type, "Person")))
    .get()!.n;
}

export function isNewcomer(db: Db, user: User): boolean {
  return peopleFollowed(db, user) < FEW_FOLLOWS;
}

const followedBy = (user: User) => sql`(select ${follows.followingId} from ${follows} where ${follows.followerId} = ${user.actorId})`;

/** Members of the instance the member does not follow yet, the most active first. */
export function peopleToFollow(db: Db, user: User, limit = 5): ActorRow[] {
  return db
    .select({ actor: actors })
    .from(users)
    .innerJoin(actors, eq(actors.id, users.actorId))
    .where(and(isNull(users.disabledAt), notInArray(actors.id, [user.actorId]), sql`${actors.id} not in ${followedBy(user)}`))
    .orderBy(desc(actors.statusesCount), desc(actors.followersCount), actors.username)
    .limit(limit)
    .all()
    .map((r) => r.actor);
}

/** Active groups the member has not joined (nor asked to), the largest first. */
export function groupsToJoin(db: Db, user: User, limit = 3): DirectoryEntry[] {
  const mine = new Set(db.select({ id: follows.followingId }).from(follows).where(eq(follows.followerId, user.actorId)).all().map((r) => r.id));
  return groupDirectory(db, { sort: "members", limit: 50 })
    .filter((e) => !mine.has(e.actor.id))
    .slice(0, limit);
}
