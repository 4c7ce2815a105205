// Figures an instance publishes about itself (NodeInfo, Mastodon's instance
// endpoint). Counts only: never who the members are.
import { and, count, countDistinct, eq, gt } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { actors, posts, users } from "../storage/schema.ts";

export const SOFTWARE_VERSION = "0.1.0";

export function instanceStats(db: Db, now = Date.now()) {
  const monthAgo = now - 30 * 86_400_000;
  return {
    users: db.select({ n: count() }).from(users).get()?.n ?? 0,
    activeMonth: db.select({ n: count() }).from(users).where(gt(users.lastLoginAt, monthAgo)).get()?.n ?? 0,
    localPublicPosts:
      db
        .select({ n: count() })
        .from(posts)
        .innerJoin(actors, eq(actors.id, posts.actorId))
        .where(and(eq(actors.local, true), eq(posts.visibility, "public")))
        .get()?.n ?? 0,
    knownDomains: db.select({ n: countDistinct(actors.domain) }).from(actors).where(eq(actors.local, false)).get()?.n ?? 0,
  };
}
