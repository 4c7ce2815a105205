// What a section's managers (secretaries, admins) do to other accounts from
// the web: the member list with its filters, roles, disabling, invitations
// and password reset links. The rules of who may touch whom live here, so the
// pages only ask; the actions themselves are members.ts's, shared with the CLI.
import { and, asc, desc, eq, gt, isNotNull, isNull, or, sql, type SQL } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { Services } from "../services.ts";
import { fold, type Db } from "../storage/db.ts";
import { actors, invitations, ROLES, users, type Role } from "../storage/schema.ts";
import { canManageMembers, disableMember, enableMember, findUserByUsername, setRole, type User } from "./members.ts";
import { eraseMember } from "./erasure.ts";

/**
 * Roles a manager may give. A secretary runs the section but cannot make an
 * admin (admins run the server); an admin may give every role.
 */
export function assignableRoles(by: User): Role[] {
  if (!canManageMembers(by.role)) return [];
  return by.role === "admin" ? [...ROLES] : ROLES.filter((role) => role !== "admin");
}

/** Whether `by` may change `target`'s account: never one's own (no self-lockout), never an admin's unless admin. */
export function mayManage(by: User, target: Pick<User, "id" | "role">): boolean {
  return canManageMembers(by.role) && by.id !== target.id && (by.role === "admin" || target.role !== "admin");
}

/** The account `by` wants to act on, or a plain refusal. */
export function managedMember(db: Db, by: User, username: string): User {
  const target = findUserByUsername(db, username);
  if (!target) throw new UserError("user_not_found", 404, { username });
  if (!mayManage(by, target)) throw new UserError("member_manage_forbidden", 403);
  return target;
}

/** `events`: open streaming connections re-check the member's rights at once (src/events.ts). */
export function changeRole(db: Db, events: EventBus, by: User, username: string, role: Role): User {
  const target = managedMember(db, by, username);
  if (!assignableRoles(by).includes(role)) throw new UserError("member_role_forbidden", 403);
  return setRole(db, target.username, role, events);
}

export function setDisabled(db: Db, events: EventBus, by: User, username: string, disabled: boolean): User {
  const target = managedMember(db, by, username);
  return disabled ? disableMember(db, target.username, events) : enableMember(db, target.username, events);
}

/** A manager removes an account for good (members/erasure.ts), typing its username again to confirm. */
export function removeMember(services: Services, by: User, username: string, confirm: string): void {
  const target = managedMember(services.db, by, username);
  if (confirm.trim().toLowerCase() !== target.username) throw new UserError("member_erase_confirm", 422);
  eraseMember(services, target);
}

export const MEMBER_STATES = ["active", "disabled"] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

export interface MemberFilter {
  /** Part of the username or display name. */
  q?: string;
  role?: Role;
  state?: MemberState;
}

export interface MemberRow {
  id: number;
  username: string;
  displayName: string;
  role: Role;
  disabledAt: number | null;
  createdAt: number;
  /** Latest of the last login and the last post, if any. */
  lastActiveAt: number | null;
}

/** Rows of one page of the member list: a phone shows them quickly, the search finds the others. */
export const MEMBERS_PAGE = 50;

function memberWhere(filter: MemberFilter): SQL | undefined {
  const where: SQL[] = [];
  // Accents and case aside (fold), so « helene » finds « Hélène » on a phone's keyboard.
  const q = fold(filter.q?.trim().slice(0, 100) ?? "");
  if (q) {
    const pattern = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    // Usernames are [a-z0-9_] already; display names are folded row by row.
    where.push(or(sql`${users.username} like ${pattern} escape '\\'`, sql`fold(${actors.name}) like ${pattern} escape '\\'`)!);
  }
  if (filter.role) where.push(eq(users.role, filter.role));
  if (filter.state === "active") where.push(isNull(users.disabledAt));
  if (filter.state === "disabled") where.push(isNotNull(users.disabledAt));
  return where.length ? and(...where) : undefined;
}

/** The member list, filtered, in username order; at most `limit` rows from `offset` (the CSV takes them all). */
export function findMembers(db: Db, filter: MemberFilter = {}, { limit = 100_000, offset = 0 }: { limit?: number; offset?: number } = {}): MemberRow[] {
  return db
    .select({
      id: users.id,
      username: users.username,
      displayName: actors.name,
      role: users.role,
      disabledAt: users.disabledAt,
      createdAt: users.createdAt,
      // The actor's last post date is a stored counter (migration 0006): no scan of posts.
      lastActiveAt: sql<number | null>`nullif(max(coalesce(${users.lastLoginAt}, 0), coalesce(${actors.lastStatusAt}, 0)), 0)`.mapWith((v) => (v ? Number(v) : null)),
    })
    .from(users)
    .innerJoin(actors, eq(actors.id, users.actorId))
    .where(memberWhere(filter))
    .orderBy(asc(users.username))
    .limit(limit)
    .offset(offset)
    .all();
}

export interface MemberPage {
  rows: MemberRow[];
  /** How many accounts match the filter, on every page. */
  total: number;
  /** 1-based, within 1…pages (a page past the end shows the last one). */
  page: number;
  pages: number;
}

/** One page of the filtered list and the number of accounts it matches. */
export function memberPage(db: Db, filter: MemberFilter, page: number, size = MEMBERS_PAGE): MemberPage {
  const total = db.select({ n: sql<number>`count(*)` }).from(users).innerJoin(actors, eq(actors.id, users.actorId)).where(memberWhere(filter)).get()?.n ?? 0;
  const pages = Math.max(1, Math.ceil(total / size));
  const shown = Math.min(Math.max(1, Math.trunc(page) || 1), pages);
  return { rows: findMembers(db, filter, { limit: size, offset: (shown - 1) * size }), total, page: shown, pages };
}

export interface PendingInvitation {
  id: number;
  role: Role;
  createdAt: number;
  expiresAt: number;
  createdBy: string | null;
}

/** Invitations not used yet and not expired, newest first. */
export function pendingInvitations(db: Db, now = Date.now()): PendingInvitation[] {
  return db
    .select({ id: invitations.id, role: invitations.role, createdAt: invitations.createdAt, expiresAt: invitations.expiresAt, createdBy: users.username })
    .from(invitations)
    .leftJoin(users, eq(users.id, invitations.createdBy))
    .where(and(isNull(invitations.usedAt), gt(invitations.expiresAt, now)))
    .orderBy(desc(invitations.createdAt))
    .all();
}

/** A revoked invitation simply expires now: its link stops working, the record stays. */
export function revokeInvitation(db: Db, by: User, id: number, now = Date.now()): void {
  if (!canManageMembers(by.role)) throw new UserError("error.forbidden", 403);
  const changed = db
    .update(invitations)
    .set({ expiresAt: now })
    .where(and(eq(invitations.id, id), isNull(invitations.usedAt), gt(invitations.expiresAt, now)))
    .run().changes;
  if (changed === 0) throw new UserError("invitation_invalid", 410);
}
