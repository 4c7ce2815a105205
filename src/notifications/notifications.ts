// Notifications of local accounts: someone followed, mentioned, liked or
// boosted them, or reported a post they moderate (admin.report); and, Coopol's
// own (coopol.rsvp.*), someone answered an event they manage. Created by the domain functions and inbox handlers where the
// event happens; read by the Mastodon API (Mastodon's types only) and the web page /notifications (all).
// What was read is one marker per member (Mastodon's `markers` table,
// timeline "notifications"), shared by the apps and the web page.
import { and, desc, eq, gt, inArray, lt, notInArray, sql, type SQL } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { actorFilters, MASTODON_NOTIFICATION_TYPES, markers, notifications, postFlags, users, type MastodonNotificationType, type NotificationType } from "../storage/schema.ts";
import type { User } from "../members/members.ts";
import type { Page } from "../posts/posts.ts";
import { canSee } from "../posts/visibility.ts";

export type NotificationRow = typeof notifications.$inferSelect;

/** The types Mastodon apps know: what the Mastodon API and streaming may return. */
export const MASTODON_TYPES: readonly NotificationType[] = MASTODON_NOTIFICATION_TYPES;

export function isMastodonType(type: string): type is MastodonNotificationType {
  return (MASTODON_TYPES as readonly string[]).includes(type);
}

/**
 * Tells the local account behind `recipientActorId` (if any) about an event.
 * Nothing for remote actors, for one's own actions (except a poll that ended),
 * or from muted or blocked accounts.
 */
export function notify(
  services: Services,
  event: NotifyEvent & { recipientActorId: number },
): void {
  const { db } = services;
  // A poll's end is the one event its own author is told about (as on Mastodon).
  if (event.recipientActorId === event.fromActorId && event.type !== "poll") return;
  const user = db.select({ id: users.id }).from(users).where(eq(users.actorId, event.recipientActorId)).get();
  if (!user) return;
  const silenced = db
    .select({ kind: actorFilters.kind })
    .from(actorFilters)
    .where(and(eq(actorFilters.userId, user.id), eq(actorFilters.targetId, event.fromActorId), sql`(${actorFilters.kind} = 'block' or ${actorFilters.notifications} = 1)`))
    .get();
  if (silenced) return;
  const eventId = event.eventId ?? null;
  const actionId = event.actionId ?? null;
  const campaignId = event.campaignId ?? null;
  const row = db.transaction((tx) => {
    // About an event: one per person and event, the newest answer replacing the last (and new again).
    if (eventId != null) tx.delete(notifications).where(and(eq(notifications.userId, user.id), eq(notifications.fromActorId, event.fromActorId), eq(notifications.eventId, eventId))).run();
    // About an action: one per person, action and kind (signing up and leaving are one kind), the newest replacing the last.
    if (actionId != null) {
      const kinds = event.type === "coopol.results" ? ["coopol.results" as const] : (["coopol.shift.signup", "coopol.shift.withdraw"] as const);
      tx.delete(notifications).where(and(eq(notifications.userId, user.id), eq(notifications.fromActorId, event.fromActorId), eq(notifications.actionId, actionId), inArray(notifications.type, [...kinds]))).run();
    }
    // A node joining a campaign again (after leaving it) replaces the earlier line.
    if (campaignId != null && event.type === "coopol.campaign_joined") {
      tx.delete(notifications).where(and(eq(notifications.userId, user.id), eq(notifications.fromActorId, event.fromActorId), eq(notifications.campaignId, campaignId), eq(notifications.type, event.type))).run();
    }
    return tx
      .insert(notifications)
      .values({
        id: newId(),
        userId: user.id,
        type: event.type,
        fromActorId: event.fromActorId,
        postId: event.postId ?? null,
        eventId,
        reportId: event.reportId ?? null,
        campaignId,
        actionId,
      })
      .onConflictDoNothing()
      .returning()
      .get();
  });
  if (row) services.events.emit("notification.created", row);
}

export interface NotifyEvent {
  type: NotificationType;
  fromActorId: number;
  postId?: number | null;
  eventId?: number | null;
  reportId?: number | null;
  campaignId?: number | null;
  actionId?: number | null;
}

/** The same event for several local accounts (each told once). */
export function notifyAll(services: Services, recipientActorIds: Iterable<number>, event: NotifyEvent): void {
  for (const recipientActorId of new Set(recipientActorIds)) notify(services, { ...event, recipientActorId });
}

/** Mentions in a new post, for every mentioned local account. */
export function notifyMentions(services: Services, post: Parameters<typeof canSee>[2], mentionedActorIds: number[]): void {
  for (const actorId of mentionedActorIds) {
    // A local account that may not read the post (a sympathisant named in a
    // members-only one) does not hear of it: the notification would show it.
    const local = services.db.select({ role: users.role }).from(users).where(eq(users.actorId, actorId)).get();
    if (local && !canSee(services.db, { kind: "local", actorId, role: local.role }, post)) continue;
    notify(services, { recipientActorId: actorId, type: "mention", fromActorId: post.actorId, postId: post.id });
  }
}

export interface NotificationFilter {
  types?: NotificationType[];
  excludeTypes?: NotificationType[];
  accountId?: number;
  /** Never any other type than these (the Mastodon API: MASTODON_TYPES). */
  only?: readonly NotificationType[];
}

