// Mastodon's streaming API over WebSocket: new posts, edits, deletions and
// notifications pushed as they happen. Every message is checked against the
// same visibility rule as the timelines before it is sent.
//
// A connection lives for hours, its rights may not: before a message goes out
// the token and its member are read again (always for anything but public and
// unlisted posts, at most every RECHECK_MS otherwise), at once on the
// `member.changed` and `token.revoked` events of this process, and every
// SWEEP_MS for connections that receive nothing (changes made with the CLI,
// another process, have no event here). A revoked token or a disabled member
// closes the connection (1008, policy violation); so does a changed role: the
// app reconnects and gets the rights of the new role.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { and, eq } from "drizzle-orm";
import { bearer, type Bearer } from "../../oauth/oauth.ts";
import { hasScope } from "../../oauth/scopes.ts";
import type { User } from "../../members/members.ts";
import { viewerOf, type PostRow } from "../../posts/posts.ts";
import { canSee } from "../../posts/visibility.ts";
import { isPartyAudience } from "../../party/audiences.ts";
import type { Services } from "../../services.ts";
import { actorFilters, actors, postTags, timelineEntries } from "../../storage/schema.ts";
import { isMastodonType, type NotificationRow } from "../../notifications/notifications.ts";
import { pickLocale } from "../../web/i18n.ts";
import { renderNotifications, renderStatus } from "../entities.ts";
import { tokenOf } from "../auth.ts";
import { SECTION_LIST_ID } from "./timelines.ts";

/** A subscription as Mastodon names it in messages: ["hashtag", "tag"], ["user"]… */
type Stream = string[];

/** How old a check of the token may be for a public post; members-only ones are always checked afresh. */
const RECHECK_MS = 5_000;
/** How often an idle connection checks that it may stay open. */
const SWEEP_MS = 15_000;
/** WebSocket close code "policy violation" (RFC 6455 §7.4.1): the connection's rights are gone. */
const CLOSE_POLICY = 1008;

const PUBLIC_STREAMS = ["public", "public:local", "public:remote", "public:media", "public:local:media", "hashtag", "hashtag:local"];

