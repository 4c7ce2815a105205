// Builds the Fedify federation: actors, collections, objects, NodeInfo and the
// inbox, on the instance's SQLite key–value store and persistent queue.
import { createExponentialBackoffPolicy, createFederation, type CircuitBreakerOptions, type Federation, type RetryPolicy } from "@fedify/fedify";
import { Announce, Create, Object as APObject, PUBLIC_COLLECTION } from "@fedify/vocab";
import { and, count, desc, eq, gt, isNotNull, lt } from "drizzle-orm";
import type { Logger } from "pino";
import type { Config } from "../config.ts";
import type { Services } from "../services.ts";
import { actors, follows, groupPosts, posts, users } from "../storage/schema.ts";
import { localGroupOfActor, type GroupRow } from "../groups/groups.ts";
import { publicGroupPosts } from "../groups/discussion.ts";
import type { ActorRow } from "./actors.ts";
import { canSee, type Viewer } from "../posts/visibility.ts";
import { inAudience, isPartyAudience } from "../party/audiences.ts";
import { findLocalActor } from "./actors.ts";
import { registerActors } from "./actor-documents.ts";
import { NOTE_PATH, noteFromPost } from "./convert.ts";
import { registerInbox } from "./inbox/index.ts";
import { rememberParsedKeys } from "./key-cache.ts";
import { reuseDocumentLoaders } from "./loaders.ts";
import type { SqliteKvStore } from "./kv.ts";
import type { SqliteMessageQueue } from "./queue.ts";
import { duration, instant } from "./time.ts";
import { instanceStats, SOFTWARE_VERSION } from "../members/stats.ts";

const PAGE_SIZE = 20;

/** How long an outgoing delivery is retried before it is given up: two days, as Mastodon roughly does. */
export const DELIVERY_RETRY_HOURS = 48;

/**
 * Outgoing deliveries: exponential back-off (1 s, doubling, with Fedify's
 * jitter of ×1 to ×2, at most 6 h between two attempts), retried until 48 h
 * have passed since the first attempt; the last attempt comes at the 48th hour.
 * Fedify's default (10 attempts, 12 h cap) gives up after 17 to 34 minutes.
 */
export function deliveryRetryPolicy(hours = DELIVERY_RETRY_HOURS): RetryPolicy {
  const backoff = createExponentialBackoffPolicy({
    initialDelay: { seconds: 1 },
    factor: 2,
    maxDelay: { hours: 6 },
    // Never reached: the time window below ends the retries first (after about 20 attempts).
    maxAttempts: 100,
  });
  const windowMs = hours * 3_600_000;
  return (context) => {
    const leftMs = windowMs - context.elapsedTime.total({ unit: "millisecond" });
    if (leftMs <= 0) return null;
    const delay = backoff(context);
    if (!delay) return null;
    return delay.total({ unit: "millisecond" }) > leftMs ? duration(Math.ceil(leftMs)) : delay;
  };
}

/**
 * Fedify's per-host circuit breaker, with its defaults except the lifetime of
 * held deliveries, brought in line with the retry window: after 5 failures
 * within 10 minutes a host's deliveries are held, a probe is sent after 30
 * minutes, and held deliveries are dropped 48 h after they were first held.
 */
function circuitBreaker(log: Logger | undefined): CircuitBreakerOptions {
  return {
    failureThreshold: 5,
    failureWindow: { minutes: 10 },
    recoveryDelay: { minutes: 30 },
    heldActivityTtl: { hours: DELIVERY_RETRY_HOURS },
    onStateChange(host, previous, next) {
      if (next === "open") log?.warn({ host, previous }, "delivery: host unreachable, its deliveries are held (circuit open)");
      else log?.info({ host, previous, state: next }, "delivery: circuit state changed");
    },
    onActivityDrop(host, drop) {
      log?.warn(
        { host, inbox: drop.inbox.href, activityId: drop.activityId, activityType: drop.activityType, heldSince: drop.heldSince.toString() },
        "delivery: given up, host unreachable for too long",
      );
    },
  };
}

