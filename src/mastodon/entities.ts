// Conversions from stored rows to Mastodon's JSON entities, in one place.
// Lists are rendered in batches (a few queries per page, not per status).
import { and, count, eq, inArray, sql } from "drizzle-orm";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { actors, bookmarks, likes, mentions, pins, posts, postTags, type Visibility } from "../storage/schema.ts";
import { isPartyAudience } from "../party/audiences.ts";
import type { ActorRow } from "../federation/actors.ts";
import type { PostRow } from "../posts/posts.ts";
import { htmlToText } from "../posts/content.ts";
import { tagUrl } from "../federation/convert.ts";
import { attachmentsOf, mediaUrl, type MediaRow } from "../media/media.ts";
import type { User } from "../members/members.ts";
import { flagOfNotification, isMastodonType, type NotificationRow } from "../notifications/notifications.ts";
import type { Relationship } from "../social/filters.ts";
import { translator, type Locale } from "../web/i18n.ts";
import { pollsOfPosts, type PollResults } from "../polls/polls.ts";
import { firstSafeUrl, safeUrl } from "../safe-url.ts";

export const DEFAULT_AVATAR_PATH = "/static/avatar.png";

const iso = (ms: number) => new Date(ms).toISOString();

function handleOf(actor: ActorRow): string {
  return actor.local ? actor.username : `${actor.username}@${actor.domain}`;
}

export function renderAccounts(services: Services, rows: ActorRow[]): MastoAccount[] {
  // A moved account carries the one it moved to (Mastodon's `moved`), read in one query for the batch, one level deep.
  const movedIds = [...new Set(rows.map((a) => a.movedToId).filter((id): id is number => id != null))];
  const movedTo = movedIds.length ? new Map(renderPlainAccounts(services, services.db.select().from(actors).where(inArray(actors.id, movedIds)).all()).map((a) => [Number(a.id), a])) : null;
  const rendered = renderPlainAccounts(services, rows);
  if (movedTo) {
    rows.forEach((actor, i) => {
      const target = actor.movedToId != null ? movedTo.get(actor.movedToId) : undefined;
      if (target) rendered[i]!.moved = target;
    });
  }
  return rendered;
}

function renderPlainAccounts(services: Services, rows: ActorRow[]): MastoAccount[] {
  const { config } = services;
  return rows.map((actor) => {
    // Addresses are checked again here: rows stored before safeUrl() existed may hold javascript: links.
    const avatar = safeUrl(actor.avatarUrl) ?? `${config.origin}${DEFAULT_AVATAR_PATH}`;
    const header = safeUrl(actor.headerUrl) ?? `${config.origin}${DEFAULT_AVATAR_PATH}`;
    return {
      id: String(actor.id),
      username: actor.username,
      acct: handleOf(actor),
      display_name: actor.name,
      locked: actor.locked,
      bot: actor.type === "Application" || actor.type === "Service",
      group: actor.type === "Group",
      discoverable: actor.type !== "Application",
      indexable: false,
      noindex: true,
      created_at: iso(actor.createdAt),
      note: actor.summary,
      url: accountUrl(config.origin, actor),
      uri: actor.uri,
      avatar,
      avatar_static: avatar,
      header,
      header_static: header,
      followers_count: actor.followersCount,
      following_count: actor.followingCount,
      statuses_count: actor.statusesCount,
      last_status_at: actor.lastStatusAt ? iso(actor.lastStatusAt).slice(0, 10) : null,
      emojis: [],
      fields: [],
    };
  });
}

export interface MastoAccount {
  id: string;
  username: string;
  acct: string;
  display_name: string;
  locked: boolean;
  bot: boolean;
  group: boolean;
  discoverable: boolean;
  indexable: boolean;
  noindex: boolean;
  created_at: string;
  note: string;
  url: string;
  uri: string;
  avatar: string;
  avatar_static: string;
  header: string;
  header_static: string;
  followers_count: number;
  following_count: number;
  statuses_count: number;
  last_status_at: string | null;
  emojis: unknown[];
  fields: unknown[];
  /** The account this one moved to, when it moved. */
  moved?: MastoAccount;
}

export function renderAccount(services: Services, actor: ActorRow): MastoAccount {
  return renderAccounts(services, [actor])[0]!;
}

