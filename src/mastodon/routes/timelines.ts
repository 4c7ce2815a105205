// Timelines: home, public, hashtag, the section (offered to apps as a list),
// bookmarks, favourites and direct conversations.
import { silencedDomains } from "../../party/modes.ts";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { and, desc, eq, inArray, lt } from "drizzle-orm";
import { UserError } from "../../errors.ts";
import { homeTimeline, localTimeline, sectionTimeline, viewerOf, type PostRow } from "../../posts/posts.ts";
import { visibleTo } from "../../posts/visibility.ts";
import type { Services } from "../../services.ts";
import { actors, bookmarks, likes, mentions, posts } from "../../storage/schema.ts";
import { pickLocale } from "../../web/i18n.ts";
import type { User } from "../../members/members.ts";
import { optionalUser, requireUser } from "../auth.ts";
import { renderAccounts, renderStatuses } from "../entities.ts";
import { bool, pageOf, paramsOf, setLinkHeader } from "../params.ts";

/** The id of the section's timeline when apps see it as a list. */
export const SECTION_LIST_ID = "section";

export function registerTimelineRoutes(api: FastifyInstance, services: Services): void {
  const { db, config } = services;
  const respond = (request: FastifyRequest, reply: FastifyReply, user: User | null, rows: PostRow[], pageIds: number[] = rows.map((r) => r.id)) => {
    setLinkHeader(request, reply, config.origin, pageIds);
    return renderStatuses(services, user, rows, pickLocale(request.headers["accept-language"]));
  };

  api.get("/api/v1/timelines/home", async (request, reply) => {
    const user = requireUser(services, request, "read:statuses");
    return respond(request, reply, user, homeTimeline(db, user, pageOf(paramsOf(request))));
  });

  api.get("/api/v1/timelines/public", async (request, reply) => {
    const user = optionalUser(services, request, "read:statuses");
    const params = paramsOf(request);
    const rows = localTimeline(db, viewerOf(user), pageOf(params), { local: bool(params, "local"), remote: bool(params, "remote"), onlyMedia: bool(params, "only_media"), silenced: silencedDomains(services) });
    return respond(request, reply, user, rows);
  });

  api.get("/api/v1/timelines/tag/:tag", async (request: FastifyRequest<{ Params: { tag: string } }>, reply) => {
    const user = optionalUser(services, request, "read:statuses");
    const params = paramsOf(request);
    const rows = localTimeline(db, viewerOf(user), pageOf(params), { tag: request.params.tag, local: bool(params, "local"), remote: bool(params, "remote"), onlyMedia: bool(params, "only_media"), silenced: silencedDomains(services) });
    return respond(request, reply, user, rows);
  });

  api.get("/api/v1/timelines/list/:id", async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const user = requireUser(services, request, "read:lists");
    if (request.params.id !== SECTION_LIST_ID) throw new UserError("api_not_found", 404);
    return respond(request, reply, user, sectionTimeline(db, viewerOf(user), pageOf(paramsOf(request))));
  });

  api.get("/api/v1/lists/:id", async (request: FastifyRequest<{ Params: { id: string } }>) => {
    requireUser(services, request, "read:lists");
    if (request.params.id !== SECTION_LIST_ID) throw new UserError("api_not_found", 404);
    return { id: SECTION_LIST_ID, title: config.name, replies_policy: "list", exclusive: false };
  });

  api.get("/api/v1/bookmarks", async (request, reply) => {
    const user = requireUser(services, request, "read:bookmarks");
    const page = pageOf(paramsOf(request));
    const rows = db
      .select({ post: posts })
      .from(bookmarks)
      .innerJoin(posts, eq(posts.id, bookmarks.postId))
      .where(and(eq(bookmarks.userId, user.id), visibleTo(viewerOf(user)), page.maxId != null ? lt(posts.id, page.maxId) : undefined))
      .orderBy(desc(posts.id))
      .limit(page.limit!)
      .all()
      .map((r) => r.post);
    return respond(request, reply, user, rows);
  });

  api.get("/api/v1/favourites", async (request, reply) => {
    const user = requireUser(services, request, "read:favourites");
    const page = pageOf(paramsOf(request));
    const rows = db
      .select({ post: posts, likeId: likes.id })
      .from(likes)
      .innerJoin(posts, eq(posts.id, likes.postId))
      .where(and(eq(likes.actorId, user.actorId), visibleTo(viewerOf(user)), page.maxId != null ? lt(likes.id, page.maxId) : undefined))
      .orderBy(desc(likes.id))
      .limit(page.limit!)
      .all();
    return respond(request, reply, user, rows.map((r) => r.post), rows.map((r) => r.likeId));
  });

  // Direct messages, one conversation per set of participants, newest first.
  api.get("/api/v1/conversations", async (request, reply) => {
    const user = requireUser(services, request, "read:statuses");
    const page = pageOf(paramsOf(request));
    const rows = db
      .select()
      .from(posts)
      .where(and(eq(posts.visibility, "direct"), visibleTo(viewerOf(user)), page.maxId != null ? lt(posts.id, page.maxId) : undefined))
      .orderBy(desc(posts.id))
      .limit(200)
      .all();
    const conversations = new Map<string, { last: PostRow; others: number[] }>();
    for (const post of rows) {
      const people = db.select({ id: mentions.actorId }).from(mentions).where(eq(mentions.postId, post.id)).all().map((m) => m.id);
      const others = [...new Set([post.actorId, ...people])].filter((id) => id !== user.actorId).sort((a, b) => a - b);
      const key = others.join(",");
      if (!conversations.has(key)) conversations.set(key, { last: post, others });
      if (conversations.size >= page.limit!) break;
    }
    const list = [...conversations.values()];
    setLinkHeader(request, reply, config.origin, list.map((c) => c.last.id));
    const statuses = renderStatuses(services, user, list.map((c) => c.last), pickLocale(request.headers["accept-language"]));
    return list.map((c, i) => ({
      id: String(c.last.id),
      unread: false,
      accounts: renderAccounts(services, c.others.length ? db.select().from(actors).where(inArray(actors.id, c.others)).all() : []),
      last_status: statuses[i],
    }));
  });
}
