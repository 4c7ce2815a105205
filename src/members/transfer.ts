// A member changes section (docs/federation.md, "Moving an account"):
// 1. on the new section, their new account asks for a transfer, naming the old one;
// 2. a secretary of the new section accepts: the new actor then names the old
//    one in `alsoKnownAs`;
// 3. on the old section, the member moves the old account: only if the new
//    actor names it (read again from its server), then `Move` goes out, and
//    followers (people and groups, here and elsewhere) follow the new account.
import { and, desc, eq, gt, inArray, isNotNull } from "drizzle-orm";
import { MAX_ALIASES } from "../bounds.ts";
import { UserError } from "../errors.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { actors, follows, groupRoles, memberTransfers, oauthTokens, sessions, users } from "../storage/schema.ts";
import { aliasesOf, type ActorRow } from "../federation/actors.ts";
import { record } from "../outbox/outbox.ts";
import { localGroupOfActor } from "../groups/groups.ts";
import { follow, followAnswered, unfollow } from "../social/follows.ts";
import { actorOf, canManageMembers, type User } from "./members.ts";
import { verifyPassword } from "./passwords.ts";

export type TransferRow = typeof memberTransfers.$inferSelect;

/** Step 1, on the new section: the member names their old account (a handle or its address). */
export async function requestTransfer(services: Services, user: User, oldAccount: string): Promise<TransferRow> {
  const { db } = services;
  const me = actorOf(db, user);
  const old = await services.remote.lookup(oldAccount, { refresh: true });
  if (!old || old.local || old.type !== "Person" || old.deletedAt) throw new UserError("transfer_account_not_found", 404);
  const existing = db
    .select()
    .from(memberTransfers)
    .where(and(eq(memberTransfers.direction, "in"), eq(memberTransfers.actorId, me.id), eq(memberTransfers.otherActorId, old.id), inArray(memberTransfers.status, ["pending", "accepted"])))
    .get();
  if (existing) return existing;
  return db.insert(memberTransfers).values({ id: newId(), direction: "in", actorId: me.id, otherActorId: old.id, status: "pending" }).returning().get();
}

export interface TransferListed {
  transfer: TransferRow;
  local: ActorRow;
  other: ActorRow;
}

/** The secretary's page: requests waiting first, then the record of every transfer in and out. */
export function listTransfers(db: Db): TransferListed[] {
  const rows = db.select().from(memberTransfers).orderBy(desc(memberTransfers.id)).limit(500).all();
  const ids = [...new Set(rows.flatMap((r) => [r.actorId, r.otherActorId]))];
  const byId = new Map((ids.length ? db.select().from(actors).where(inArray(actors.id, ids)).all() : []).map((a) => [a.id, a]));
  return rows
    .map((transfer) => ({ transfer, local: byId.get(transfer.actorId)!, other: byId.get(transfer.otherActorId)! }))
    .filter((t) => t.local && t.other)
    .sort((a, b) => Number(b.transfer.status === "pending") - Number(a.transfer.status === "pending"));
}

/** Step 2, on the new section: a secretary (or admin) accepts or refuses; accepting publishes the alias. */
export function answerTransfer(services: Services, manager: User, transferId: number, accept: boolean): TransferRow {
  const { db } = services;
  if (!canManageMembers(manager.role)) throw new UserError("error.forbidden", 403);
  return db.transaction((tx) => {
    const row = tx.select().from(memberTransfers).where(and(eq(memberTransfers.id, transferId), eq(memberTransfers.direction, "in"), eq(memberTransfers.status, "pending"))).get();
    if (!row) throw new UserError("transfer_not_found", 404);
    const changed = tx
      .update(memberTransfers)
      .set({ status: accept ? "accepted" : "refused", decidedBy: manager.id, decidedAt: Date.now() })
      .where(eq(memberTransfers.id, row.id))
      .returning()
      .get();
    if (accept) {
      const me = tx.select().from(actors).where(eq(actors.id, row.actorId)).get()!;
      const old = tx.select().from(actors).where(eq(actors.id, row.otherActorId)).get()!;
      const aliases = [...new Set([...aliasesOf(me), old.uri])].slice(-MAX_ALIASES);
      tx.update(actors).set({ alsoKnownAs: JSON.stringify(aliases), updatedAt: Date.now() }).where(eq(actors.id, me.id)).run();
      record(tx, { kind: "profile.updated", actorId: me.id });
    }
    return changed;
  });
}

/**
 * Step 3, on the old section: the member moves this account to the new one.
 * The new actor is fetched again from its server and must name this one in
 * `alsoKnownAs` (the new section accepted the transfer): nobody can move an
 * account onto one they do not control, nor pull followers without consent.
 */