export function registerStreaming(api: FastifyInstance, services: Services): void {
  const { db } = services;

  api.get("/api/v1/streaming/health", async (_request, reply) => reply.type("text/plain").send("OK"));

  api.get("/api/v1/streaming", { websocket: true }, (socket: WebSocket, request: FastifyRequest) => {
    // Token: query string, Authorization header, or the WebSocket subprotocol.
    const protocol = request.headers["sec-websocket-protocol"]?.split(",")[0]?.trim();
    const token = tokenOf(request) ?? protocol ?? null;
    const auth = token ? bearer(db, token) : null;
    if (token && !auth) {
      socket.send(JSON.stringify({ error: "Invalid access token" }));
      socket.close(4001, "Invalid access token");
      return;
    }
    const user: User | null = auth?.user && hasScope(auth.token.scopes.split(" "), "read:statuses") ? auth.user : null;
    let closed = false;
    let checkedAt = Date.now();
    const locale = pickLocale(request.headers["accept-language"]);
    const streams = new Map<string, Stream>();

    const send = (stream: Stream, event: string, payload: unknown) => {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(JSON.stringify({ stream, event, payload: typeof payload === "string" ? payload : JSON.stringify(payload) }));
    };

    const subscribe = (name: string, params: Record<string, unknown>) => {
      if (!PUBLIC_STREAMS.includes(name) && !user) {
        socket.send(JSON.stringify({ error: "Missing access token" }));
        return;
      }
      const stream: Stream = name.startsWith("hashtag") ? [name, String(params.tag ?? "").toLowerCase()] : name === "list" ? [name, String(params.list ?? "")] : [name];
      streams.set(stream.join("\u0000"), stream);
    };

    const url = new URL(request.url, services.config.origin);
    const initial = url.searchParams.get("stream");
    if (initial) subscribe(initial, { tag: url.searchParams.get("tag"), list: url.searchParams.get("list") });

    socket.on("message", (data) => {
      let message: { type?: string; stream?: string; tag?: string; list?: string };
      try {
        message = JSON.parse(String(data));
      } catch {
        socket.send(JSON.stringify({ error: "Malformed JSON" }));
        return;
      }
      if (!message.stream) return;
      if (message.type === "subscribe") subscribe(message.stream, message);
      else if (message.type === "unsubscribe") {
        for (const [key, stream] of streams) if (stream[0] === message.stream) streams.delete(key);
      }
    });

    const viewer = viewerOf(user);
    const hasTag = (post: PostRow, tag: string) => !!db.select().from(postTags).where(and(eq(postTags.postId, post.id), eq(postTags.tag, tag))).get();
    const isLocal = (post: PostRow) => !!db.select({ local: actors.local }).from(actors).where(eq(actors.id, post.actorId)).get()?.local;
    const filtered = (post: PostRow) =>
      !!user && !!db.select().from(actorFilters).where(and(eq(actorFilters.userId, user.id), eq(actorFilters.targetId, post.actorId))).get();

    /** The streams a post belongs to, for this connection. */
    const streamsFor = (post: PostRow): Stream[] => {
      if (!canSee(db, viewer, post) || filtered(post)) return [];
      const out: Stream[] = [];
      for (const stream of streams.values()) {
        const [name, arg] = stream;
        if (name === "user" && user && db.select().from(timelineEntries).where(and(eq(timelineEntries.userId, user.id), eq(timelineEntries.postId, post.id))).get()) out.push(stream);
        else if (name!.startsWith("public") && post.visibility === "public" && !post.reblogOfId) {
          if (name!.includes(":local") && !isLocal(post)) continue;
          if (name!.includes(":remote") && isLocal(post)) continue;
          out.push(stream);
        } else if (name!.startsWith("hashtag") && post.visibility === "public" && arg && hasTag(post, arg)) {
          if (name === "hashtag:local" && !isLocal(post)) continue;
          out.push(stream);
        } else if (name === "list" && arg === SECTION_LIST_ID && (post.visibility === "section" || isPartyAudience(post.visibility))) out.push(stream);
        else if (name === "direct" && post.visibility === "direct") out.push(stream);
      }
      return out;
    };

    // Listeners run inside the code that stored the post: they must never throw.
    const guarded = <T>(run: (value: T) => void) => (value: T) => {
      try {
        run(value);
      } catch (error) {
        services.log.error({ err: error }, "streaming message failed");
      }
    };
    /** Whether the connection may still receive a message; if not, it is closed. */
    const rightsHold = (fresh: boolean): boolean => {
      if (closed) return false;
      if (!token || !auth) return true;
      const now = Date.now();
      if (!fresh && now - checkedAt < RECHECK_MS) return true;
      checkedAt = now;
      const current: Bearer | null = bearer(db, token, now);
      if (!current) return end("Access token revoked or account disabled");
      if (current.user?.role !== auth.user?.role) return end("Role changed: reconnect");
      return true;
    };
    const membersOnly = (post: PostRow) => post.visibility !== "public" && post.visibility !== "unlisted";

    const onPost = (event: string) =>
      guarded((post: PostRow) => {
        const targets = streamsFor(post);
        // Checked once a message is due: only connections that would receive the post pay for it.
        if (targets.length === 0 || !rightsHold(membersOnly(post))) return;
        const payload = renderStatus(services, user, post, locale);
        for (const stream of targets) send(stream, event, payload);
      });
    const onCreated = onPost("update");
    const onUpdated = onPost("status.update");
    const onDeleted = guarded((post: PostRow) => {
      // Only an id: enough for clients to drop it, nothing to leak.
      if (post.visibility !== "public" && post.visibility !== "unlisted" && post.actorId !== user?.actorId) return;
      if (streams.size === 0 || !rightsHold(false)) return;
      for (const stream of streams.values()) send(stream, "delete", String(post.id));
    });
    const onNotification = guarded((row: NotificationRow) => {
      // Coopol's own types (coopol.rsvp.*) stay on the web page: apps would not know them.
      if (!user || row.userId !== user.id || !isMastodonType(row.type) || !rightsHold(true)) return;
      const stream = [...streams.values()].find((s) => s[0] === "user" || s[0] === "user:notification");
      if (stream) send(stream, "notification", renderNotifications(services, user, [row], locale)[0]);
    });

    const onMemberChanged = guarded(({ userId }: { userId: number }) => {
      if (userId === auth?.user?.id) rightsHold(true);
    });
    const onTokenRevoked = guarded(({ tokenIds }: { tokenIds: number[] }) => {
      if (auth && tokenIds.includes(auth.token.id)) end("Access token revoked");
    });
    const sweep = setInterval(guarded(() => rightsHold(true)), SWEEP_MS);
    sweep.unref();

    services.events.on("post.created", onCreated);
    services.events.on("post.updated", onUpdated);
    services.events.on("post.deleted", onDeleted);
    services.events.on("notification.created", onNotification);
    services.events.on("member.changed", onMemberChanged);
    services.events.on("token.revoked", onTokenRevoked);
    const stopListening = () => {
      clearInterval(sweep);
      services.events.off("post.created", onCreated);
      services.events.off("post.updated", onUpdated);
      services.events.off("post.deleted", onDeleted);
      services.events.off("notification.created", onNotification);
      services.events.off("member.changed", onMemberChanged);
      services.events.off("token.revoked", onTokenRevoked);
    };
    /** Closes the connection for good: nothing more is sent, even before the client answers the close. */
    function end(reason: string): false {
      if (!closed) {
        closed = true;
        stopListening();
        socket.close(CLOSE_POLICY, reason);
      }
      return false;
    }
    socket.on("close", () => {
      closed = true;
      stopListening();
    });
  });
}
