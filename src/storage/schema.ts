// The instance's tables. SQL migrations under schema/migrations are generated
// from this file by drizzle-kit (npm run db:generate); never edit them by hand.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** Time-sortable 53-bit ids (see ids.ts), serialised as strings in APIs. */
const id = () => integer("id").primaryKey();
const bool = (name: string) => integer(name, { mode: "boolean" });
const now = () => sql`(cast(unixepoch('subsec') * 1000 as integer))`;
const timestamp = (name: string) => integer(name); // milliseconds since the epoch

export const ACTOR_TYPES = ["Person", "Group", "Application", "Service", "Organization"] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];

/**
 * Every actor this instance knows, local or remote, in one table, as Mastodon
 * keeps accounts: timelines and follows never need to care where an actor lives.
 */
export const actors = sqliteTable(
  "actors",
  {
    id: id(),
    uri: text("uri").notNull(),
    type: text("type", { enum: ACTOR_TYPES }).notNull(),
    username: text("username").notNull(),
    /** Host part of the handle: the instance's own host for local actors. */
    domain: text("domain").notNull(),
    local: bool("local").notNull().default(false),
    name: text("name").notNull().default(""),
    /** Sanitised HTML. */
    summary: text("summary").notNull().default(""),
    url: text("url"),
    inboxUrl: text("inbox_url"),
    sharedInboxUrl: text("shared_inbox_url"),
    followersUrl: text("followers_url"),
    avatarUrl: text("avatar_url"),
    headerUrl: text("header_url"),
    locked: bool("locked").notNull().default(false),
    createdAt: timestamp("created_at").notNull().default(now()),
    updatedAt: timestamp("updated_at").notNull().default(now()),
  },
  (t) => [
    uniqueIndex("actors_uri").on(t.uri),
    uniqueIndex("actors_handle").on(t.username, t.domain),
  ],
);

export const ROLES = ["member", "sympathisant", "secretary", "moderator", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** Local accounts: one row per person who can log in, tied to their Person actor. */
export const users = sqliteTable(
  "users",
  {
    id: id(),
    actorId: integer("actor_id")
      .notNull()
      .references(() => actors.id),
    username: text("username").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    locale: text("locale"),
    disabledAt: timestamp("disabled_at"),
    createdAt: timestamp("created_at").notNull().default(now()),
    lastLoginAt: timestamp("last_login_at"),
  },
  (t) => [uniqueIndex("users_username").on(t.username), uniqueIndex("users_actor").on(t.actorId)],
);

/** Key pairs of local actors, as JWK: RSA for HTTP signatures, Ed25519 for object proofs. */
export const actorKeys = sqliteTable(
  "actor_keys",
  {
    actorId: integer("actor_id")
      .notNull()
      .references(() => actors.id),
    algorithm: text("algorithm", { enum: ["RSASSA-PKCS1-v1_5", "Ed25519"] }).notNull(),
    publicJwk: text("public_jwk").notNull(),
    privateJwk: text("private_jwk").notNull(),
  },
  (t) => [primaryKey({ columns: [t.actorId, t.algorithm] })],
);

/** Browser sessions. Only a hash of the cookie value is kept. */
export const sessions = sqliteTable(
  "sessions",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id),
    createdAt: timestamp("created_at").notNull().default(now()),
    expiresAt: timestamp("expires_at").notNull(),
  },
  (t) => [index("sessions_user").on(t.userId)],
);

/** Single-use, expiring invitation links. Only a hash of the token is kept. */
export const invitations = sqliteTable("invitations", {
  id: id(),
  tokenHash: text("token_hash").notNull().unique(),
  role: text("role", { enum: ROLES }).notNull(),
  createdBy: integer("created_by").references(() => users.id),
  createdAt: timestamp("created_at").notNull().default(now()),
  expiresAt: timestamp("expires_at").notNull(),
  usedAt: timestamp("used_at"),
  usedBy: integer("used_by").references(() => users.id),
});

/** Small instance-wide values (first-run token hash, …). JSON-encoded. */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

/** Follow relations between any two actors. acceptedAt is null while pending. */
export const follows = sqliteTable(
  "follows",
  {
    id: id(),
    followerId: integer("follower_id")
      .notNull()
      .references(() => actors.id),
    followingId: integer("following_id")
      .notNull()
      .references(() => actors.id),
    /** Id of the Follow activity, to match Accept/Reject/Undo. */
    uri: text("uri").notNull(),
    acceptedAt: timestamp("accepted_at"),
    createdAt: timestamp("created_at").notNull().default(now()),
  },
  (t) => [
    uniqueIndex("follows_pair").on(t.followerId, t.followingId),
    index("follows_following").on(t.followingId, t.followerId),
    index("follows_uri").on(t.uri),
  ],
);

