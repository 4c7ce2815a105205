// The instance's tables. SQL migrations under schema/migrations are generated
// from this file by drizzle-kit (npm run db:generate); never edit them by hand.
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex, type AnySQLiteColumn } from "drizzle-orm/sqlite-core";

/** Time-sortable 53-bit ids (see ids.ts), serialised as strings in APIs. */
const id = () => integer("id").primaryKey();
const bool = (name: string) => integer(name, { mode: "boolean" });
const now = () => sql`(cast(unixepoch('subsec') * 1000 as integer))`;
const timestamp = (name: string) => integer(name); // milliseconds since the epoch
const createdAt = () => timestamp("created_at").notNull().default(now());
// Foreign keys that many tables share. (The arrow functions are called late,
// once every table below exists.)
const actorRef = (name = "actor_id") => integer(name).notNull().references((): AnySQLiteColumn => actors.id);
const userRef = () => integer("user_id").notNull().references((): AnySQLiteColumn => users.id);
const postRef = () => integer("post_id").notNull().references((): AnySQLiteColumn => posts.id, { onDelete: "cascade" });

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
    /**
     * Counters shown on every account, kept by SQLite triggers (migration
     * 0007) on follows and posts, so that no code path can forget them and
     * rendering a page of statuses reads no COUNT(*).
     */
    followersCount: integer("followers_count").notNull().default(0),
    followingCount: integer("following_count").notNull().default(0),
    statusesCount: integer("statuses_count").notNull().default(0),
    lastStatusAt: timestamp("last_status_at"),
    /** The account moved there (ActivityPub `movedTo`, a checked `Move`): its history counts for the new one. */
    movedToId: integer("moved_to_id").references((): AnySQLiteColumn => actors.id),
    /** Its other accounts (`alsoKnownAs`): a JSON array of actor URIs, 20 at most. */
    alsoKnownAs: text("also_known_as"),
    /** The account was erased: the row stays as a tombstone (its name cannot be taken again). */
    deletedAt: timestamp("deleted_at"),
    createdAt: createdAt(),
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
    actorId: actorRef(),
    username: text("username").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull(),
    locale: text("locale"),
    /** Optional, for event reminders; never shown to other members. */
    email: text("email"),
    /** The member asked for reminders by e-mail (needs an address and SMTP configured). */
    emailReminders: bool("email_reminders").notNull().default(false),
    /** The member asked for a digest of unread Coopol notifications by e-mail, and when the last one went out. */
    emailDigest: bool("email_digest").notNull().default(false),
    digestSentAt: timestamp("digest_sent_at"),
    disabledAt: timestamp("disabled_at"),
    createdAt: createdAt(),
    lastLoginAt: timestamp("last_login_at"),
    /**
     * Membership attestations (src/party/attestations.ts): bumped on every
     * change of the status they attest (card-holder, sympathisant, withdrawn),
     * so other nodes refuse an older attestation replayed after the change.
     */
    membershipSeq: integer("membership_seq").notNull().default(0),
    /** Since when the member has their current status (null: since the account was made). */
    statusSince: timestamp("status_since"),
  },
  (t) => [uniqueIndex("users_username").on(t.username), uniqueIndex("users_actor").on(t.actorId)],
);

/** Key pairs of local actors, as JWK: RSA for HTTP signatures, Ed25519 for object proofs. */
export const actorKeys = sqliteTable(
  "actor_keys",
  {
    actorId: actorRef(),
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
    userId: userRef(),
    createdAt: createdAt(),
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
  createdAt: createdAt(),
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
    followerId: actorRef("follower_id"),
    followingId: actorRef("following_id"),
    /** Id of the Follow activity, to match Accept/Reject/Undo. */
    uri: text("uri").notNull(),
    acceptedAt: timestamp("accepted_at"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("follows_pair").on(t.followerId, t.followingId),
    index("follows_following").on(t.followingId, t.followerId),
    // Follower counts read from the index alone.
    index("follows_accepted").on(t.followingId).where(sql`${t.acceptedAt} is not null`),
    index("follows_uri").on(t.uri),
  ],
);

export const VISIBILITIES = ["public", "unlisted", "private", "direct", "section", "federation", "party"] as const;
/**
 * public/unlisted/private/direct are Mastodon's. "section" is Coopol's own:
 * visible to this instance's card-holding members only, never federated.
 * "federation" and "party" (src/party/audiences.ts): the card-holders of every
 * node of the author's fédération, or of the whole party.
 */
export type Visibility = (typeof VISIBILITIES)[number];

/** Statuses (ActivityPub Notes) and boosts (Announce, with reblogOfId set). */
export const posts = sqliteTable(
  "posts",
  {
    id: id(),
    uri: text("uri").notNull(),
    url: text("url"),
    actorId: actorRef(),
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
    /**
     * Set on the local post that shows an event in Mastodon apps. Such posts
     * never federate: the Event object itself does.
     */
    eventId: integer("event_id"),
    publishedAt: timestamp("published_at").notNull(),
    editedAt: timestamp("edited_at"),
    repliesCount: integer("replies_count").notNull().default(0),
    reblogsCount: integer("reblogs_count").notNull().default(0),
    favouritesCount: integer("favourites_count").notNull().default(0),
  },
  (t) => [
    uniqueIndex("posts_uri").on(t.uri),
    index("posts_actor").on(t.actorId, t.id),
    // Account counters (posts, last post date) read from the index alone.
    index("posts_actor_published").on(t.actorId, t.publishedAt),
    index("posts_reply").on(t.inReplyToId),
    // Replies that arrived before the post they answer (deliveries are not
    // ordered): a group's thread takes them in when that post comes (groups/discussion.ts).
    index("posts_reply_uri").on(t.inReplyToUri).where(sql`${t.inReplyToId} is null and ${t.inReplyToUri} is not null`),
    // "Did I boost these?" and "who boosted this?" both use it.
    index("posts_reblog").on(t.reblogOfId, t.actorId),
  ],
);

/** Actors a post addresses by name (mentions and direct recipients). */
export const mentions = sqliteTable(
  "mentions",
  {
    postId: postRef(),
    actorId: actorRef(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.actorId] }), index("mentions_actor").on(t.actorId, t.postId)],
);