export function buildFederation(config: Config, kv: SqliteKvStore, queue: SqliteMessageQueue, log?: Logger): Federation<Services> {
  const federation = createFederation<Services>({
    kv,
    queue,
    origin: config.origin,
    // The queue is started by the instance once its services exist (app.ts).
    manuallyStartQueue: true,
    allowPrivateAddress: config.allowPrivateAddress,
    userAgent: { software: `Coopol/${SOFTWARE_VERSION}`, url: new URL(config.origin) },
    outboxRetryPolicy: deliveryRetryPolicy(),
    // Incoming activities whose handler failed: Fedify's default, written out
    // (10 attempts from 1 s, doubling: given up after 17 to 34 minutes).
    inboxRetryPolicy: createExponentialBackoffPolicy({ initialDelay: { seconds: 1 }, factor: 2, maxDelay: { hours: 12 }, maxAttempts: 10 }),
    circuitBreaker: circuitBreaker(log),
  });
  reuseDocumentLoaders(federation);
  rememberParsedKeys();
  registerActors(federation);
  registerCollections(federation);
  registerObjects(federation);
  registerInbox(federation);
  federation.setNodeInfoDispatcher("/nodeinfo/2.1", (ctx) => {
    const stats = instanceStats(ctx.data.db);
    return {
      software: { name: "coopol", version: SOFTWARE_VERSION, homepage: new URL("/about", config.origin) },
      protocols: ["activitypub"],
      openRegistrations: false,
      usage: { users: { total: stats.users, activeMonth: stats.activeMonth }, localPosts: stats.localPublicPosts, localComments: 0 },
      metadata: { nodeName: config.name, coopolKind: config.kind, territory: config.territory },
    };
  });
  return federation;
}

/** A remote reader, from the key that signed its request (authorized fetch). */
async function viewerFromSignature(ctx: Parameters<Parameters<Federation<Services>["setObjectDispatcher"]>[2]>[0]): Promise<Viewer> {
  const owner = await ctx.getSignedKeyOwner().catch(() => null);
  if (!owner?.id) return { kind: "anonymous" };
  const row = ctx.data.db.select({ id: actors.id }).from(actors).where(eq(actors.uri, owner.id.href)).get();
  return row ? { kind: "remote", actorId: row.id } : { kind: "anonymous" };
}

function registerObjects(federation: Federation<Services>): void {
  federation
    // A post is a Note, or a Question when it carries a poll: one route for both.
    .setObjectDispatcher(APObject, NOTE_PATH, (ctx, values) => {
      const { db } = ctx.data;
      const author = findLocalActor(db, values.identifier);
      const post = author && /^\d+$/.test(values.id) ? db.select().from(posts).where(eq(posts.id, Number(values.id))).get() : undefined;
      if (!author || !post || post.actorId !== author.id || post.reblogOfId) return null;
      return noteFromPost(ctx, post, author);
    })
    .authorize(async (ctx, values) => {
      const post = /^\d+$/.test(values.id) ? ctx.data.db.select().from(posts).where(eq(posts.id, Number(values.id))).get() : undefined;
      if (!post) return true; // the dispatcher answers 404
      // Section posts never leave the instance, whoever asks.
      if (post.visibility === "section") return false;
      // A post for the fédération or the party: only to an actor on a server of that audience.
      if (isPartyAudience(post.visibility)) {
        const owner = await ctx.getSignedKeyOwner().catch(() => null);
        return !!owner?.id && inAudience(ctx.data, post.visibility, owner.id.href);
      }
      return canSee(ctx.data.db, await viewerFromSignature(ctx), post);
    });
}