/** The logged-in member's own account, with the source of their profile. */
export function renderCredentialAccount(services: Services, user: User, actor: ActorRow) {
  return {
    ...renderAccount(services, actor),
    source: { note: htmlToText(actor.summary), fields: [], privacy: "public", sensitive: false, language: user.locale ?? "fr", follow_requests_count: 0 },
    role: { id: user.role, name: user.role, color: "", permissions: "0", highlighted: false },
  };
}

/** Mastodon's four visibilities; section, fédération and party posts travel as "private" plus Coopol's own field. */
function mastoVisibility(v: Visibility): "public" | "unlisted" | "private" | "direct" {
  return v === "section" || isPartyAudience(v) ? "private" : v;
}

/** An account's page for apps: its own, else its id, else (neither safe) this instance. */
function accountUrl(origin: string, actor: ActorRow): string {
  return firstSafeUrl(actor.url, actor.uri) ?? origin;
}

/** Whether an attachment can be shown: our own file, or a remote one at an http(s) address. */
const shownMedia = (row: MediaRow) => row.fileName != null || safeUrl(row.remoteUrl) != null;

export function renderMedia(origin: string, row: MediaRow) {
  const url = mediaUrl(origin, row);
  const meta = row.width && row.height ? { original: { width: row.width, height: row.height, size: `${row.width}x${row.height}`, aspect: row.width / row.height } } : {};
  return {
    id: String(row.id),
    type: row.contentType.startsWith("image/") ? (row.contentType === "image/gif" ? "gifv" : "image") : "unknown",
    url,
    preview_url: url,
    remote_url: safeUrl(row.remoteUrl),
    text_url: null,
    meta: { ...meta, small: meta.original },
    description: row.description || null,
    blurhash: null,
  };
}

/**
 * Statuses as a viewer sees them (favourited, reblogged… are the viewer's).
 * `locale` picks the language of the section-only marker.
 */