export const postTags = sqliteTable(
  "post_tags",
  {
    postId: postRef(),
    /** Lower-case, without the #. */
    tag: text("tag").notNull(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.tag] }), index("post_tags_tag").on(t.tag, t.postId)],
);

export const likes = sqliteTable(
  "likes",
  {
    id: id(),
    actorId: actorRef(),
    postId: postRef(),
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
    userId: userRef(),
    postId: postRef(),
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

/**
 * The transactional outbox: what happened that other servers must hear of,
 * written in the same transaction as the change itself (src/outbox/outbox.ts)
 * and turned into activities by src/federation/outbox-worker.ts, which deletes
 * a row once its activities are in `fedify_queue`. A row still here after a
 * crash is sent again (activity ids are derived from the row, so receivers
 * count it once).
 */
export const outbox = sqliteTable(
  "outbox",
  {
    /** A time-sortable id (storage/ids.ts), never reused: activity ids are derived from it. */
    id: id(),
    /** What happened, e.g. "post.created" (src/outbox/outbox.ts lists them). */
    kind: text("kind").notNull(),
    /** JSON: the ids the worker needs, and for deletions what is gone with the rows. */
    payload: text("payload").notNull(),
    createdAt: createdAt(),
    attempts: integer("attempts").notNull().default(0),
    /** Null once the worker gave up (kept for the operator, with `last_error`). */
    nextAttemptAt: timestamp("next_attempt_at"),
    lastError: text("last_error"),
  },
  (t) => [index("outbox_due").on(t.nextAttemptAt)],
);

// ---- Mastodon client API ---------------------------------------------------

/** Client applications registered through POST /api/v1/apps. */
export const oauthApps = sqliteTable("oauth_apps", {
  id: id(),
  clientId: text("client_id").notNull().unique(),
  /** Only a hash: the secret is shown once, when the app registers. */
  clientSecretHash: text("client_secret_hash").notNull(),
  name: text("name").notNull(),
  website: text("website"),
  /** Allowed redirect URIs, one per line. */
  redirectUris: text("redirect_uris").notNull(),
  scopes: text("scopes").notNull(),
  createdAt: createdAt(),
});

/** Authorization codes, valid ten minutes and once. */
export const oauthCodes = sqliteTable("oauth_codes", {
  codeHash: text("code_hash").primaryKey(),
  appId: integer("app_id")
    .notNull()
    .references(() => oauthApps.id, { onDelete: "cascade" }),
  userId: userRef(),
  redirectUri: text("redirect_uri").notNull(),
  scopes: text("scopes").notNull(),
  codeChallenge: text("code_challenge"),
  expiresAt: timestamp("expires_at").notNull(),
});

/** Access tokens (and their refresh tokens), stored hashed. userId is null for client_credentials. */
export const oauthTokens = sqliteTable(
  "oauth_tokens",
  {
    id: id(),
    tokenHash: text("token_hash").notNull(),
    refreshHash: text("refresh_hash"),
    appId: integer("app_id")
      .notNull()
      .references(() => oauthApps.id, { onDelete: "cascade" }),
    userId: integer("user_id").references(() => users.id),
    scopes: text("scopes").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at"),
  },
  (t) => [uniqueIndex("oauth_tokens_hash").on(t.tokenHash), uniqueIndex("oauth_tokens_refresh").on(t.refreshHash), index("oauth_tokens_user").on(t.userId)],
);

/**
 * Web Push subscriptions of Mastodon apps (POST /api/v1/push/subscription):
 * one per access token, gone with it. Keys as the app sent them (base64url).
 * The access token itself is kept here (tokens are otherwise stored hashed)
 * because Mastodon's push payload carries it: apps with several accounts tell
 * by it which account a push is for.
 */
export const pushSubscriptions = sqliteTable("push_subscriptions", {
  id: id(),
  tokenId: integer("token_id")
    .notNull()
    .unique()
    .references(() => oauthTokens.id, { onDelete: "cascade" }),
  userId: userRef(),
  endpoint: text("endpoint").notNull(),
  p256dh: text("p256dh").notNull(),
  auth: text("auth").notNull(),
  accessToken: text("access_token").notNull(),
  /** RFC 8291 (aes128gcm) when the app asked for `standard`; else the legacy draft (aesgcm) older apps decrypt. */
  standard: bool("standard").notNull().default(false),
  /** JSON object: Mastodon alert name → boolean. */
  alerts: text("alerts").notNull().default("{}"),
  policy: text("policy", { enum: ["all", "followed", "follower", "none"] }).notNull().default("all"),
  createdAt: createdAt(),
});

/** What Mastodon apps know: the only types the Mastodon API and streaming ever return. */
export const MASTODON_NOTIFICATION_TYPES = ["mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update", "admin.report"] as const;
/**
 * Coopol's own, shown on the web page (and in the e-mail digest) only: an
 * answer to an event one manages (a request in approval mode, "going", no
 * longer going, on the waiting list); for managers, a report from below, a
 * campaign or directive from above, a node below joining a campaign; for an action's coordinator and the
 * managers, a sign-up, a withdrawal or results entered.
 */
export const COOPOL_NOTIFICATION_TYPES = [
  "coopol.rsvp.pending",
  "coopol.rsvp.going",
  "coopol.rsvp.not_going",
  "coopol.rsvp.waiting",
  "coopol.report",
  "coopol.campaign",
  "coopol.campaign_joined",
  "coopol.directive",
  "coopol.shift.signup",
  "coopol.shift.withdraw",
  "coopol.results",
] as const;
export const NOTIFICATION_TYPES = [...MASTODON_NOTIFICATION_TYPES, ...COOPOL_NOTIFICATION_TYPES] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
export type MastodonNotificationType = (typeof MASTODON_NOTIFICATION_TYPES)[number];

/** What a local account is told about: mentions, follows, likes, boosts… */
export const notifications = sqliteTable(
  "notifications",
  {
    id: id(),
    userId: userRef(),
    type: text("type", { enum: NOTIFICATION_TYPES }).notNull(),
    fromActorId: actorRef("from_actor_id"),
    postId: integer("post_id").references(() => posts.id, { onDelete: "cascade" }),
    /** The event an answer (coopol.rsvp.*) is about. */
    eventId: integer("event_id").references(() => events.id, { onDelete: "cascade" }),
    /** What a Coopol notification of the hierarchy or the field is about (coopol.report, coopol.campaign, coopol.shift.*, coopol.results). */
    reportId: integer("report_id").references((): AnySQLiteColumn => reports.id, { onDelete: "cascade" }),
    campaignId: integer("campaign_id").references((): AnySQLiteColumn => campaigns.id, { onDelete: "cascade" }),
    actionId: integer("action_id").references((): AnySQLiteColumn => fieldActions.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [
    index("notifications_user").on(t.userId, t.id),
    // SQLite counts NULLs as distinct: this one dedupes notifications about a post only.
    uniqueIndex("notifications_once").on(t.userId, t.type, t.fromActorId, t.postId),
    // One notification per person and event, whatever the answer: a new answer replaces the last one.
    uniqueIndex("notifications_event_once").on(t.userId, t.fromActorId, t.eventId).where(sql`${t.eventId} is not null`),
  ],
);

export const bookmarks = sqliteTable(
  "bookmarks",
  {
    userId: userRef(),
    postId: postRef(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.postId] })],
);

/** Posts an account pins to its profile. */
export const pins = sqliteTable(
  "pins",
  {
    actorId: actorRef(),
    postId: postRef(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.actorId, t.postId] })],
);

