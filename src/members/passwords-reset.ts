// Changing a password, and one-time reset links: made by a secretary for a
// member who forgot theirs (like an invitation), or sent by e-mail from
// "forgot my password" when SMTP is configured. Nobody has to be disabled and
// invited again under a new name. A link is kept as a hash in the instance's
// expiring key-value store (no table: it lives 48 hours and is used once).
import type { KvKey, KvStore } from "@fedify/fedify";
import { and, eq, ne, sql } from "drizzle-orm";
import type { Config } from "../config.ts";
import { duration } from "../federation/time.ts";
import { UserError } from "../errors.ts";
import type { Db } from "../storage/db.ts";
import { sessions, users } from "../storage/schema.ts";
import { hashToken, newToken } from "../storage/tokens.ts";
import { findUser, type User } from "./members.ts";
import { hashPassword, passwordProblem, verifyPassword } from "./passwords.ts";

export const RESET_HOURS = 48;

const keyOf = (token: string): KvKey => ["coopol", "password-reset", hashToken(token)] as const;

export interface ResetLink {
  url: string;
  expiresAt: number;
}

/** A new one-time link that lets `target` choose a new password. */
export async function createResetLink(kv: KvStore, config: Config, target: User, now = Date.now()): Promise<ResetLink> {
  const token = newToken();
  const expiresAt = now + RESET_HOURS * 3_600_000;
  await kv.set(keyOf(token), { userId: target.id, expiresAt }, { ttl: duration(RESET_HOURS * 3_600_000) });
  return { url: `${config.origin}/password/reset/${token}`, expiresAt };
}

/** Whose password a link resets, if it is still valid and the account is active. */
export async function resetLinkUser(db: Db, kv: KvStore, token: string, now = Date.now()): Promise<User | null> {
  const entry = await kv.get<{ userId: number; expiresAt: number }>(keyOf(token));
  if (!entry || entry.expiresAt <= now) return null;
  const user = findUser(db, entry.userId);
  return user && !user.disabledAt ? user : null;
}

/** Sets the new password, spends the link and logs the account out everywhere. */
export async function resetPassword(db: Db, kv: KvStore, token: string, password: string): Promise<User> {
  const user = await resetLinkUser(db, kv, token);
  if (!user) throw new UserError("password_reset_invalid", 410);
  const problem = passwordProblem(password);
  if (problem) throw new UserError(problem, 422);
  const passwordHash = await hashPassword(password);
  // Spent before the change: two submissions of one link cannot both succeed.
  if (!(await resetLinkUser(db, kv, token))) throw new UserError("password_reset_invalid", 410);
  await kv.delete(keyOf(token));
  db.transaction((tx) => {
    tx.update(users).set({ passwordHash }).where(eq(users.id, user.id)).run();
    tx.delete(sessions).where(eq(sessions.userId, user.id)).run();
  });
  return user;
}

/** A member changes their own password; their other browsers are logged out. */
export async function changePassword(db: Db, user: User, current: string, next: string, keepSessionHash?: string): Promise<void> {
  if (!(await verifyPassword(current, user.passwordHash))) throw new UserError("password_current_wrong", 422);
  const problem = passwordProblem(next);
  if (problem) throw new UserError(problem, 422);
  const passwordHash = await hashPassword(next);
  db.transaction((tx) => {
    tx.update(users).set({ passwordHash }).where(eq(users.id, user.id)).run();
    tx.delete(sessions)
      .where(keepSessionHash ? and(eq(sessions.userId, user.id), ne(sessions.tokenHash, keepSessionHash)) : eq(sessions.userId, user.id))
      .run();
  });
}

/** The active account a "forgot my password" form names (by username or e-mail), if it has an address. */
export function accountForReset(db: Db, identifier: string): User | null {
  const text = identifier.trim().toLowerCase().slice(0, 254);
  if (!text) return null;
  const user = db
    .select()
    .from(users)
    .where(text.includes("@") ? sql`lower(${users.email}) = ${text}` : eq(users.username, text))
    .get();
  return user && !user.disabledAt && user.email ? user : null;
}
