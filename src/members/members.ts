// Local accounts: creation, roles, login, disabling. Every path that creates or
// changes an account (web forms, invitations, the CLI) goes through here.
import { and, asc, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import { UserError } from "../errors.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { actors, ROLES, sessions, users, type AttestedStatus, type Role } from "../storage/schema.ts";
import type { EventBus } from "../events.ts";
import { hashPassword, passwordProblem, verifyPassword } from "./passwords.ts";
import { record } from "../outbox/outbox.ts";

export type User = typeof users.$inferSelect;
export type Actor = typeof actors.$inferSelect;

/** Card-holding roles: everyone but sympathisants. They read section-only posts. */
export const MEMBER_ROLES: readonly Role[] = ["member", "secretary", "moderator", "admin"];

export function isCardHolder(role: Role): boolean {
  return MEMBER_ROLES.includes(role);
}

/** Who runs the section: invitations, roles, disabling accounts. */
export function canManageMembers(role: Role): boolean {
  return role === "secretary" || role === "admin";
}

/** The actors of the active accounts that `canManageMembers` lets run the section. */
export function memberManagerActorIds(db: Db): number[] {
  const roles = ROLES.filter((role) => canManageMembers(role));
  return db.select({ actorId: users.actorId }).from(users).where(and(inArray(users.role, roles), isNull(users.disabledAt))).all().map((r) => r.actorId);
}

/** Usernames that name the instance's own actors or its pages. */
export const INSTANCE_ACTOR_USERNAME = "instance";
const RESERVED = new Set([INSTANCE_ACTOR_USERNAME, "admin", "root", "api", "inbox", "users", "setup", "login", "logout", "invite", "section", "settings", "about", "nodeinfo", "well_known"]);

export function usernameProblem(config: Config, username: string): string | null {
  if (!/^[a-z0-9_]{1,30}$/.test(username)) return "username_invalid";
  // g_<slug> names belong to thematic groups (groups/groups.ts).
  if (RESERVED.has(username) || username === config.handle || username.startsWith("g_")) return "username_reserved";
  return null;
}

export function parseRole(text: string): Role {
  if (!(ROLES as readonly string[]).includes(text)) throw new UserError("role_invalid", 400, { roles: ROLES.join(", ") });
  return text as Role;
}

export interface NewMember {
  username: string;
  displayName?: string;
  password: string;
  role: Role;
}

/**
 * Creates the local Person actor and its account in one transaction.
 * The password is hashed first: scrypt is slow and must not hold the write lock.
 */
export async function createMember(db: Db, config: Config, input: NewMember): Promise<User> {
  const username = input.username.trim().toLowerCase();
  const problem = usernameProblem(config, username) ?? passwordProblem(input.password);
  if (problem) throw new UserError(problem);
  parseRole(input.role);
  const passwordHash = await hashPassword(input.password);
  return createMemberWithHash(db, config, { ...input, username, passwordHash });
}

/** The synchronous half of createMember, for callers that must stay in one transaction. */
export function createMemberWithHash(
  db: Db,
  config: Config,
  input: Omit<NewMember, "password"> & { passwordHash: string },
): User {
  return db.transaction((tx) => {
    const taken = tx.select({ id: users.id }).from(users).where(eq(users.username, input.username)).get();
    // An erased account's name stays taken (its actor row is a tombstone): other servers still know that actor.
    const tombstone = tx.select({ id: actors.id }).from(actors).where(and(eq(actors.username, input.username), eq(actors.local, true))).get();
    if (taken || tombstone) throw new UserError("username_taken");
    const actorId = newId();
    tx.insert(actors)
      .values({
        id: actorId,
        uri: `${config.origin}/users/${input.username}`,
        type: "Person",
        username: input.username,
        domain: new URL(config.origin).host,
        local: true,
        name: input.displayName?.trim() || input.username,
        url: `${config.origin}/@${input.username}`,
        inboxUrl: `${config.origin}/users/${input.username}/inbox`,
        sharedInboxUrl: `${config.origin}/inbox`,
        followersUrl: `${config.origin}/users/${input.username}/followers`,
      })
      .run();
    return tx
      .insert(users)
      .values({ id: newId(), actorId, username: input.username, passwordHash: input.passwordHash, role: input.role })
      .returning()
      .get();
  });
}

export function findUserByUsername(db: Db, username: string): User | undefined {
  return db.select().from(users).where(eq(users.username, username.trim().toLowerCase())).get();
}

export function findUser(db: Db, id: number): User | undefined {
  return db.select().from(users).where(eq(users.id, id)).get();
}

export function countUsers(db: Db): number {
  return db.select({ n: sql<number>`count(*)` }).from(users).get()?.n ?? 0;
}

export function listMembers(db: Db): Array<User & { displayName: string }> {
  return db
    .select({ user: users, displayName: actors.name })
    .from(users)
    .innerJoin(actors, eq(actors.id, users.actorId))
    .orderBy(asc(users.username))
    .all()
    .map((row) => ({ ...row.user, displayName: row.displayName }));
}

/** Names to show for some accounts (display name, else username), by user id: one query for a page's few people. */
export function memberNames(db: Db, userIds: Iterable<number>): Map<number, string> {
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return new Map();
  const rows = db.select({ id: users.id, username: users.username, name: actors.name }).from(users).innerJoin(actors, eq(actors.id, users.actorId)).where(inArray(users.id, ids)).all();
  return new Map(rows.map((r) => [r.id, r.name || r.username]));
}

/**
 * Checks a username and password. The same error for an unknown name and a
 * wrong password, so the form does not tell who has an account.
 */
export async function authenticate(db: Db, username: string, password: string): Promise<User> {
  const user = findUserByUsername(db, username);
  // Hash even when the user does not exist, so timing does not tell either.
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok) throw new UserError("login_failed", 401);
  if (user.disabledAt) throw new UserError("account_disabled", 403);
  // A moved account only says where it went (members/transfer.ts).
  const moved = movedTo(db, user.actorId);
  if (moved) throw new UserError("account_moved", 403, { handle: `@${moved.username}@${moved.domain}` });
  db.update(users).set({ lastLoginAt: Date.now() }).where(eq(users.id, user.id)).run();
  return user;
}
const DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/** `events`: the server's bus, to tell open streaming connections at once (the CLI has none). */
export function setRole(db: Db, username: string, role: Role, events?: EventBus): User {
  const user = requireUser(db, username);
  parseRole(role);
  // Someone must always be able to invite and manage members.
  if (canManageMembers(user.role) && !canManageMembers(role) && countOtherManagers(db, user.id) === 0) {
    throw new UserError("last_manager");
  }
  const changed = db.transaction((tx) => {
    tx.update(users).set({ role }).where(eq(users.id, user.id)).run();
    membershipChanged(tx, user, statusOf(user));
    return tx.select().from(users).where(eq(users.id, user.id)).get()!;
  });
  events?.emit("member.changed", { userId: user.id });
  return changed;
}