/** Blocks and mutes, by a local account of any actor. */
export const actorFilters = sqliteTable(
  "actor_filters",
  {
    userId: userRef(),
    targetId: actorRef("target_id"),
    kind: text("kind", { enum: ["block", "mute"] }).notNull(),
    /** Mutes only: hide their notifications too. */
    notifications: bool("notifications").notNull().default(true),
  },
  (t) => [primaryKey({ columns: [t.userId, t.targetId, t.kind] })],
);

/**
 * Images attached to posts, and files or links attached to events. Local files
 * live under <data>/media with a random name; remote ones (and links) keep
 * their URL. Unattached uploads belong to their owner.
 */
export const media = sqliteTable(
  "media",
  {
    id: id(),
    actorId: actorRef(),
    postId: integer("post_id").references(() => posts.id, { onDelete: "cascade" }),
    /** Set for an event's attachments (then postId is null). No ON DELETE CASCADE: drizzle-kit leaves it out of the ALTER TABLE it generates, and events are never deleted (only cancelled). */
    eventId: integer("event_id").references((): AnySQLiteColumn => events.id),
    /** File name under <data>/media, for local files. */
    fileName: text("file_name"),
    remoteUrl: text("remote_url"),
    contentType: text("content_type").notNull(),
    size: integer("size"),
    width: integer("width"),
    height: integer("height"),
    description: text("description").notNull().default(""),
    position: integer("position").notNull().default(0),
    createdAt: createdAt(),
  },
  (t) => [index("media_post").on(t.postId, t.position), index("media_event").on(t.eventId, t.position)],
);

/** Where a member stopped reading, per timeline (Mastodon's markers). */
export const markers = sqliteTable(
  "markers",
  {
    userId: userRef(),
    timeline: text("timeline", { enum: ["home", "notifications"] }).notNull(),
    lastReadId: text("last_read_id").notNull(),
    version: integer("version").notNull().default(1),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.timeline] })],
);

// ---- Agenda ------------------------------------------------------------------

export const EVENT_CATEGORIES = ["section_meeting", "debate", "training", "action", "campaign", "social", "other"] as const;
export type EventCategory = (typeof EVENT_CATEGORIES)[number];
/** public: anyone, federated. section: this instance's card-holders only, never federated. */
/**
 * Who may see an event: anyone; the section's members; the members of the
 * groups listed in event_groups; every section of the organiser's fédération.
 */
