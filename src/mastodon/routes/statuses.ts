// Statuses: posting, editing, deleting, and what members do with a post.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { inArray } from "drizzle-orm";
import { UserError } from "../../errors.ts";
import { bookmark, pin, unbookmark, unpin } from "../../posts/marks.ts";
import {
  createLocalPost,
  deleteLocalPost,
  editLocalPost,
  getVisiblePost,
  likePost,
  likersOf,
  rebloggersOf,
  reblogPost,
  threadOf,
  unlikePost,
  unreblogPost,
  viewerOf,
  type PostRow,
} from "../../posts/posts.ts";
import { canSee } from "../../posts/visibility.ts";
import type { Services } from "../../services.ts";
import { posts, VISIBILITIES, type Visibility } from "../../storage/schema.ts";
import type { User } from "../../members/members.ts";
import { pickLocale } from "../../web/i18n.ts";
import { optionalUser, requireUser } from "../auth.ts";
import { renderAccounts, renderStatus, renderStatuses } from "../entities.ts";
import { bool, idParam, list, paramsOf, pollParam, str, type Params } from "../params.ts";
import type { NewPoll } from "../../polls/polls.ts";
import { duration } from "../../federation/time.ts";

type WithId = FastifyRequest<{ Params: { id: string } }>;

/** Mastodon's visibilities, plus Coopol's own ("section", "federation", "party") and "local" (Hometown's name for "section"). */
export function parseVisibility(value: string | undefined): Visibility {
  if (!value) return "public";
  if (value === "local" || value === "local_only") return "section";
  const known = VISIBILITIES.find((v) => v === value);
  if (known) return known;
  throw new UserError("visibility_invalid", 422);
}