/** A group's outbox: the Announces of its public posts; a members-only group's is empty. */
function groupOutboxPage(ctx: { data: Services; getFollowersUri(identifier: string): URL }, group: GroupRow, actor: ActorRow, cursor: string) {
  const rows = publicGroupPosts(ctx.data.db, group, /^\d+$/.test(cursor) ? Number(cursor) : null, PAGE_SIZE);
  const items = rows.map(
    (post) =>
      new Announce({
        id: new URL(`${actor.uri}/announces/${post.id}`),
        actor: new URL(actor.uri),
        object: new URL(post.uri),
        to: PUBLIC_COLLECTION,
        cc: ctx.getFollowersUri(actor.username),
        published: instant(post.publishedAt),
      }),
  );
  const last = rows.at(-1);
  return { items, nextCursor: rows.length === PAGE_SIZE && last ? String(last.id) : null };
}

/**
 * Followers and following are shown as counts only: who follows whom on a
 * party's instance reveals membership, so the lists stay private. Deliveries
 * use the database directly (send.ts), not these collections.
 */
function registerCollections(federation: Federation<Services>): void {
  const countOf = (column: typeof follows.followerId | typeof follows.followingId) => (ctx: { data: Services }, identifier: string) => {
    const actor = findLocalActor(ctx.data.db, identifier);
    if (!actor) return null;
    return ctx.data.db.select({ n: count() }).from(follows).where(and(eq(column, actor.id), isNotNull(follows.acceptedAt))).get()?.n ?? 0;
  };
  federation
    .setFollowersDispatcher("/users/{identifier}/followers", (ctx, identifier) =>
      findLocalActor(ctx.data.db, identifier) ? { items: [] } : null,
    )
    .setCounter(countOf(follows.followingId));
  federation
    .setFollowingDispatcher("/users/{identifier}/following", (ctx, identifier) =>
      findLocalActor(ctx.data.db, identifier) ? { items: [] } : null,
    )
    .setCounter(countOf(follows.followerId));

  // The outbox lists public posts only, newest first, a page per cursor.
  federation
    .setOutboxDispatcher("/users/{identifier}/outbox", (ctx, identifier, cursor) => {
      const { db } = ctx.data;
      const author = findLocalActor(db, identifier);
      if (!author) return null;
      if (cursor === null) return { items: [] };
      const group = localGroupOfActor(db, author.id);
      if (group) return groupOutboxPage(ctx, group, author, cursor);
      const rows = db
        .select()
        .from(posts)
        .where(and(
          eq(posts.actorId, author.id),
          eq(posts.visibility, "public"),
          ...(cursor && /^\d+$/.test(cursor) ? [lt(posts.id, Number(cursor))] : []),
        ))
        .orderBy(desc(posts.id))
        .limit(PAGE_SIZE)
        .all()
        .filter((p) => p.reblogOfId === null);
      const items = rows.map((post) => {
        const note = noteFromPost(ctx, post, author);
        return new Create({ id: new URL(`${post.uri}/activity`), actor: new URL(author.uri), object: note, tos: note.toIds, ccs: note.ccIds, published: instant(post.publishedAt) });
      });
      const last = rows.at(-1);
      return { items, nextCursor: rows.length === PAGE_SIZE && last ? String(last.id) : null };
    })
    // No first page for an unknown actor: Fedify then asks the dispatcher, which answers 404.
    .setFirstCursor((ctx, identifier) => (findLocalActor(ctx.data.db, identifier) ? "" : null))
    .setCounter((ctx, identifier) => {
      const author = findLocalActor(ctx.data.db, identifier);
      if (!author) return null;
      const group = localGroupOfActor(ctx.data.db, author.id);
      if (group) return group.visibility === "public" ? ctx.data.db.select({ n: count() }).from(groupPosts).where(eq(groupPosts.groupId, group.id)).get()?.n ?? 0 : 0;
      return ctx.data.db.select({ n: count() }).from(posts).where(and(eq(posts.actorId, author.id), eq(posts.visibility, "public"))).get()?.n ?? 0;
    });
}