export const VISIBILITIES = ["public", "unlisted", "private", "direct", "section"] as const;
/**
 * public/unlisted/private/direct are Mastodon's. "section" is Coopol's own:
 * visible to this instance's card-holding members only, never federated.
 */
export type Visibility = (typeof VISIBILITIES)[number];

/** Statuses (ActivityPub Notes) and boosts (Announce, with reblogOfId set). */
export const posts = sqliteTable(
  "posts",
  {
    id: id(),
    uri: text("uri").notNull(),
    url: text("url"),
    actorId: integer("actor_id")
      .notNull()
      .references(() => actors.id),
    inReplyToId: integer("in_reply_to_id"),
    inReplyToUri: text("in_reply_to_uri"),
    reblogOfId: integer("reblog_of_id"),
    /** Sanitised HTML. */
    content: text("content").notNull().default(""),
    /** What the local author typed, kept for edits. */
    source: text("source"),
    summary: text("summary").notNull().default(""),
    sensitive: bool("sensitive").notNull().default(false),
    language: text("language"),
    visibility: text("visibility", { enum: VISIBILITIES }).notNull(),
    /** For section posts: sympathisants of the section may read it too. */
    sympathisants: bool("sympathisants").notNull().default(false),
    publishedAt: timestamp("published_at").notNull(),
    editedAt: timestamp("edited_at"),
    repliesCount: integer("replies_count").notNull().default(0),
    reblogsCount: integer("reblogs_count").notNull().default(0),
    favouritesCount: integer("favourites_count").notNull().default(0),
  },
  (t) => [
    uniqueIndex("posts_uri").on(t.uri),
    index("posts_actor").on(t.actorId, t.id),
    index("posts_reply").on(t.inReplyToId),
    index("posts_reblog").on(t.reblogOfId),
  ],
);

/** Actors a post addresses by name (mentions and direct recipients). */
export const mentions = sqliteTable(
  "mentions",
  {
    postId: integer("post_id")
      .notNull()
      .references(() => posts.id, { onDelete: "cascade" }),
    actorId: integer("actor_id")
      .notNull()
      .references(() => actors.id),
  },
  (t) => [primaryKey({ columns: [t.postId, t.actorId] }), index("mentions_actor").on(t.actorId, t.postId)],
);

export const postTags = sqliteTable(
  "post_tags",
  {
    postId: integer("post_id")
      .notNull()
      .references(() => posts.id, { onDelete: "cascade" }),
    /** Lower-case, without the #. */
    tag: text("tag").notNull(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.tag] }), index("post_tags_tag").on(t.tag, t.postId)],
);

export const likes = sqliteTable(
  "likes",
  {
    id: id(),
    actorId: integer("actor_id")
      .notNull()
      .references(() => actors.id),
    postId: integer("post_id")
      .notNull()
      .references(() => posts.id, { onDelete: "cascade" }),
    uri: text("uri").notNull(),
  },
  (t) => [uniqueIndex("likes_pair").on(t.actorId, t.postId), index("likes_uri").on(t.uri)],
);

/**
 * Home timelines, fanned out on write: reading a timeline is then one index
 * range scan, whatever the number of accounts followed.
 */
export const timelineEntries = sqliteTable(
  "timeline_entries",
  {
    userId: integer("user_id")
      .notNull()
      .references(() => users.id),
    postId: integer("post_id")
      .notNull()
      .references(() => posts.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.userId, t.postId] })],
);

/** Fedify's key–value store (activity idempotency, remote documents, …). */
export const fedifyKv = sqliteTable("fedify_kv", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
  expiresAt: timestamp("expires_at"),
});

/** Fedify's persistent task queue: outgoing deliveries and incoming activities. */
export const fedifyQueue = sqliteTable(
  "fedify_queue",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    message: text("message").notNull(),
    orderingKey: text("ordering_key"),
    availableAt: timestamp("available_at").notNull(),
    /** Set while a worker holds the message; a stale lock is released at start-up. */
    lockedAt: timestamp("locked_at"),
  },
  (t) => [index("fedify_queue_ready").on(t.lockedAt, t.availableAt)],
);