export async function moveAccount(services: Services, user: User, newAccount: string, password: string): Promise<ActorRow> {
  const { db } = services;
  if (!(await verifyPassword(password, user.passwordHash))) throw new UserError("password_current_wrong", 403);
  const me = actorOf(db, user);
  if (me.movedToId) throw new UserError("transfer_already_moved", 409);
  // Read again from its server, never from what we stored: the alias may be minutes old.
  const known = await services.remote.lookup(newAccount);
  const target = known && !known.local ? await services.remote.resolve(known.uri, { refresh: true }) : known;
  if (!target || target.local || target.type !== "Person" || target.deletedAt) throw new UserError("transfer_account_not_found", 404);
  if (!aliasesOf(target).includes(me.uri)) throw new UserError("transfer_not_confirmed", 422);
  db.transaction((tx) => {
    tx.update(actors).set({ movedToId: target.id, updatedAt: Date.now() }).where(eq(actors.id, me.id)).run();
    tx.insert(memberTransfers).values({ id: newId(), direction: "out", actorId: me.id, otherActorId: target.id, status: "moved", decidedAt: Date.now() }).run();
    // The account is closed here: it only says where it went.
    tx.delete(sessions).where(eq(sessions.userId, user.id)).run();
    tx.delete(oauthTokens).where(eq(oauthTokens.userId, user.id)).run();
    record(tx, { kind: "account.moved", actorId: me.id, targetId: target.id });
  });
  services.events.emit("member.changed", { userId: user.id });
  await followersMoved(services, me, target);
  return target;
}

/**
 * `old` moved to `target` (checked by the caller): what this instance does
 * about it, as Mastodon does for a `Move`: each local member who followed
 * `old` follows `target` and stops following `old`; each local group `old`
 * belonged to keeps the membership, now `target`'s, with its roles.
 */
export async function followersMoved(services: Services, old: ActorRow, target: ActorRow): Promise<void> {
  const { db } = services;
  db.update(actors).set({ movedToId: target.id }).where(and(eq(actors.id, old.id), eq(actors.local, false))).run();
  const followers = db
    .select({ user: users })
    .from(follows)
    .innerJoin(users, eq(users.actorId, follows.followerId))
    .where(and(eq(follows.followingId, old.id), isNotNull(follows.acceptedAt)))
    .all()
    .map((r) => r.user);
  for (const user of followers) {
    if (user.actorId === target.id) continue;
    try {
      await follow(services, user, target);
      await unfollow(services, user, old);
    } catch (error) {
      // One follower who may not follow the new account (say, a block) does not stop the others.
      if (!(error instanceof UserError)) throw error;
      services.log.info({ user: user.id, target: target.uri, code: error.code }, "move: a follower could not follow the new account");
    }
  }
  const memberships = db.select().from(follows).where(eq(follows.followerId, old.id)).all();
  for (const membership of memberships) {
    const group = localGroupOfActor(db, membership.followingId);
    if (!group) continue;
    db.transaction((tx) => {
      const already = tx.select({ id: follows.id }).from(follows).where(and(eq(follows.followerId, target.id), eq(follows.followingId, membership.followingId))).get();
      if (already) tx.delete(follows).where(eq(follows.id, membership.id)).run();
      else {
        tx.update(follows).set({ followerId: target.id }).where(eq(follows.id, membership.id)).run();
        // The new account's server learns of the membership by an Accept (acceptMovedMembership, there).
        if (!target.local && membership.acceptedAt) followAnswered(tx, true, membership.uri, target, groupActorRow(tx, membership.followingId));
      }
      // Its role goes with it, unless the new account already has one there.
      const hasRole = tx.select({ role: groupRoles.role }).from(groupRoles).where(and(eq(groupRoles.groupId, group.id), eq(groupRoles.actorId, target.id))).get();
      if (!hasRole) tx.update(groupRoles).set({ actorId: target.id }).where(and(eq(groupRoles.groupId, group.id), eq(groupRoles.actorId, old.id))).run();
    });
  }
}

function groupActorRow(db: Db, id: number): ActorRow {
  return db.select().from(actors).where(eq(actors.id, id)).get()!;
}

/** How long after a transfer was accepted a group may still tell us it moved the membership. */
const MOVED_MEMBERSHIP_DAYS = 30;

/** Whether a local account's (without `actorId`: any account's) transfer from another section was accepted in the last MOVED_MEMBERSHIP_DAYS. */
export function recentlyTransferredIn(db: Db, actorId?: number): boolean {
  const since = Date.now() - MOVED_MEMBERSHIP_DAYS * 86_400_000;
  return !!db
    .select({ id: memberTransfers.id })
    .from(memberTransfers)
    .where(and(eq(memberTransfers.direction, "in"), actorId === undefined ? undefined : eq(memberTransfers.actorId, actorId), eq(memberTransfers.status, "accepted"), gt(memberTransfers.decidedAt, since)))
    .get();
}

/**
 * On the new section: a remote group accepts a Follow we never sent, by one
 * of our accounts whose transfer was accepted lately: the group moved the old
 * account's membership to it (followersMoved, on the group's server). Kept as
 * an accepted follow. Anything else (an account without a recent transfer, a
 * sender that is not a group) is ignored: nobody makes our members follow
 * them by sending Accepts.
 */
export function acceptMovedMembership(db: Db, member: ActorRow, group: ActorRow, followUri: string): boolean {
  if (!member.local || group.local || group.type !== "Group" || !recentlyTransferredIn(db, member.id)) return false;
  const inserted = db
    .insert(follows)
    .values({ id: newId(), followerId: member.id, followingId: group.id, uri: followUri, acceptedAt: Date.now() })
    .onConflictDoNothing()
    .run();
  return inserted.changes > 0;
}