export function listNotifications(db: Db, user: User, page: Page = {}, filter: NotificationFilter = {}): NotificationRow[] {
  const where: SQL[] = [eq(notifications.userId, user.id)];
  if (page.maxId != null) where.push(lt(notifications.id, page.maxId));
  if (page.sinceId != null) where.push(gt(notifications.id, page.sinceId));
  if (page.minId != null) where.push(gt(notifications.id, page.minId));
  if (filter.types?.length) where.push(inArray(notifications.type, filter.types));
  if (filter.excludeTypes?.length) where.push(notInArray(notifications.type, filter.excludeTypes));
  if (filter.accountId != null) where.push(eq(notifications.fromActorId, filter.accountId));
  if (filter.only) where.push(inArray(notifications.type, [...filter.only]));
  const rows = db
    .select()
    .from(notifications)
    .where(and(...where))
    .orderBy(page.minId != null ? notifications.id : desc(notifications.id))
    .limit(Math.min(Math.max(page.limit ?? 40, 1), 80))
    .all();
  return page.minId != null ? rows.reverse() : rows;
}

/** The report an `admin.report` notification is about: the latest report of its post made before it. */
export function flagOfNotification(db: Db, notification: { id: number; postId: number | null }): typeof postFlags.$inferSelect | undefined {
  if (notification.postId == null) return undefined;
  return db
    .select()
    .from(postFlags)
    .where(and(eq(postFlags.postId, notification.postId), sql`${postFlags.id} <= ${notification.id}`))
    .orderBy(desc(postFlags.id))
    .limit(1)
    .get();
}

export function getNotification(db: Db, user: User, id: number, only?: readonly NotificationType[]): NotificationRow {
  const row = db.select().from(notifications).where(and(eq(notifications.id, id), eq(notifications.userId, user.id))).get();
  if (!row || (only && !only.includes(row.type))) throw new UserError("notification_not_found", 404);
  return row;
}

export function dismissNotification(db: Db, user: User, id: number): void {
  db.delete(notifications).where(and(eq(notifications.id, id), eq(notifications.userId, user.id))).run();
}

/** Deletes all the member's notifications, or only those of some types (an app clears what it shows). */
export function clearNotifications(db: Db, user: User, only?: readonly NotificationType[]): void {
  db.delete(notifications).where(and(eq(notifications.userId, user.id), only ? inArray(notifications.type, [...only]) : undefined)).run();
}

/** The newest notification id the member has read (their "notifications" marker), 0 if none. */
export function lastReadNotificationId(db: Db, user: User): number {
  const marker = lastReadQuery(db).get({ userId: user.id });
  return marker && /^\d+$/.test(marker.lastReadId) ? Number(marker.lastReadId) : 0;
}

/** Notifications newer than the member's marker, counted up to `limit` (Mastodon's unread_count: its types only). */
export function unreadNotificationCount(db: Db, user: User, limit = 100, only?: readonly NotificationType[]): number {
  const since = lastReadNotificationId(db, user);
  const row = unreadCountQuery(db).get({ userId: user.id, since, types: only ? JSON.stringify(only) : null });
  return Math.min(row?.n ?? 0, Math.max(limit, 0));
}

/** Unread notifications are counted up to this many at most (Mastodon's own cap of unread_count's `limit`). */
const UNREAD_COUNT_MAX = 1000;

// The layout of every web page asks these two: built once (storage/prepared.ts).
const lastReadQuery = preparedOnce((db) =>
  db
    .select({ lastReadId: markers.lastReadId })
    .from(markers)
    .where(and(eq(markers.userId, sql.placeholder("userId")), eq(markers.timeline, "notifications")))
    .prepare(),
);

const unreadCountQuery = preparedOnce((db) =>
  db
    .select({ n: sql<number>`count(*)` })
    .from(
      db
        .select({ id: notifications.id })
        .from(notifications)
        .where(
          and(
            eq(notifications.userId, sql.placeholder("userId")),
            gt(notifications.id, sql.placeholder("since")),
            // `types`: a JSON array of the types counted, or null for all.
            sql`(${sql.placeholder("types")} is null or ${notifications.type} in (select value from json_each(${sql.placeholder("types")})))`,
          ),
        )
        // A fixed limit: with a bound one (`limit ?`) SQLite ran this count about 4 times slower.
        .limit(sql.raw(String(UNREAD_COUNT_MAX)) as unknown as number)
        .as("unread"),
    )
    .prepare(),
);

/**
 * Moves the member's "notifications" marker forward to `lastReadId` (never
 * back), as an app does with POST /api/v1/markers: what the web page has shown
 * is read for the apps too.
 */
export function markNotificationsRead(db: Db, user: User, lastReadId: number): void {
  if (lastReadId <= lastReadNotificationId(db, user)) return;
  setMarker(db, user, "notifications", String(lastReadId));
}

/** Sets a member's read marker ("home" or "notifications", as Mastodon apps keep them); its version goes up by one. */
export function setMarker(db: Db, user: User, timeline: "home" | "notifications", lastReadId: string): typeof markers.$inferSelect {
  const now = Date.now();
  return db
    .insert(markers)
    .values({ userId: user.id, timeline, lastReadId, updatedAt: now })
    .onConflictDoUpdate({ target: [markers.userId, markers.timeline], set: { lastReadId, updatedAt: now, version: sql`${markers.version} + 1` } })
    .returning()
    .get();
}
