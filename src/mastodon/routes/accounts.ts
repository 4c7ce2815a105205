// Accounts: the member's own profile, other accounts, follows, blocks, mutes.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { and, desc, eq, inArray, isNotNull, like, lt, or } from "drizzle-orm";
import { UserError } from "../../errors.ts";
import { actorOf, type User } from "../../members/members.ts";
import { updateProfile } from "../../members/profile.ts";
import { actorPosts, viewerOf } from "../../posts/posts.ts";
import { canSee } from "../../posts/visibility.ts";
import { saveUpload, mediaUrl, type Upload } from "../../media/media.ts";
import { lookupActor } from "../../federation/remote.ts";
import type { ActorRow } from "../../federation/actors.ts";
import { answerFollowRequest, findActor, follow, pendingFollowRequests, unfollow } from "../../social/follows.ts";
import { block, filteredActors, mute, relationship, removeFilter } from "../../social/filters.ts";
import type { Services } from "../../services.ts";
import { actors, follows, pins, posts } from "../../storage/schema.ts";
import { optionalUser, requireUser } from "../auth.ts";
import { renderAccount, renderAccounts, renderCredentialAccount, renderRelationship, renderStatuses } from "../entities.ts";
import { bool, idParam, int, list, pageOf, paramsOf, setLinkHeader, str } from "../params.ts";
import { pickLocale } from "../../web/i18n.ts";

type WithId = FastifyRequest<{ Params: { id: string } }>;