/** Disabling logs the person out everywhere; their posts stay, they can no longer log in. */
export function disableMember(db: Db, username: string, events?: EventBus): User {
  const user = requireUser(db, username);
  if (canManageMembers(user.role) && countOtherManagers(db, user.id) === 0) throw new UserError("last_manager");
  const disabled = db.transaction((tx) => {
    tx.delete(sessions).where(eq(sessions.userId, user.id)).run();
    tx.update(users).set({ disabledAt: Date.now() }).where(eq(users.id, user.id)).run();
    membershipChanged(tx, user, statusOf(user));
    return tx.select().from(users).where(eq(users.id, user.id)).get()!;
  });
  events?.emit("member.changed", { userId: user.id });
  return disabled;
}

export function enableMember(db: Db, username: string, events?: EventBus): User {
  const user = requireUser(db, username);
  const enabled = db.transaction((tx) => {
    tx.update(users).set({ disabledAt: null }).where(eq(users.id, user.id)).run();
    membershipChanged(tx, user, statusOf(user));
    return tx.select().from(users).where(eq(users.id, user.id)).get()!;
  });
  events?.emit("member.changed", { userId: user.id });
  return enabled;
}

function requireUser(db: Db, username: string): User {
  const user = findUserByUsername(db, username);
  if (!user) throw new UserError("user_not_found", 404, { username });
  return user;
}

export function countOtherManagers(db: Db, exceptId: number): number {
  return (
    db
      .select({ n: sql<number>`count(*)` })
      .from(users)
      .where(and(inArray(users.role, ["secretary", "admin"]), ne(users.id, exceptId), isNull(users.disabledAt)))
      .get()?.n ?? 0
  );
}

/** The account an actor moved to, if it moved. */
export function movedTo(db: Db, actorId: number): Actor | undefined {
  const row = db.select({ movedToId: actors.movedToId }).from(actors).where(eq(actors.id, actorId)).get();
  return row?.movedToId ? db.select().from(actors).where(eq(actors.id, row.movedToId)).get() : undefined;
}

export function actorOf(db: Db, user: User): Actor {
  const actor = db.select().from(actors).where(eq(actors.id, user.actorId)).get();
  if (!actor) throw new Error(`user ${user.id} has no actor`);
  return actor;
}

/** What a membership attestation (src/party/attestations.ts) says of a local account now. */
export function statusOf(user: Pick<User, "role" | "disabledAt">): AttestedStatus {
  if (user.disabledAt) return "none";
  return isCardHolder(user.role) ? "card_holder" : "sympathisant";
}

/**
 * A member's status changed (role, disabled, enabled): the sequence number
 * goes up, so older attestations lose, and the instances of the remote groups
 * they belong to are told (outbox). Call it in the change's transaction.
 */
export function membershipChanged(db: Db, user: User, before: AttestedStatus): void {
  const after = db.select({ role: users.role, disabledAt: users.disabledAt }).from(users).where(eq(users.id, user.id)).get();
  if (!after || statusOf(after) === before) return;
  db.update(users)
    .set({ membershipSeq: sql`${users.membershipSeq} + 1`, statusSince: Date.now() })
    .where(eq(users.id, user.id))
    .run();
  record(db, { kind: "membership.changed", actorId: user.actorId });
}