export function renderStatuses(services: Services, viewer: User | null, rows: PostRow[], locale: Locale = "fr"): MastoStatus[] {
  const { db, config } = services;
  if (rows.length === 0) return [];
  const originalIds = rows.map((p) => p.reblogOfId).filter((x): x is number => x != null);
  const originals = originalIds.length ? db.select().from(posts).where(inArray(posts.id, originalIds)).all() : [];
  const all = [...rows, ...originals];
  const ids = [...new Set(all.map((p) => p.id))];
  const parentIds = all.map((p) => p.inReplyToId).filter((x): x is number => x != null);
  const parents = new Map(parentIds.length ? db.select({ id: posts.id, actorId: posts.actorId }).from(posts).where(inArray(posts.id, parentIds)).all().map((p) => [p.id, p.actorId]) : []);
  const actorRows = db.select().from(actors).where(inArray(actors.id, [...new Set(all.map((p) => p.actorId))])).all();
  const accounts = new Map(renderAccounts(services, actorRows).map((a) => [Number(a.id), a]));
  const attachments = attachmentsOf(db, ids);
  const mentioned = db
    .select({ postId: mentions.postId, actor: actors })
    .from(mentions)
    .innerJoin(actors, eq(actors.id, mentions.actorId))
    .where(inArray(mentions.postId, ids))
    .all();
  const tags = db.select().from(postTags).where(inArray(postTags.postId, ids)).all();
  const me = viewer?.actorId;
  const liked = new Set(me ? db.select({ id: likes.postId }).from(likes).where(and(eq(likes.actorId, me), inArray(likes.postId, ids))).all().map((r) => r.id) : []);
  const reblogged = new Set(me ? db.select({ id: posts.reblogOfId }).from(posts).where(and(eq(posts.actorId, me), inArray(posts.reblogOfId, ids))).all().map((r) => r.id!) : []);
  const bookmarked = new Set(viewer ? db.select({ id: bookmarks.postId }).from(bookmarks).where(and(eq(bookmarks.userId, viewer.id), inArray(bookmarks.postId, ids))).all().map((r) => r.id) : []);
  const pinned = new Set(me ? db.select({ id: pins.postId }).from(pins).where(and(eq(pins.actorId, me), inArray(pins.postId, ids))).all().map((r) => r.id) : []);
  const t = translator(locale);
  const markers: Partial<Record<Visibility, string>> = { section: t("visibility.section_marker"), federation: t("visibility.federation_marker"), party: t("visibility.party_marker") };
  const pollsByPost = pollsOfPosts(db, ids, me ?? null);

  const one = (post: PostRow): MastoStatus => {
    const marker = markers[post.visibility];
    const content = marker ? `<p>🔒 ${marker}</p>${post.content}` : post.content;
    return {
      id: String(post.id),
      uri: post.uri,
      url: firstSafeUrl(post.url, post.uri),
      created_at: iso(post.publishedAt),
      edited_at: post.editedAt ? iso(post.editedAt) : null,
      account: accounts.get(post.actorId)!,
      in_reply_to_id: post.inReplyToId != null ? String(post.inReplyToId) : null,
      in_reply_to_account_id: post.inReplyToId != null && parents.has(post.inReplyToId) ? String(parents.get(post.inReplyToId)) : null,
      reblog: null,
      content,
      text: post.source,
      spoiler_text: post.summary,
      sensitive: post.sensitive,
      visibility: mastoVisibility(post.visibility),
      // Hometown and glitch-soc mark posts that never leave the instance this way.
      local_only: post.visibility === "section",
      coopol: { visibility: post.visibility, sympathisants: post.sympathisants },
      language: post.language,
      replies_count: post.repliesCount,
      reblogs_count: post.reblogsCount,
      favourites_count: post.favouritesCount,
      favourited: liked.has(post.id),
      reblogged: reblogged.has(post.id),
      bookmarked: bookmarked.has(post.id),
      pinned: pinned.has(post.id),
      muted: false,
      media_attachments: (attachments.get(post.id) ?? []).filter(shownMedia).map((m) => renderMedia(config.origin, m)),
      mentions: mentioned
        .filter((m) => m.postId === post.id)
        .map((m) => ({ id: String(m.actor.id), username: m.actor.username, acct: handleOf(m.actor), url: accountUrl(config.origin, m.actor) })),
      tags: tags.filter((t) => t.postId === post.id).map((t) => ({ name: t.tag, url: tagUrl(config.origin, t.tag) })),
      emojis: [],
      card: null,
      poll: pollsByPost.has(post.id) ? renderPoll(pollsByPost.get(post.id)!) : null,
      application: null,
      filtered: [],
    };
  };
  const byId = new Map(originals.map((o) => [o.id, o]));
  return rows.map((post) => {
    const status = one(post);
    const original = post.reblogOfId != null ? byId.get(post.reblogOfId) : undefined;
    if (original) {
      const inner = one(original);
      return { ...status, reblog: inner, content: "", text: null, favourited: inner.favourited, reblogged: inner.reblogged, bookmarked: inner.bookmarked };
    }
    return status;
  });
}

export interface MastoStatus {
  id: string;
  uri: string;
  url: string | null;
  created_at: string;
  edited_at: string | null;
  account: MastoAccount;
  in_reply_to_id: string | null;
  in_reply_to_account_id: string | null;
  reblog: MastoStatus | null;
  content: string;
  text: string | null;
  spoiler_text: string;
  sensitive: boolean;
  visibility: "public" | "unlisted" | "private" | "direct";
  local_only: boolean;
  coopol: { visibility: Visibility; sympathisants: boolean };
  language: string | null;
  replies_count: number;
  reblogs_count: number;
  favourites_count: number;
  favourited: boolean;
  reblogged: boolean;
  bookmarked: boolean;
  pinned: boolean;
  muted: boolean;
  media_attachments: ReturnType<typeof renderMedia>[];
  mentions: Array<{ id: string; username: string; acct: string; url: string }>;
  tags: Array<{ name: string; url: string }>;
  emojis: unknown[];
  card: null;
  poll: MastoPoll | null;
  application: null;
  filtered: unknown[];
}

export interface MastoPoll {
  id: string;
  expires_at: string | null;
  expired: boolean;
  multiple: boolean;
  votes_count: number;
  voters_count: number;
  options: Array<{ title: string; votes_count: number | null }>;
  emojis: unknown[];
  voted?: boolean;
  own_votes?: number[];
}

