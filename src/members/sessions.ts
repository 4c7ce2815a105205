// Browser sessions: a random token in an HttpOnly, SameSite=Lax cookie; the
// database keeps only its hash and an expiry.
import { eq, sql } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { preparedOnce } from "../storage/prepared.ts";
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

// Every web request reads its session: built once (storage/prepared.ts). The
// session is a subquery, not a join: SQLite ran the join several times slower
// (docs/performance.md, the pages benchmark).
const sessionUserQuery = preparedOnce((db) =>
  db
    .select()
    .from(users)
    .where(eq(users.id, sql`(select ${sessions.userId} from ${sessions} where ${sessions.tokenHash} = ${sql.placeholder("tokenHash")} and ${sessions.expiresAt} > ${sql.placeholder("now")})`))
    .prepare(),
);

/** The logged-in user for a cookie value, or null if unknown, expired or disabled. */
export function sessionUser(db: Db, token: string | undefined, now = Date.now()): User | null {
  if (!token) return null;
  const user = sessionUserQuery(db).get({ tokenHash: hashToken(token), now });
  if (!user || user.disabledAt) return null;
  return user;
}

export function destroySession(db: Db, token: string): void {
  db.delete(sessions).where(eq(sessions.tokenHash, hashToken(token))).run();
}