export function registerAccountRoutes(api: FastifyInstance, services: Services): void {
  const { db, config } = services;
  const actorById = (id: string): ActorRow => {
    const row = findActor(db, idParam(id, "actor_not_found"));
    if (!row) throw new UserError("actor_not_found", 404);
    return row;
  };
  const relationshipOf = (user: User, target: ActorRow) => renderRelationship(target.id, relationship(db, user, target));

  api.get("/api/v1/accounts/verify_credentials", async (request) => {
    const user = requireUser(services, request, "profile");
    return renderCredentialAccount(services, user, actorOf(db, user));
  });

  api.patch("/api/v1/accounts/update_credentials", async (request) => {
    const user = requireUser(services, request, "write:accounts");
    const params = paramsOf(request);
    const me = actorOf(db, user);
    const image = (key: string) => {
      const file = params[key] as Upload | undefined;
      return file && typeof file === "object" && Buffer.isBuffer((file as { data?: unknown }).data) ? mediaUrl(config.origin, saveUpload(services, me.id, file)) : undefined;
    };
    const actor = await updateProfile(services, user, {
      displayName: str(params, "display_name"),
      bio: str(params, "note"),
      locked: bool(params, "locked"),
      avatarUrl: image("avatar"),
      headerUrl: image("header"),
    });
    return renderCredentialAccount(services, user, actor);
  });

  api.get("/api/v1/accounts/lookup", async (request) => {
    optionalUser(services, request, "read:accounts");
    const acct = str(paramsOf(request), "acct") ?? "";
    const actor = await lookupActor(services, acct);
    if (!actor) throw new UserError("actor_not_found", 404);
    return renderAccount(services, actor);
  });

  api.get("/api/v1/accounts/relationships", async (request) => {
    const user = requireUser(services, request, "read:follows");
    const ids = list(paramsOf(request), "id").map((id) => Number(id)).filter(Number.isSafeInteger);
    const rows = ids.length ? db.select().from(actors).where(inArray(actors.id, ids)).all() : [];
    return rows.map((row) => relationshipOf(user, row));
  });

  api.get("/api/v1/accounts/search", async (request) => {
    const user = requireUser(services, request, "read:accounts");
    const params = paramsOf(request);
    return searchAccounts(services, user, str(params, "q") ?? "", { resolve: bool(params, "resolve") ?? false, limit: int(params, "limit") ?? 40, following: bool(params, "following") ?? false });
  });

  api.get("/api/v1/accounts/:id", async (request: WithId) => {
    optionalUser(services, request, "read:accounts");
    return renderAccount(services, actorById(request.params.id));
  });

  api.get("/api/v1/accounts/:id/statuses", async (request: WithId, reply) => {
    const user = optionalUser(services, request, "read:statuses");
    const params = paramsOf(request);
    const actor = actorById(request.params.id);
    const viewer = viewerOf(user);
    let rows;
    if (bool(params, "pinned")) {
      rows = db
        .select({ post: posts })
        .from(pins)
        .innerJoin(posts, eq(posts.id, pins.postId))
        .where(eq(pins.actorId, actor.id))
        .orderBy(desc(pins.createdAt))
        .all()
        .map((r) => r.post)
        .filter((p) => canSee(db, viewer, p));
    } else {
      rows = actorPosts(db, viewer, actor.id, pageOf(params), {
        excludeReplies: bool(params, "exclude_replies"),
        excludeReblogs: bool(params, "exclude_reblogs"),
        onlyMedia: bool(params, "only_media"),
        tagged: str(params, "tagged"),
      });
      setLinkHeader(request, reply, config.origin, rows.map((r) => r.id));
    }
    return renderStatuses(services, user, rows, pickLocale(request.headers["accept-language"]));
  });

  // Who follows whom is not published (GDPR: following a party account says a
  // political opinion). A member sees their own lists; others see counts only.
  const network = (direction: "followers" | "following") => async (request: WithId, reply: import("fastify").FastifyReply) => {
    const user = optionalUser(services, request, "read:accounts");
    const actor = actorById(request.params.id);
    if (!user || user.actorId !== actor.id) return [];
    const page = pageOf(paramsOf(request), 40, 80);
    const [mine, theirs] = direction === "followers" ? [follows.followingId, follows.followerId] : [follows.followerId, follows.followingId];
    const rows = db
      .select({ actor: actors, followId: follows.id })
      .from(follows)
      .innerJoin(actors, eq(actors.id, theirs))
      .where(and(eq(mine, actor.id), isNotNull(follows.acceptedAt), page.maxId != null ? lt(follows.id, page.maxId) : undefined))
      .orderBy(desc(follows.id))
      .limit(page.limit!)
      .all();
    setLinkHeader(request, reply, config.origin, rows.map((r) => r.followId));
    return renderAccounts(services, rows.map((r) => r.actor));
  };
  api.get("/api/v1/accounts/:id/followers", network("followers"));
  api.get("/api/v1/accounts/:id/following", network("following"));

  api.get("/api/v1/accounts/:id/featured_tags", async () => []);
  api.get("/api/v1/accounts/:id/lists", async (request) => {
    requireUser(services, request, "read:lists");
    return [];
  });

  // Actions on an account answer with the relationship after the action.
  const action = (name: string, scope: string, run: (user: User, target: ActorRow, request: WithId) => unknown) =>
    api.post(`/api/v1/accounts/:id/${name}`, async (request: WithId) => {
      const user = requireUser(services, request, scope);
      const target = actorById(request.params.id);
      await run(user, target, request);
      return relationshipOf(user, target);
    });
  action("follow", "write:follows", (user, target) => follow(services, user, target));
  action("unfollow", "write:follows", (user, target) => unfollow(services, user, target));
  action("remove_from_followers", "write:follows", (user, target) =>
    db.delete(follows).where(and(eq(follows.followerId, target.id), eq(follows.followingId, user.actorId))).run(),
  );
  action("block", "write:blocks", (user, target) => block(services, user, target));
  action("unblock", "write:blocks", (user, target) => removeFilter(db, user, target, "block"));
  action("mute", "write:mutes", (user, target, request) => mute(db, user, target, bool(paramsOf(request), "notifications") ?? true));
  action("unmute", "write:mutes", (user, target) => removeFilter(db, user, target, "mute"));

  api.get("/api/v1/blocks", async (request) => renderAccounts(services, filteredActors(db, requireUser(services, request, "read:blocks"), "block")));
  api.get("/api/v1/mutes", async (request) => renderAccounts(services, filteredActors(db, requireUser(services, request, "read:mutes"), "mute")));

  api.get("/api/v1/follow_requests", async (request) => {
    const user = requireUser(services, request, "read:follows");
    return renderAccounts(services, pendingFollowRequests(db, user.actorId));
  });

  const answer = (accept: boolean) => async (request: WithId) => {
    const user = requireUser(services, request, "write:follows");
    const target = actorById(request.params.id);
    await answerFollowRequest(services, user, target.id, accept);
    return relationshipOf(user, target);
  };
  api.post("/api/v1/follow_requests/:id/authorize", answer(true));
  api.post("/api/v1/follow_requests/:id/reject", answer(false));
}

/** Known accounts by handle or name; a full handle or URL is looked up remotely if asked. */
export async function searchAccounts(services: Services, user: User, q: string, options: { resolve: boolean; limit: number; following?: boolean; offset?: number }) {
  const { db } = services;
  const query = q.trim().replace(/^@/, "");
  if (!query) return [];
  const exact = /@|^https?:\/\//.test(query) ? await lookupActor(services, query, { resolve: options.resolve }) : null;
  const pattern = `%${query.split("@")[0]!.replace(/[%_]/g, "")}%`;
  const rows = db
    .select()
    .from(actors)
    .where(
      and(
        or(like(actors.username, pattern), like(actors.name, pattern)),
        options.following ? inArray(actors.id, db.select({ id: follows.followingId }).from(follows).where(eq(follows.followerId, user.actorId))) : undefined,
      ),
    )
    .limit(Math.min(options.limit, 80))
    .offset(options.offset ?? 0)
    .all();
  const all = exact ? [exact, ...rows.filter((r) => r.id !== exact.id)] : rows;
  return renderAccounts(services, all.slice(0, options.limit));
}
