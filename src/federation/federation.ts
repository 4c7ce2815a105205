// Builds the Fedify federation: actors, collections, objects, NodeInfo and the
// inbox, on the instance's SQLite key–value store and persistent queue.
import { createFederation, type Federation } from "@fedify/fedify";
import { Create, Note } from "@fedify/vocab";
import { and, count, desc, eq, gt, isNotNull, lt } from "drizzle-orm";
import type { Config } from "../config.ts";
import type { Services } from "../services.ts";
import { actors, follows, posts, users } from "../storage/schema.ts";
import { canSee, type Viewer } from "../posts/visibility.ts";
import { findLocalActor, registerActors } from "./actors.ts";
import { NOTE_PATH, noteFromPost } from "./convert.ts";
import { registerInbox } from "./inbox/index.ts";
import type { SqliteKvStore } from "./kv.ts";
import type { SqliteMessageQueue } from "./queue.ts";
import { instant } from "./time.ts";
import { instanceStats, SOFTWARE_VERSION } from "../members/stats.ts";

const PAGE_SIZE = 20;

export function buildFederation(config: Config, kv: SqliteKvStore, queue: SqliteMessageQueue): Federation<Services> {
  const federation = createFederation<Services>({
    kv,
    queue,
    origin: config.origin,
    // The queue is started by the instance once its services exist (app.ts).
    manuallyStartQueue: true,
    allowPrivateAddress: config.allowPrivateAddress,
    userAgent: { software: `Coopol/${SOFTWARE_VERSION}`, url: new URL(config.origin) },
  });
  registerActors(federation);
  registerCollections(federation);
  registerObjects(federation);
  registerInbox(federation);
  federation.setNodeInfoDispatcher("/nodeinfo/2.1", (ctx) => {
    const stats = instanceStats(ctx.data.db);
    return {
      software: { name: "coopol", version: SOFTWARE_VERSION, homepage: new URL("https://coopol.example/") },
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
    .setObjectDispatcher(Note, NOTE_PATH, (ctx, values) => {
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
      return canSee(ctx.data.db, await viewerFromSignature(ctx), post);
    });
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
    .setFirstCursor(() => "")
    .setCounter((ctx, identifier) => {
      const author = findLocalActor(ctx.data.db, identifier);
      if (!author) return null;
      return ctx.data.db.select({ n: count() }).from(posts).where(and(eq(posts.actorId, author.id), eq(posts.visibility, "public"))).get()?.n ?? 0;
    });
}