export const EVENT_AUDIENCES = ["public", "section", "groups", "federation"] as const;
export type EventAudience = (typeof EVENT_AUDIENCES)[number];
export const JOIN_MODES = ["open", "approval", "invite"] as const;
export type JoinMode = (typeof JOIN_MODES)[number];
export const EVENT_STATUSES = ["tentative", "confirmed", "cancelled"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** Meetings and other events, local or received from other servers (ActivityPub Event). */
export const events = sqliteTable(
  "events",
  {
    id: id(),
    uri: text("uri").notNull(),
    url: text("url"),
    /** The organiser: a member, the section's Group, or a remote actor. */
    actorId: actorRef(),
    title: text("title").notNull(),
    /** Sanitised HTML. */
    description: text("description").notNull().default(""),
    /** What the local organiser typed. */
    source: text("source"),
    startAt: timestamp("start_at").notNull(),
    endAt: timestamp("end_at"),
    timezone: text("timezone").notNull().default("Europe/Paris"),
    placeName: text("place_name"),
    street: text("street"),
    postalCode: text("postal_code"),
    locality: text("locality"),
    latitude: real("latitude"),
    longitude: real("longitude"),
    onlineUrl: text("online_url"),
    category: text("category", { enum: EVENT_CATEGORIES }).notNull().default("other"),
    capacity: integer("capacity"),
    audience: text("audience", { enum: EVENT_AUDIENCES }).notNull().default("public"),
    joinMode: text("join_mode", { enum: JOIN_MODES }).notNull().default("open"),
    status: text("status", { enum: EVENT_STATUSES }).notNull().default("confirmed"),
    /** RFC 5545 RRULE value (without "RRULE:"), e.g. FREQ=MONTHLY;BYDAY=1TU. */
    rrule: text("rrule"),
    /** Cancelled occurrences: JSON array of start times in ms. */
    exdates: text("exdates").notNull().default("[]"),
    /** Ordre du jour: JSON array of item titles, in order. */
    agenda: text("agenda").notNull().default("[]"),
    /** Compte rendu (minutes), plain text, written after the meeting. */
    minutes: text("minutes"),
    /** Bumped on every change (iCalendar SEQUENCE). */
    sequence: integer("sequence").notNull().default(0),
    /** Counts as the organiser's server reports them, for remote events. */
    remoteParticipants: integer("remote_participants"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull().default(now()),
  },
  (t) => [uniqueIndex("events_uri").on(t.uri), index("events_start").on(t.startAt), index("events_actor").on(t.actorId, t.startAt)],
);

export const RSVP_STATUSES = ["going", "maybe", "not_going", "waiting", "pending", "rejected"] as const;
export type RsvpStatus = (typeof RSVP_STATUSES)[number];

/**
 * Answers to events. On the organiser's server this is the attendee list; on
 * an attendee's server, the attendee's own answer and what the organiser said.
 */
export const rsvps = sqliteTable(
  "rsvps",
  {
    id: id(),
    eventId: integer("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    actorId: actorRef(),
    status: text("status", { enum: RSVP_STATUSES }).notNull(),
    /** Id of the Join (or TentativeAccept) activity. */
    uri: text("uri"),
    /** Present at the meeting, ticked in the minutes. */
    attended: bool("attended").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull().default(now()),
  },
  (t) => [uniqueIndex("rsvps_pair").on(t.eventId, t.actorId), index("rsvps_event").on(t.eventId, t.status, t.createdAt)],
);

/**
 * Reminder e-mails sent, one row per member and occurrence (a weekly meeting
 * gets one per week). Written before sending, removed if sending fails, so a
 * message goes out once and a failed one is tried again at the next round.
 */
export const reminderEmails = sqliteTable(
  "reminder_emails",
  {
    userId: userRef(),
    eventId: integer("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    occurrenceStart: timestamp("occurrence_start").notNull(),
    sentAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.eventId, t.occurrenceStart] })],
);

/** Private calendar feed addresses (they can hold section-only events). Revocable. */
export const calendarTokens = sqliteTable("calendar_tokens", {
  userId: integer("user_id")
    .primaryKey()
    .references(() => users.id),
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: createdAt(),
});

// ---- Polls (ActivityPub Question) ----------------------------------------------

/** A poll attached to a post: local polls count their votes here, remote ones keep the origin's counts. */
export const polls = sqliteTable(
  "polls",
  {
    id: id(),
    postId: postRef(),
    /** JSON array of option titles, in order. */
    options: text("options").notNull(),
    multiple: bool("multiple").notNull().default(false),
    hideTotals: bool("hide_totals").notNull().default(false),
    expiresAt: timestamp("expires_at"),
    /** Remote polls: JSON array of counts per option, as the origin server last said. */
    remoteCounts: text("remote_counts"),
    remoteVoters: integer("remote_voters"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull().default(now()),
  },
  (t) => [uniqueIndex("polls_post").on(t.postId)],
);

/** One row per chosen option: local voters on any poll, remote voters on our polls. */
export const pollVotes = sqliteTable(
  "poll_votes",
  {
    id: id(),
    pollId: integer("poll_id")
      .notNull()
      .references(() => polls.id, { onDelete: "cascade" }),
    actorId: actorRef(),
    choice: integer("choice").notNull(),
    /** Id of the vote Note (sent or received). */
    uri: text("uri"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("poll_votes_choice").on(t.pollId, t.actorId, t.choice), index("poll_votes_actor").on(t.actorId)],
);

// ---- Territory: sections, fédérations, national ---------------------------------

export const NODE_KINDS = ["section", "federation", "national"] as const;
export type NodeKind = (typeof NODE_KINDS)[number];
/** sibling: another section under the same fédération, as the fédération lists them. */
export const LINK_ROLES = ["parent", "child", "sibling"] as const;
export type LinkRole = (typeof LINK_ROLES)[number];
/**
 * declared: written in the configuration, nothing exchanged yet; pending: our
 * Follow is on its way; linked: accepted; refused: the other side said no.
 */
export const LINK_STATES = ["declared", "pending", "linked", "refused"] as const;
export type LinkState = (typeof LINK_STATES)[number];

/**
 * The node above this one (parent) and the nodes it oversees (children), as
 * declared by handle. The overseeing node's actor follows the overseen one's;
 * the overseen node accepts only the parent it declared.
 */
export const territoryLinks = sqliteTable(
  "territory_links",
  {
    id: id(),
    role: text("role", { enum: LINK_ROLES }).notNull(),
    /** As declared: user@host, without the leading @. */
    handle: text("handle").notNull(),
    actorId: integer("actor_id").references((): AnySQLiteColumn => actors.id),
    state: text("state", { enum: LINK_STATES }).notNull().default("declared"),
    /** Id of the Follow that made (or asks for) the link. */
    followUri: text("follow_uri"),
    /** What the other node says it is (from its NodeInfo). */
    kind: text("kind", { enum: NODE_KINDS }),
    territory: text("territory"),
    /** Why the link is not established, in plain words. */
    problem: text("problem"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull().default(now()),
  },
  (t) => [uniqueIndex("territory_links_handle").on(t.role, t.handle), index("territory_links_actor").on(t.actorId)],
);

// ---- Campaigns and field actions ---------------------------------------------------

export const ACTION_TYPES = ["leafleting", "door_to_door", "phoning", "postering", "market_stand"] as const;
export type ActionType = (typeof ACTION_TYPES)[number];
/** Figures a field action brings back; goals use the same names. */
export const METRICS = ["doors", "conversations", "leaflets", "calls", "posters", "contacts"] as const;
export type Metric = (typeof METRICS)[number];

/** Campaigns run here or received from the fédération or national level. */
export const campaigns = sqliteTable(
  "campaigns",
  {
    id: id(),
    uri: text("uri").notNull(),
    /** The node running it: this instance's own actor, or a remote fédération or national actor. */
    ownerActorId: actorRef("owner_actor_id"),
    level: text("level", { enum: NODE_KINDS }).notNull(),
    title: text("title").notNull(),
    /** Plain text. */
    description: text("description").notNull().default(""),
    startsAt: timestamp("starts_at").notNull(),
    endsAt: timestamp("ends_at"),
    /** JSON object, goal per metric, e.g. {"doors":5000,"leaflets":20000}. */
    goals: text("goals").notNull().default("{}"),
    /** JSON array of {name, url}: leaflets, talking points (uploaded files or links). */
    materials: text("materials").notNull().default("[]"),
    /** Campaigns of upper levels: when this instance joined it; null until then. */
    joinedAt: timestamp("joined_at"),
    createdBy: integer("created_by").references(() => users.id),
    cancelledAt: timestamp("cancelled_at"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull().default(now()),
  },
  (t) => [uniqueIndex("campaigns_uri").on(t.uri), index("campaigns_starts").on(t.startsAt)],
);

/** Field actions of this section: tractage, porte-à-porte, phoning, collage, stand. */
export const fieldActions = sqliteTable(
  "field_actions",
  {
    id: id(),
    uri: text("uri").notNull(),
    campaignId: integer("campaign_id")
      .notNull()
      .references(() => campaigns.id),
    type: text("type", { enum: ACTION_TYPES }).notNull(),
    title: text("title").notNull(),
    startAt: timestamp("start_at").notNull(),
    endAt: timestamp("end_at"),
    timezone: text("timezone").notNull().default("Europe/Paris"),
    meetingPoint: text("meeting_point"),
    /** Streets, polling-station numbers…, free text. */
    area: text("area"),
    coordinatorId: integer("coordinator_id").references(() => users.id),
    notes: text("notes").notNull().default(""),
    /** The directive this action was made from, when a fédération or national proposed it. */
    directiveId: integer("directive_id"),
    createdBy: integer("created_by").references(() => users.id),
    cancelledAt: timestamp("cancelled_at"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull().default(now()),
  },
  (t) => [uniqueIndex("field_actions_uri").on(t.uri), index("field_actions_campaign").on(t.campaignId, t.startAt), index("field_actions_start").on(t.startAt)],
);

/** Créneaux: time slots of an action that members sign up for. */
export const shifts = sqliteTable(
  "shifts",
  {
    id: id(),
    actionId: integer("action_id")
      .notNull()
      .references(() => fieldActions.id, { onDelete: "cascade" }),
    startAt: timestamp("start_at").notNull(),
    endAt: timestamp("end_at").notNull(),
    capacity: integer("capacity"),
    label: text("label"),
  },
  (t) => [index("shifts_action").on(t.actionId, t.startAt)],
);

export const shiftSignups = sqliteTable(
  "shift_signups",
  {
    shiftId: integer("shift_id")
      .notNull()
      .references(() => shifts.id, { onDelete: "cascade" }),
    userId: userRef(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.shiftId, t.userId] }), index("shift_signups_user").on(t.userId)],
);

/**
 * Results of field actions: recorded here (actionId set) or received from the
 * sections below (by way of their fédération at national level). One row per
 * result id; a newer version replaces the figures, an older one is ignored.
 */
export const actionResults = sqliteTable(
  "action_results",
  {
    id: id(),
    uri: text("uri").notNull(),
    actionId: integer("action_id").references(() => fieldActions.id, { onDelete: "set null" }),
    campaignUri: text("campaign_uri").notNull(),
    /** The campaign's title as the sender named it: a section's own campaign is unknown above it. */
    campaignName: text("campaign_name").notNull().default(""),
    actionType: text("action_type", { enum: ACTION_TYPES }).notNull(),
    actionDate: timestamp("action_date").notNull(),
    /** The section that did the work, and its fédération. */
    sectionUri: text("section_uri").notNull(),
    sectionName: text("section_name").notNull().default(""),
    federationUri: text("federation_uri"),
    doors: integer("doors").notNull().default(0),
    conversations: integer("conversations").notNull().default(0),
    leaflets: integer("leaflets").notNull().default(0),
    calls: integer("calls").notNull().default(0),
    posters: integer("posters").notNull().default(0),
    contacts: integer("contacts").notNull().default(0),
    comment: text("comment").notNull().default(""),
    recordedBy: integer("recorded_by").references(() => users.id),
    /** Last change at the source (ms): orders versions that arrive out of order. */
    version: integer("version").notNull(),
    deletedAt: timestamp("deleted_at"),
    receivedAt: createdAt(),
  },
  (t) => [
    uniqueIndex("action_results_uri").on(t.uri),
    index("action_results_campaign").on(t.campaignUri, t.actionType),
    index("action_results_section").on(t.sectionUri),
    index("action_results_action").on(t.actionId),
  ],
);

/**
 * Running sums of the live results per section, campaign and action type,
 * kept by SQLite triggers on action_results (migration 0011): dashboards read
 * a few hundred rows instead of every result.
 */
export const resultTotals = sqliteTable(
  "result_totals",
  {
    sectionUri: text("section_uri").notNull(),
    campaignUri: text("campaign_uri").notNull(),
    actionType: text("action_type", { enum: ACTION_TYPES }).notNull(),
    sectionName: text("section_name").notNull().default(""),
    federationUri: text("federation_uri"),
    results: integer("results").notNull().default(0),
    doors: integer("doors").notNull().default(0),
    conversations: integer("conversations").notNull().default(0),
    leaflets: integer("leaflets").notNull().default(0),
    calls: integer("calls").notNull().default(0),
    posters: integer("posters").notNull().default(0),
    contacts: integer("contacts").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.sectionUri, t.campaignUri, t.actionType] }), index("result_totals_campaign").on(t.campaignUri)],
);

/**
 * People met in the field who agreed to be contacted again. They stay on the
 * section's instance: only their number goes up the hierarchy.
 */
export const fieldContacts = sqliteTable(
  "field_contacts",
  {
    id: id(),
    actionId: integer("action_id")
      .notNull()
      .references(() => fieldActions.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    email: text("email"),
    phone: text("phone"),
    note: text("note").notNull().default(""),
    /** The consent sentence shown, and when it was given. */
    consent: text("consent").notNull(),
    consentAt: timestamp("consent_at").notNull(),
    recordedBy: integer("recorded_by").references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index("field_contacts_action").on(t.actionId)],
);

// ---- Reports up, directives down ---------------------------------------------------

export const REPORT_KINDS = ["activity", "minutes", "field", "alert"] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

/** Reports a section sends up (outgoing) and those a fédération or national receives. */
export const reports = sqliteTable(
  "reports",
  {
    id: id(),
    uri: text("uri").notNull(),
    outgoing: bool("outgoing").notNull(),
    kind: text("kind", { enum: REPORT_KINDS }).notNull(),
    title: text("title").notNull(),
    /** Plain text. */
    body: text("body").notNull().default(""),
    /** JSON: numbers attached, {campaignUri: {actionType: {metric: n}}}. */
    figures: text("figures").notNull().default("{}"),
    alsoNational: bool("also_national").notNull().default(false),
    sectionUri: text("section_uri").notNull(),
    sectionName: text("section_name").notNull().default(""),
    federationUri: text("federation_uri"),
    authorId: integer("author_id").references(() => users.id),
    authorName: text("author_name").notNull().default(""),
    /** Sender side: receipt and first reading, as the parent acknowledged them. */
    acknowledgedAt: timestamp("acknowledged_at"),
    readAt: timestamp("read_at"),
    readBy: text("read_by"),
    /** Receiver side: when someone here first opened it. */
    openedAt: timestamp("opened_at"),
    openedBy: integer("opened_by").references(() => users.id),
    version: integer("version").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("reports_uri").on(t.uri), index("reports_section").on(t.sectionUri, t.createdAt), index("reports_created").on(t.createdAt)],
);

/** What the sections below last said about themselves, for the dashboards. */
export const nodeStats = sqliteTable("node_stats", {
  nodeUri: text("node_uri").primaryKey(),
  name: text("name").notNull().default(""),
  kind: text("kind", { enum: NODE_KINDS }).notNull(),
  territory: text("territory"),
  /** The fédération it belongs to (national's view). */
  federationUri: text("federation_uri"),
  members: integer("members").notNull().default(0),
  activeMembers: integer("active_members").notNull().default(0),
  eventsHeld: integer("events_held").notNull().default(0),
  eventsUpcoming: integer("events_upcoming").notNull().default(0),
  version: integer("version").notNull(),
  receivedAt: timestamp("received_at").notNull().default(now()),
});

export const DIRECTIVE_KINDS = ["announcement", "action_proposal"] as const;
export type DirectiveKind = (typeof DIRECTIVE_KINDS)[number];

/** Announcements and proposed actions sent down by a fédération or national, or received from them. */
export const directives = sqliteTable(
  "directives",
  {
    id: id(),
    uri: text("uri").notNull(),
    outgoing: bool("outgoing").notNull(),
    kind: text("kind", { enum: DIRECTIVE_KINDS }).notNull(),
    fromUri: text("from_uri").notNull(),
    fromName: text("from_name").notNull().default(""),
    title: text("title").notNull(),
    /** Plain text. */
    body: text("body").notNull().default(""),
    /** Action proposals: JSON {type, campaignUri, startAt, meetingPoint}. */
    proposal: text("proposal"),
    /** Receiving section: the section-only post that shows it, and the action made from it. */
    postId: integer("post_id").references(() => posts.id, { onDelete: "set null" }),
    actionId: integer("action_id").references(() => fieldActions.id, { onDelete: "set null" }),
    createdBy: integer("created_by").references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("directives_uri").on(t.uri), index("directives_created").on(t.createdAt)],
);

// ---- Thematic groups (FEP-1b12) -------------------------------------------------

/** party_only: this party's instances; approval: moderators accept each request; sympathisants: local sympathisants too; fediverse: anyone. */
export const GROUP_POLICIES = ["party_only", "approval", "sympathisants", "fediverse"] as const;
export type GroupPolicy = (typeof GROUP_POLICIES)[number];
/** public: posts are public and announced to anyone following; members: only members' servers receive them. */
export const GROUP_VISIBILITIES = ["public", "members"] as const;
export type GroupVisibility = (typeof GROUP_VISIBILITIES)[number];
/** proposed: waiting for a secretary's or admin's approval (no actor yet); refused: said no. */
export const GROUP_STATES = ["proposed", "active", "refused"] as const;
export type GroupState = (typeof GROUP_STATES)[number];
export const GROUP_ROLES = ["owner", "moderator"] as const;
export type GroupRole = (typeof GROUP_ROLES)[number];

/**
 * Thematic groups: the ones this instance hosts (local, with their settings)
 * and remote ones it has learnt of (a Group actor that says it is a Coopol
 * thematic group, or that announced activities to our members). Membership is
 * an accepted follow of the group's actor; the section's own node actor is
 * never here.
 */
export const groups = sqliteTable(
  "groups",
  {
    id: id(),
    /** Null while a local group waits for approval: its actor is made when it becomes active. */
    actorId: integer("actor_id").references((): AnySQLiteColumn => actors.id),
    local: bool("local").notNull(),
    /** Local groups: the name in /groups/<slug>; the actor is g_<slug>. */
    slug: text("slug"),
    name: text("name").notNull(),
    /** Plain text. */
    description: text("description").notNull().default(""),
    rules: text("rules").notNull().default(""),
    /** JSON array of lower-case hashtags without the #. */
    themes: text("themes").notNull().default("[]"),
    policy: text("policy", { enum: GROUP_POLICIES }).notNull().default("fediverse"),
    visibility: text("visibility", { enum: GROUP_VISIBILITIES }).notNull().default("public"),
    state: text("state", { enum: GROUP_STATES }).notNull().default("active"),
    createdBy: integer("created_by").references(() => users.id),
    reviewedBy: integer("reviewed_by").references(() => users.id),
    lastActivityAt: timestamp("last_activity_at"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull().default(now()),
  },
  (t) => [uniqueIndex("groups_actor").on(t.actorId), uniqueIndex("groups_slug").on(t.slug), index("groups_activity").on(t.state, t.lastActivityAt)],
);

/** Owner and moderators of a local group (every member is simply a follower of its actor). */
export const groupRoles = sqliteTable(
  "group_roles",
  {
    groupId: integer("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    actorId: actorRef(),
    role: text("role", { enum: GROUP_ROLES }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.actorId] })],
);

/** The groups an event with the "groups" audience is for (and whose agendas show it). */
export const eventGroups = sqliteTable(
  "event_groups",
  {
    eventId: integer("event_id")
      .notNull()
      .references(() => events.id, { onDelete: "cascade" }),
    groupId: integer("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
  },
  (t) => [primaryKey({ columns: [t.eventId, t.groupId] }), index("event_groups_group").on(t.groupId)],
);

/** Actors, or whole domains, banned from a local group. */
export const groupBans = sqliteTable(
  "group_bans",
  {
    id: id(),
    groupId: integer("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    actorId: integer("actor_id").references((): AnySQLiteColumn => actors.id),
    domain: text("domain"),
    createdBy: integer("created_by").references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [index("group_bans_group").on(t.groupId), uniqueIndex("group_bans_actor").on(t.groupId, t.actorId), uniqueIndex("group_bans_domain").on(t.groupId, t.domain)],
);

/**
 * Posts of a group's discussion: accepted (and, for a local group, relayed).
 * `title` makes a post a thread's topic (the Note's `name`); replies have none.
 * A thread's first post also carries the thread's figures, kept by triggers
 * (migration 0016) whatever code path adds, removes, hides or shows a post:
 * its replies not hidden in the group, and its last activity (the latest
 * publication among its posts not hidden, the first post's own always), which
 * orders a group's threads.
 */
export const groupPosts = sqliteTable(
  "group_posts",
  {
    groupId: integer("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    postId: postRef(),
    title: text("title"),
    /** The thread's first post (itself for a topic). */
    rootId: integer("root_id").notNull(),
    createdAt: createdAt(),
    /** A thread's first post: its replies not hidden in the group (triggers). 0 on replies. */
    repliesCount: integer("replies_count").notNull().default(0),
    /** A thread's first post: its last activity, ms (triggers). null on replies. */
    lastActivityAt: timestamp("last_activity_at"),
  },
  (t) => [
    primaryKey({ columns: [t.groupId, t.postId] }),
    index("group_posts_post").on(t.postId),
    index("group_posts_root").on(t.groupId, t.rootId),
    // A group's threads, most recently active first, page after page.
    index("group_posts_threads").on(t.groupId, t.lastActivityAt, t.postId).where(sql`${t.lastActivityAt} is not null`),
  ],
);

// ---- Debate: proposals and amendments; moderation ------------------------------

export const PROPOSAL_STATES = ["open", "adopted", "rejected", "withdrawn"] as const;
export type ProposalState = (typeof PROPOSAL_STATES)[number];
export const STANCES = ["support", "oppose"] as const;
export type Stance = (typeof STANCES)[number];

/**
 * Proposals of a group's discussion: a post (its text) that members support
 * or oppose; an amendment is a proposal that refers to another. Stored on
 * every instance that knows the post; the group's instance decides the state.
 */
export const proposals = sqliteTable(
  "proposals",
  {
    id: id(),
    postId: postRef(),
    groupId: integer("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    /** The proposal this one amends. */
    amendsId: integer("amends_id").references((): AnySQLiteColumn => proposals.id, { onDelete: "set null" }),
    state: text("state", { enum: PROPOSAL_STATES }).notNull().default("open"),
    decidedAt: timestamp("decided_at"),
    decidedBy: integer("decided_by").references((): AnySQLiteColumn => actors.id),
    /** Tally as the group's instance last said (remote groups); local groups count proposal_votes. */
    remoteSupport: integer("remote_support"),
    remoteOppose: integer("remote_oppose"),
    /** `updated` of the last status applied (remote groups, ms): a status arriving late changes nothing. */
    statusVersion: integer("status_version"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at").notNull().default(now()),
  },
  (t) => [uniqueIndex("proposals_post").on(t.postId), index("proposals_group").on(t.groupId, t.state), index("proposals_amends").on(t.amendsId)],
);

/** Who supports or opposes a proposal (one stance per actor, changeable). */
export const proposalVotes = sqliteTable(
  "proposal_votes",
  {
    proposalId: integer("proposal_id")
      .notNull()
      .references(() => proposals.id, { onDelete: "cascade" }),
    actorId: actorRef(),
    stance: text("stance", { enum: STANCES }).notNull(),
    /** Id of the activity that carried it (sent or received). */
    uri: text("uri"),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.actorId] })],
);

export const FLAG_STATES = ["open", "resolved", "dismissed"] as const;
export type FlagState = (typeof FLAG_STATES)[number];

/** Reports of posts (ActivityPub Flag), made here or received, for the moderators' queue. */
export const postFlags = sqliteTable(
  "post_flags",
  {
    id: id(),
    /** Id of the Flag activity. */
    uri: text("uri").notNull(),
    /** The reported post, when stored here; its URI in any case. */
    postId: integer("post_id").references((): AnySQLiteColumn => posts.id, { onDelete: "set null" }),
    targetUri: text("target_uri").notNull(),
    /** The local group whose moderators handle it, if the post is in one. */
    groupId: integer("group_id").references(() => groups.id, { onDelete: "cascade" }),
    /** Who reported: a local member, or the remote instance's actor (Flags are often sent by the instance). */
    reporterActorId: integer("reporter_actor_id").references((): AnySQLiteColumn => actors.id),
    comment: text("comment").notNull().default(""),
    state: text("state", { enum: FLAG_STATES }).notNull().default("open"),
    resolvedAt: timestamp("resolved_at"),
    resolvedBy: integer("resolved_by").references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("post_flags_uri").on(t.uri), index("post_flags_state").on(t.state, t.createdAt), index("post_flags_group").on(t.groupId, t.state)],
);

export const MODERATION_ACTIONS = ["hide", "unhide", "remove", "ban", "unban", "remove_member", "dismiss_flag", "resolve_flag", "policy"] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

/** What moderators did, and why: shown to a group's moderators (and the instance's admins). */
export const moderationLog = sqliteTable(
  "moderation_log",
  {
    id: id(),
    groupId: integer("group_id").references(() => groups.id, { onDelete: "cascade" }),
    moderatorId: integer("moderator_id").references(() => users.id),
    action: text("action", { enum: MODERATION_ACTIONS }).notNull(),
    targetUri: text("target_uri").notNull(),
    reason: text("reason").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [index("moderation_log_group").on(t.groupId, t.createdAt)],
);

/** Posts hidden by a moderator in a group's discussion (kept, not shown). */
export const hiddenPosts = sqliteTable(
  "hidden_posts",
  {
    postId: postRef(),
    groupId: integer("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    hiddenBy: integer("hidden_by").references(() => users.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.postId, t.groupId] })],
);

export const TRANSFER_DIRECTIONS = ["in", "out"] as const;
export const TRANSFER_STATUSES = ["pending", "accepted", "refused", "moved"] as const;

/**
 * Members changing section (docs/federation.md, "Moving an account"): on the
 * new section, a request naming the old account ("in"), accepted or refused by
 * a secretary; on the old one, the record of the move ("out").
 */
export const memberTransfers = sqliteTable(
  "member_transfers",
  {
    id: id(),
    direction: text("direction", { enum: TRANSFER_DIRECTIONS }).notNull(),
    /** The account of this instance. */
    actorId: actorRef(),
    /** The account on the other section: the old one ("in") or the new one ("out"). */
    otherActorId: actorRef("other_actor_id"),
    status: text("status", { enum: TRANSFER_STATUSES }).notNull(),
    decidedBy: integer("decided_by").references(() => users.id),
    createdAt: createdAt(),
    decidedAt: timestamp("decided_at"),
  },
  (t) => [index("member_transfers_actor").on(t.actorId), index("member_transfers_status").on(t.direction, t.status)],
);

export const ATTESTED_STATUSES = ["card_holder", "sympathisant", "none"] as const;
export type AttestedStatus = (typeof ATTESTED_STATUSES)[number];

/**
 * What this instance last verified of a remote actor's membership attestation
 * (src/party/attestations.ts): kept until it expires, and the highest sequence
 * number seen, so an older attestation replayed after a change is refused.
 */
export const membershipChecks = sqliteTable("membership_checks", {
  actorId: integer("actor_id")
    .primaryKey()
    .references((): AnySQLiteColumn => actors.id, { onDelete: "cascade" }),
  /** The section node actor that signed it. */
  issuer: text("issuer").notNull(),
  status: text("status", { enum: ATTESTED_STATUSES }).notNull(),
  seq: integer("seq").notNull(),
  since: timestamp("since"),
  expiresAt: timestamp("expires_at").notNull(),
  checkedAt: timestamp("checked_at").notNull(),
});

// ---- The party's directory of nodes, and federation modes (src/party) ----------------------

/**
 * The latest directory this node holds: the national node's signed document
 * as received (served again to our children), one row at most (id 1).
 */
export const partyDirectory = sqliteTable("party_directory", {
  id: integer("id").primaryKey(),
  /** The national node actor that signed it. */
  nationalUri: text("national_uri").notNull(),
  version: integer("version").notNull(),
  /** The signed JSON document, byte for byte as verified. */
  document: text("document").notNull(),
  receivedAt: timestamp("received_at").notNull(),
});

/** The directory's entries, one row per node, for indexed lookups (`isPartyDomain`). */
export const partyNodes = sqliteTable(
  "party_nodes",
  {
    actorUri: text("actor_uri").primaryKey(),
    domain: text("domain").notNull(),
    kind: text("kind", { enum: NODE_KINDS }).notNull(),
    name: text("name"),
    territory: text("territory"),
    parentUri: text("parent_uri"),
  },
  (t) => [index("party_nodes_domain").on(t.domain)],
);

/** On the national node: what each linked fédération reported of its own linked sections. */
export const partyReportedSections = sqliteTable(
  "party_reported_sections",
  {
    federationUri: text("federation_uri").notNull(),
    sectionUri: text("section_uri").notNull(),
    name: text("name"),
    territory: text("territory"),
  },
  (t) => [primaryKey({ columns: [t.federationUri, t.sectionUri] })],
);

export const PARTY_NODE_EDITS = ["add", "remove"] as const;

/** On the national node: nodes national admins added or removed by hand (they win over the links). */
export const partyNodeEdits = sqliteTable("party_node_edits", {
  actorUri: text("actor_uri").primaryKey(),
  action: text("action", { enum: PARTY_NODE_EDITS }).notNull(),
  kind: text("kind", { enum: NODE_KINDS }).notNull().default("section"),
  name: text("name"),
  territory: text("territory"),
  parentUri: text("parent_uri"),
  reason: text("reason").notNull().default(""),
  createdAt: createdAt(),
});

export const DOMAIN_POLICIES = ["allow", "silence", "suspend"] as const;
export type DomainPolicy = (typeof DOMAIN_POLICIES)[number];

/**
 * Domains the admins named: `allow` (admitted in party-only mode), `silence`
 * and `suspend` (the blocklist, as Mastodon's domain blocks), with a reason.
 */
export const federationDomains = sqliteTable("federation_domains", {
  domain: text("domain").primaryKey(),
  policy: text("policy", { enum: DOMAIN_POLICIES }).notNull(),
  reason: text("reason").notNull().default(""),
  createdAt: createdAt(),
});
