// Blocks and mutes by local accounts. A block also ends follow relations in
// both directions; a mute only hides. Both are private to the account.
import { and, eq, or } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { actorFilters, actors, follows } from "../storage/schema.ts";
import { actorOf, type User } from "../members/members.ts";
import type { ActorRow } from "../federation/actors.ts";
import { unfollow } from "./follows.ts";

export type FilterKind = "block" | "mute";

export async function block(services: Services, user: User, target: ActorRow): Promise<void> {
  const { db } = services;
  const me = actorOf(db, user);
  if (me.id === target.id) throw new UserError("block_self", 422);
  await unfollow(services, user, target);
  db.delete(follows).where(and(eq(follows.followerId, target.id), eq(follows.followingId, me.id))).run();
  db.insert(actorFilters).values({ userId: user.id, targetId: target.id, kind: "block" }).onConflictDoNothing().run();
}

export function mute(db: Db, user: User, target: ActorRow, notifications = true): void {
  if (user.actorId === target.id) throw new UserError("block_self", 422);
  db.insert(actorFilters)
    .values({ userId: user.id, targetId: target.id, kind: "mute", notifications })
    .onConflictDoUpdate({ target: [actorFilters.userId, actorFilters.targetId, actorFilters.kind], set: { notifications } })
    .run();
}

export function removeFilter(db: Db, user: User, target: ActorRow, kind: FilterKind): void {
  db.delete(actorFilters).where(and(eq(actorFilters.userId, user.id), eq(actorFilters.targetId, target.id), eq(actorFilters.kind, kind))).run();
}

export function filteredActors(db: Db, user: User, kind: FilterKind): ActorRow[] {
  return db
    .select({ actor: actors })
    .from(actorFilters)
    .innerJoin(actors, eq(actors.id, actorFilters.targetId))
    .where(and(eq(actorFilters.userId, user.id), eq(actorFilters.kind, kind)))
    .all()
    .map((r) => r.actor);
}

export interface Relationship {
  following: boolean;
  requested: boolean;
  followedBy: boolean;
  requestedBy: boolean;
  blocking: boolean;
  muting: boolean;
  mutingNotifications: boolean;
}

export function relationship(db: Db, user: User, target: ActorRow): Relationship {
  const rows = db
    .select()
    .from(follows)
    .where(or(and(eq(follows.followerId, user.actorId), eq(follows.followingId, target.id)), and(eq(follows.followerId, target.id), eq(follows.followingId, user.actorId))))
    .all();
  const out = rows.find((r) => r.followerId === user.actorId);
  const inc = rows.find((r) => r.followerId === target.id);
  const filters = db.select().from(actorFilters).where(and(eq(actorFilters.userId, user.id), eq(actorFilters.targetId, target.id))).all();
  const muteRow = filters.find((f) => f.kind === "mute");
  return {
    following: !!out?.acceptedAt,
    requested: !!out && !out.acceptedAt,
    followedBy: !!inc?.acceptedAt,
    requestedBy: !!inc && !inc.acceptedAt,
    blocking: filters.some((f) => f.kind === "block"),
    muting: !!muteRow,
    mutingNotifications: !!muteRow?.notifications,
  };
}
