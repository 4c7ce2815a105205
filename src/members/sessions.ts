// Browser sessions: a random token in an HttpOnly, SameSite=Lax cookie; the
// database keeps only its hash and an expiry.
import { and, eq, gt } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { sessions, users } from "../storage/schema.ts";
import { hashToken, newToken } from "../storage/tokens.ts";
import type { User } from "./members.ts";

export const SESSION_COOKIE = "coopol_session";
export const SESSION_DAYS = 30;

export function createSession(db: Db, userId: number, now = Date.now()): string {
  const token = newToken();
  db.insert(sessions)
    .values({ tokenHash: hashToken(token), userId, createdAt: now, expiresAt: now + SESSION_DAYS * 86_400_000 })
    .run();
  return token;
}

/** The logged-in user for a cookie value, or null if unknown, expired or disabled. */
export function sessionUser(db: Db, token: string | undefined, now = Date.now()): User | null {
  if (!token) return null;
  const row = db
    .select({ user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, hashToken(token)), gt(sessions.expiresAt, now)))
    .get();
  if (!row || row.user.disabledAt) return null;
  return row.user;
}

export function destroySession(db: Db, token: string): void {
  db.delete(sessions).where(eq(sessions.tokenHash, hashToken(token))).run();
}