export function registerStatusRoutes(api: FastifyInstance, services: Services): void {
  const { db, kv } = services;
  const locale = (request: FastifyRequest) => pickLocale(request.headers["accept-language"]);
  const render = (request: FastifyRequest, user: User | null, post: PostRow) => renderStatus(services, user, post, locale(request));

  api.post("/api/v1/statuses", async (request) => {
    const user = requireUser(services, request, "write:statuses");
    const params = paramsOf(request);
    // A client retrying after a lost answer must not post twice.
    const idempotency = request.headers["idempotency-key"];
    const key = typeof idempotency === "string" && idempotency ? (["coopol", "idempotency", String(user.id), idempotency] as const) : null;
    if (key) {
      const earlier = await kv.get<number>(key);
      const post = earlier ? db.select().from(posts).where(inArray(posts.id, [earlier])).get() : undefined;
      if (post) return render(request, user, post);
    }
    const inReplyTo = str(params, "in_reply_to_id");
    const post = await createLocalPost(services, user, {
      text: str(params, "status") ?? "",
      visibility: parseVisibility(str(params, "visibility")),
      sympathisants: bool(params, "sympathisants"),
      summary: str(params, "spoiler_text"),
      sensitive: bool(params, "sensitive"),
      language: str(params, "language") ?? null,
      inReplyToId: inReplyTo ? idParam(inReplyTo) : null,
      mediaIds: list(params, "media_ids").map((id) => idParam(id, "media_not_found")),
      poll: pollParam(params),
    });
    if (key) await kv.set(key, post.id, { ttl: duration(3_600_000) });
    return render(request, user, post);
  });

  api.get("/api/v1/statuses", async (request) => {
    const user = optionalUser(services, request, "read:statuses");
    const ids = list(paramsOf(request), "id").map(Number).filter(Number.isSafeInteger);
    const rows = ids.length ? db.select().from(posts).where(inArray(posts.id, ids)).all() : [];
    return renderStatuses(services, user, rows.filter((p) => canSee(db, viewerOf(user), p)), locale(request));
  });

  api.get("/api/v1/statuses/:id", async (request: WithId) => {
    const user = optionalUser(services, request, "read:statuses");
    return render(request, user, getVisiblePost(db, viewerOf(user), idParam(request.params.id)));
  });

  api.delete("/api/v1/statuses/:id", async (request: WithId) => {
    const user = requireUser(services, request, "write:statuses");
    const id = idParam(request.params.id);
    const post = getVisiblePost(db, viewerOf(user), id);
    // Mastodon answers with the deleted status and its source, for "delete and redraft".
    const rendered = render(request, user, post);
    await deleteLocalPost(services, user, id);
    return { ...rendered, text: post.source ?? "" };
  });

  api.put("/api/v1/statuses/:id", async (request: WithId) => {
    const user = requireUser(services, request, "write:statuses");
    const params = paramsOf(request);
    const post = await editLocalPost(services, user, idParam(request.params.id), {
      text: str(params, "status") ?? "",
      summary: str(params, "spoiler_text"),
      // Without a poll the post keeps its own (Coopol's choice; Mastodon would remove it).
      poll: pollParam(params),
    });
    return render(request, user, post);
  });

  api.get("/api/v1/statuses/:id/source", async (request: WithId) => {
    const user = requireUser(services, request, "read:statuses");
    const post = getVisiblePost(db, viewerOf(user), idParam(request.params.id));
    if (post.actorId !== user.actorId) throw new UserError("post_not_found", 404);
    return { id: String(post.id), text: post.source ?? "", spoiler_text: post.summary };
  });

  api.get("/api/v1/statuses/:id/history", async (request: WithId) => {
    const user = optionalUser(services, request, "read:statuses");
    const status = render(request, user, getVisiblePost(db, viewerOf(user), idParam(request.params.id)));
    // Only the current version is kept.
    return [{ content: status.content, spoiler_text: status.spoiler_text, sensitive: status.sensitive, created_at: status.edited_at ?? status.created_at, account: status.account, media_attachments: status.media_attachments, emojis: [] }];
  });

  api.get("/api/v1/statuses/:id/context", async (request: WithId) => {
    const user = optionalUser(services, request, "read:statuses");
    const { ancestors, descendants } = threadOf(db, viewerOf(user), idParam(request.params.id));
    return { ancestors: renderStatuses(services, user, ancestors, locale(request)), descendants: renderStatuses(services, user, descendants, locale(request)) };
  });

  api.get("/api/v1/statuses/:id/favourited_by", async (request: WithId) => {
    const user = optionalUser(services, request, "read:accounts");
    return renderAccounts(services, likersOf(db, viewerOf(user), idParam(request.params.id)));
  });

  api.get("/api/v1/statuses/:id/reblogged_by", async (request: WithId) => {
    const user = optionalUser(services, request, "read:accounts");
    return renderAccounts(services, rebloggersOf(db, viewerOf(user), idParam(request.params.id)));
  });

  const action = (scope: string, run: (user: User, id: number) => Promise<unknown> | unknown) => async (request: WithId) => {
    const user = requireUser(services, request, scope);
    const id = idParam(request.params.id);
    await run(user, id);
    return render(request, user, getVisiblePost(db, viewerOf(user), id));
  };
  api.post("/api/v1/statuses/:id/favourite", action("write:favourites", (user, id) => likePost(services, user, id)));
  api.post("/api/v1/statuses/:id/unfavourite", action("write:favourites", (user, id) => unlikePost(services, user, id)));
  api.post("/api/v1/statuses/:id/bookmark", action("write:bookmarks", (user, id) => bookmark(db, user, id)));
  api.post("/api/v1/statuses/:id/unbookmark", action("write:bookmarks", (user, id) => unbookmark(db, user, id)));
  api.post("/api/v1/statuses/:id/pin", action("write:accounts", (user, id) => pin(db, user, id)));
  api.post("/api/v1/statuses/:id/unpin", action("write:accounts", (user, id) => unpin(db, user, id)));
  api.post("/api/v1/statuses/:id/unreblog", action("write:statuses", (user, id) => unreblogPost(services, user, id)));
  // A reblog answers with the new boost wrapping the original.
  api.post("/api/v1/statuses/:id/reblog", async (request: WithId) => {
    const user = requireUser(services, request, "write:statuses");
    return render(request, user, await reblogPost(services, user, idParam(request.params.id)));
  });
  api.post("/api/v1/statuses/:id/mute", action("write:mutes", () => null));
  api.post("/api/v1/statuses/:id/unmute", action("write:mutes", () => null));
}
