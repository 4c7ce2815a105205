// Search v2: accounts, statuses and hashtags; a full handle or a URL is looked
// up on its server when the client asks to resolve it.
import type { FastifyInstance } from "fastify";
import { and, desc, eq, like, sql } from "drizzle-orm";
import { lookupActor } from "../../federation/remote.ts";
import { resolveNote } from "../../federation/notes.ts";
import { context } from "../../federation/context.ts";
import { findPostByUri, viewerOf } from "../../posts/posts.ts";
import { canSee, visibleTo } from "../../posts/visibility.ts";
import type { Services } from "../../services.ts";
import { posts, postTags } from "../../storage/schema.ts";
import { tagUrl } from "../../federation/convert.ts";
import { pickLocale } from "../../web/i18n.ts";
import { requireUser } from "../auth.ts";
import { renderStatuses } from "../entities.ts";
import { bool, int, paramsOf, str } from "../params.ts";
import { searchAccounts } from "./accounts.ts";

export function registerSearchRoutes(api: FastifyInstance, services: Services): void {
  const { db, config } = services;

  api.get("/api/v2/search", async (request) => {
    const user = requireUser(services, request, "read:search");
    const params = paramsOf(request);
    const q = (str(params, "q") ?? "").trim();
    const type = str(params, "type");
    const resolve = bool(params, "resolve") ?? false;
    const limit = Math.min(int(params, "limit") ?? 20, 40);
    const offset = int(params, "offset") ?? 0;
    const viewer = viewerOf(user);
    const result = { accounts: [] as unknown[], statuses: [] as unknown[], hashtags: [] as unknown[] };
    if (!q) return result;

    if (!type || type === "accounts") {
      // A post's URL is not an account: try accounts only for handles, names and profile URLs.
      result.accounts = await searchAccounts(services, user, q, { resolve, limit, offset });
    }
    if (!type || type === "statuses") {
      let rows;
      if (/^https?:\/\//.test(q)) {
        const post = findPostByUri(db, q) ?? (resolve ? await resolveNote(context(services), new URL(q)).catch(() => null) : null);
        rows = post && canSee(db, viewer, post) ? [post] : [];
      } else {
        const pattern = `%${q.replace(/[%_]/g, "")}%`;
        rows = db.select().from(posts).where(and(visibleTo(viewer), like(posts.content, pattern), sql`${posts.reblogOfId} is null`)).orderBy(desc(posts.id)).limit(limit).offset(offset).all();
      }
      result.statuses = renderStatuses(services, user, rows, pickLocale(request.headers["accept-language"]));
    }
    if (!type || type === "hashtags") {
      const name = q.replace(/^#/, "").toLowerCase().replace(/[%_]/g, "");
      if (name && !/^https?:/.test(q)) {
        // Only tags of posts the viewer may read: a tag can say what a section-only or private post is about.
        const tags = db
          .selectDistinct({ tag: postTags.tag })
          .from(postTags)
          .innerJoin(posts, eq(posts.id, postTags.postId))
          .where(and(like(postTags.tag, `${name}%`), visibleTo(viewer)))
          .limit(limit)
          .offset(offset)
          .all();
        result.hashtags = tags.map((t) => ({ name: t.tag, url: tagUrl(config.origin, t.tag), history: [], following: false }));
      }
    }
    return result;
  });
}
