// Follow relations between any two actors, local or remote. Locked accounts
// (and the section's fédération link, later) approve requests by hand.
import { isSilenced } from "../party/modes.ts";
import { and, eq, isNull, sql } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { actorOf, type User } from "../members/members.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { actors, follows } from "../storage/schema.ts";
import type { ActorRow } from "../federation/actors.ts";
import { record } from "../outbox/outbox.ts";
import { notify } from "../notifications/notifications.ts";
import { joinLocalGroup, localGroupOfActor } from "../groups/groups.ts";

export type FollowRow = typeof follows.$inferSelect;

// Pages ask it once per listed group or profile, the inbox for each follow: built once (storage/prepared.ts).
const followQuery = preparedOnce((db) =>
  db
    .select()
    .from(follows)
    .where(and(eq(follows.followerId, sql.placeholder("followerId")), eq(follows.followingId, sql.placeholder("followingId"))))
    .prepare(),
);

export function findFollow(db: Db, followerId: number, followingId: number): FollowRow | undefined {
  return followQuery(db).get({ followerId, followingId });
}

export function findActor(db: Db, id: number): ActorRow | undefined {
  return db.select().from(actors).where(eq(actors.id, id)).get();
}

/** A local account follows any actor. Remote ones answer later with Accept or Reject. */
export async function follow(services: Services, user: User, target: ActorRow): Promise<FollowRow> {
  const { db } = services;
  const me = actorOf(db, user);
  if (me.id === target.id) throw new UserError("follow_self", 422);
  // Joining one of our thematic groups: its membership policy decides.
  const group = target.local && target.type === "Group" ? localGroupOfActor(db, target.id) : undefined;
  if (group) return joinLocalGroup(services, user, group, target);
  const existing = findFollow(db, me.id, target.id);
  if (existing) return existing;
  const id = newId();
  const row = db.transaction((tx) => {
    const row = tx
      .insert(follows)
      .values({
        id,
        followerId: me.id,
        followingId: target.id,
        uri: `${me.uri}#follows/${id}`,
        // Local targets that are not locked accept at once; remote ones decide.
        acceptedAt: target.local && !target.locked ? Date.now() : null,
      })
      .returning()
      .get();
    if (!target.local) record(tx, { kind: "follow.requested", followUri: row.uri, followerId: me.id, targetId: target.id });
    return row;
  });
  if (target.local) notify(services, { recipientActorId: target.id, type: row.acceptedAt ? "follow" : "follow_request", fromActorId: me.id });
  return row;
}

export async function unfollow(services: Services, user: User, target: ActorRow): Promise<void> {
  const { db } = services;
  const me = actorOf(db, user);
  db.transaction((tx) => {
    const row = tx.delete(follows).where(and(eq(follows.followerId, me.id), eq(follows.followingId, target.id))).returning().get();
    if (row && !target.local) record(tx, { kind: "follow.undone", followUri: row.uri, followerId: me.id, targetId: target.id });
  });
}

/** Records a follow request that reached a local actor; returns whether it is accepted already. */
export async function receiveFollow(services: Services, follower: ActorRow, target: ActorRow, uri: string): Promise<FollowRow> {
  const { db } = services;
  const existing = findFollow(db, follower.id, target.id);
  if (existing) {
    // A repeated Follow (the remote side lost our Accept): answer again.
    if (existing.acceptedAt) followAnswered(db, true, uri, follower, target);
    return existing;
  }
  const row = db.transaction((tx) => {
    const row = tx
      .insert(follows)
      // A silenced server's follows wait for approval, as if the account were locked.
      .values({ id: newId(), followerId: follower.id, followingId: target.id, uri, acceptedAt: target.locked || isSilenced(services, follower.domain) ? null : Date.now() })
      .returning()
      .get();
    if (row.acceptedAt) followAnswered(tx, true, uri, follower, target);
    return row;
  });
  notify(services, { recipientActorId: target.id, type: row.acceptedAt ? "follow" : "follow_request", fromActorId: follower.id });
  return row;
}

/** The owner of a locked account answers a pending request. */
export async function answerFollowRequest(services: Services, user: User, followerId: number, accept: boolean): Promise<void> {
  const { db } = services;
  const me = actorOf(db, user);
  const row = db.select().from(follows).where(and(eq(follows.followerId, followerId), eq(follows.followingId, me.id), isNull(follows.acceptedAt))).get();
  if (!row) throw new UserError("follow_request_not_found", 404);
  const follower = findActor(db, followerId)!;
  db.transaction((tx) => {
    if (accept) tx.update(follows).set({ acceptedAt: Date.now() }).where(eq(follows.id, row.id)).run();
    else tx.delete(follows).where(eq(follows.id, row.id)).run();
    if (!follower.local) followAnswered(tx, accept, row.uri, follower, me);
  });
}

/** A local actor's Accept or Reject of a Follow, sent through the outbox (call it in the change's transaction). */
export function followAnswered(db: Db, accepted: boolean, followUri: string, follower: ActorRow, target: ActorRow): void {
  record(db, { kind: "follow.answered", accepted, followUri, followerId: follower.id, targetId: target.id });
}

export function pendingFollowRequests(db: Db, actorId: number): ActorRow[] {
  return db
    .select({ actor: actors })
    .from(follows)
    .innerJoin(actors, eq(actors.id, follows.followerId))
    .where(and(eq(follows.followingId, actorId), isNull(follows.acceptedAt)))
    .all()
    .map((r) => r.actor);
}