/** Mastodon's Poll; `voted` and `own_votes` only for a logged-in viewer. Hidden totals are null. */
export function renderPoll(poll: PollResults): MastoPoll {
  return {
    id: String(poll.id),
    expires_at: poll.expiresAt != null ? iso(poll.expiresAt) : null,
    expired: poll.expired,
    multiple: poll.multiple,
    votes_count: poll.votesCount,
    voters_count: poll.votersCount,
    options: poll.options.map((title, i) => ({ title, votes_count: poll.totalsHidden ? null : (poll.counts[i] ?? 0) })),
    emojis: [],
    ...(poll.ownVotes ? { voted: poll.ownVotes.length > 0, own_votes: poll.ownVotes } : {}),
  };
}

export function renderStatus(services: Services, viewer: User | null, post: PostRow, locale?: Locale): MastoStatus {
  return renderStatuses(services, viewer, [post], locale)[0]!;
}

export function renderNotifications(services: Services, viewer: User, allRows: NotificationRow[], locale?: Locale) {
  const { db } = services;
  // Only the types apps know; Coopol's own are for the web page.
  const rows = allRows.filter((n) => isMastodonType(n.type));
  const actorRows = rows.length ? db.select().from(actors).where(inArray(actors.id, [...new Set(rows.map((n) => n.fromActorId))])).all() : [];
  const accounts = new Map(renderAccounts(services, actorRows).map((a) => [Number(a.id), a]));
  const postIds = rows.map((n) => n.postId).filter((x): x is number => x != null);
  const postRows = postIds.length ? db.select().from(posts).where(inArray(posts.id, postIds)).all() : [];
  const statuses = new Map(renderStatuses(services, viewer, postRows, locale).map((s) => [Number(s.id), s]));
  const authors = new Map(postRows.map((p) => [p.id, p.actorId]));
  return rows.map((n) => {
    const report = n.type === "admin.report" ? renderReport(services, n, authors.get(n.postId ?? 0)) : undefined;
    return {
      id: String(n.id),
      type: n.type,
      created_at: iso(n.createdAt),
      account: accounts.get(n.fromActorId)!,
      // As on Mastodon, a report's notification carries the report, not a status.
      status: n.postId != null && n.type !== "admin.report" ? (statuses.get(n.postId) ?? null) : null,
      ...(report !== undefined ? { report } : {}),
      group_key: n.postId != null && (n.type === "favourite" || n.type === "reblog") ? `${n.type}-${n.postId}` : `ungrouped-${n.id}`,
    };
  });
}

/**
 * Mastodon's Report entity for an `admin.report` notification, from the
 * report (post_flags row) of its post: category "other", the reported post in
 * `status_ids`, its author as `target_account`; `forwarded` when it came from
 * another server; `action_taken` once resolved or dismissed.
 */
function renderReport(services: Services, n: NotificationRow, authorId: number | undefined) {
  const flag = flagOfNotification(services.db, n);
  const author = authorId != null ? services.db.select().from(actors).where(eq(actors.id, authorId)).get() : undefined;
  if (!flag || !author) return null;
  const reporter = flag.reporterActorId != null ? services.db.select({ local: actors.local }).from(actors).where(eq(actors.id, flag.reporterActorId)).get() : undefined;
  return {
    id: String(flag.id),
    action_taken: flag.state !== "open",
    action_taken_at: flag.resolvedAt ? iso(flag.resolvedAt) : null,
    category: "other",
    comment: flag.comment,
    forwarded: reporter ? !reporter.local : false,
    created_at: iso(flag.createdAt),
    status_ids: flag.postId != null ? [String(flag.postId)] : [],
    rule_ids: null,
    target_account: renderAccount(services, author),
  };
}

export function renderRelationship(targetId: number, r: Relationship) {
  return {
    id: String(targetId),
    following: r.following,
    showing_reblogs: r.following,
    notifying: false,
    languages: null,
    followed_by: r.followedBy,
    blocking: r.blocking,
    blocked_by: false,
    muting: r.muting,
    muting_notifications: r.mutingNotifications,
    requested: r.requested,
    requested_by: r.requestedBy,
    domain_blocking: false,
    endorsed: false,
    note: "",
  };
}
