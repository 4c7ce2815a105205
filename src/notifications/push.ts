// Push to phones through Mastodon's Web Push API: an app (Tusky, Ivory, Elk…)
// registers one subscription per access token (POST /api/v1/push/subscription)
// with the push service's endpoint and its keys; on each new notification of a
// Mastodon type that the subscription's alerts and policy allow, the instance
// sends the notification encrypted for the app (RFC 8291 with `standard`, the
// legacy aesgcm draft otherwise, as Mastodon does) and signed with the
// instance's VAPID key (RFC 8292), made once and kept in `settings`.
//
// Sending never holds the request that made the notification: pushes wait in a
// small in-process queue (best effort, as push itself is). The push service is
// a remote server like any other: connections go to public addresses only.
import { and, eq, isNotNull, isNull } from "drizzle-orm";
import webpush from "web-push";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { actors, follows, posts, pushSubscriptions, settings, users } from "../storage/schema.ts";
import { UserError } from "../errors.ts";
import { checkTarget } from "../outbound.ts";
import { htmlToText } from "../posts/content.ts";
import { translator } from "../web/i18n.ts";
import { isMastodonType, type NotificationRow } from "./notifications.ts";
import { DEFAULT_AVATAR_PATH } from "../mastodon/entities.ts";

export type PushSubscriptionRow = typeof pushSubscriptions.$inferSelect;
export const PUSH_POLICIES = ["all", "followed", "follower", "none"] as const;
export type PushPolicy = (typeof PUSH_POLICIES)[number];
/** The alerts Mastodon's API knows (admin.sign_up never happens here: accounts come by invitation). */
export const PUSH_ALERTS = ["mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update", "admin.sign_up", "admin.report"] as const;
export type PushAlerts = Record<(typeof PUSH_ALERTS)[number], boolean>;

const VAPID_KEY = "push.vapid";

/** The instance's VAPID key pair (base64url), made on first use. */
export function vapidKeys(db: Db): { publicKey: string; privateKey: string } {
  const stored = db.select().from(settings).where(eq(settings.key, VAPID_KEY)).get();
  if (stored) return JSON.parse(stored.value) as { publicKey: string; privateKey: string };
  // Two first uses at once: the first insert wins and both read it back.
  db.insert(settings).values({ key: VAPID_KEY, value: JSON.stringify(webpush.generateVAPIDKeys()) }).onConflictDoNothing().run();
  return JSON.parse(db.select().from(settings).where(eq(settings.key, VAPID_KEY)).get()!.value) as { publicKey: string; privateKey: string };
}

export interface SubscriptionInput {
  endpoint: string;
  p256dh: string;
  auth: string;
  standard: boolean;
}

export function alertsOf(row: PushSubscriptionRow): PushAlerts {
  const stored = JSON.parse(row.alerts) as Partial<PushAlerts>;
  return Object.fromEntries(PUSH_ALERTS.map((name) => [name, stored[name] === true])) as PushAlerts;
}

/** A new subscription for this token, replacing the token's previous one (as Mastodon does). */
export function subscribe(
  services: Services,
  token: { id: number; userId: number; accessToken: string },
  input: SubscriptionInput,
  alerts: Partial<PushAlerts>,
  policy: PushPolicy = "all",
): PushSubscriptionRow {
  const { db, config } = services;
  let url: URL;
  try {
    // Push services' addresses are a few hundred characters; anything much longer is not one.
    if (input.endpoint.length > 2048) throw new Error("too long");
    url = new URL(input.endpoint);
    checkTarget(url, config.allowPrivateAddress);
  } catch {
    throw new UserError("push_bad_endpoint", 422);
  }
  // P-256 public key (65 bytes) and 16-byte secret, base64url (apps sometimes send standard base64).
  const key = Buffer.from(input.p256dh, "base64url");
  const secret = Buffer.from(input.auth, "base64url");
  if (key.length !== 65 || key[0] !== 4 || secret.length !== 16) throw new UserError("push_bad_keys", 422);
  const values = {
    userId: token.userId,
    endpoint: url.href,
    p256dh: key.toString("base64url"),
    auth: secret.toString("base64url"),
    accessToken: token.accessToken,
    standard: input.standard,
    alerts: JSON.stringify(Object.fromEntries(PUSH_ALERTS.map((name) => [name, alerts[name] === true]))),
    policy,
  };
  return db
    .insert(pushSubscriptions)
    .values({ id: newId(), tokenId: token.id, ...values })
    .onConflictDoUpdate({ target: pushSubscriptions.tokenId, set: { ...values, id: newId() } })
    .returning()
    .get();
}

export function subscriptionOf(db: Db, tokenId: number): PushSubscriptionRow {
  const row = db.select().from(pushSubscriptions).where(eq(pushSubscriptions.tokenId, tokenId)).get();
  if (!row) throw new UserError("push_not_found", 404);
  return row;
}

/** Changes alerts (those given) and policy; the endpoint and keys stay. */
export function updateSubscription(db: Db, tokenId: number, alerts: Partial<PushAlerts>, policy?: PushPolicy): PushSubscriptionRow {
  const row = subscriptionOf(db, tokenId);
  const merged = { ...alertsOf(row), ...alerts };
  return db
    .update(pushSubscriptions)
    .set({ alerts: JSON.stringify(merged), ...(policy ? { policy } : {}) })
    .where(eq(pushSubscriptions.id, row.id))
    .returning()
    .get();
}

export function unsubscribe(db: Db, tokenId: number): void {
  db.delete(pushSubscriptions).where(eq(pushSubscriptions.tokenId, tokenId)).run();
}

/** Whether the policy lets a notification from `fromActorId` through to the member. */
function policyAllows(db: Db, policy: PushPolicy, userActorId: number, fromActorId: number): boolean {
  const accepted = (follower: number, following: number) =>
    !!db.select({ one: follows.followerId }).from(follows).where(and(eq(follows.followerId, follower), eq(follows.followingId, following), isNotNull(follows.acceptedAt))).get();
  switch (policy) {
    case "all":
      return true;
    case "none":
      return false;
    case "followed":
      return accepted(userActorId, fromActorId);
    case "follower":
      return accepted(fromActorId, userActorId);
  }
}

/** The JSON an app decrypts, as Mastodon sends it. */
export function pushPayload(services: Services, n: NotificationRow, sub: PushSubscriptionRow, locale: string | null) {
  const { db, config } = services;
  const lang = locale === "en" ? "en" : "fr";
  const t = translator(lang);
  const from = db.select().from(actors).where(eq(actors.id, n.fromActorId)).get();
  const name = from?.name || from?.username || "?";
  const post = n.postId != null ? db.select({ content: posts.content }).from(posts).where(eq(posts.id, n.postId)).get() : undefined;
  const title =
    n.type === "poll"
      ? t("notif.poll")
      : n.type === "admin.report"
        ? t("notif.report_anonymous", { author: name })
        : t(`notif.${n.type}`, { who: name });
  const body = post ? htmlToText(post.content).trim() : "";
  return {
    access_token: sub.accessToken,
    preferred_locale: lang,
    notification_id: String(n.id),
    notification_type: n.type,
    icon: from?.avatarUrl ?? `${config.origin}${DEFAULT_AVATAR_PATH}`,
    title,
    // Mastodon cuts the body too: a lock screen shows a few lines.
    body: body.length > 140 ? `${body.slice(0, 139)}…` : body,
  };
}

/** Sends one push; a subscription the push service says is gone (404, 410) is deleted. */
async function deliver(services: Services, sub: PushSubscriptionRow, payload: object): Promise<void> {
  const { db, config, log } = services;
  // Deleted or replaced while it waited: nothing to send.
  if (!db.select({ id: pushSubscriptions.id }).from(pushSubscriptions).where(eq(pushSubscriptions.id, sub.id)).get()) return;
  const keys = vapidKeys(db);
  const origin = new URL(config.origin);
  // VAPID's subject must be https: or mailto: (web-push checks it).
  const subject = origin.protocol === "https:" ? config.origin : `mailto:push@${origin.hostname}`;
  const request = webpush.generateRequestDetails({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, JSON.stringify(payload), {
    vapidDetails: { subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
    contentEncoding: sub.standard ? "aes128gcm" : "aesgcm",
    TTL: 48 * 3600,
  });
  const url = new URL(request.endpoint);
  checkTarget(url, config.allowPrivateAddress);
  const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => name.toLowerCase() !== "content-length").map(([k, v]) => [k, String(v)]));
  // The process's dispatcher connects to public addresses only (outbound.ts); no redirects to elsewhere.
  const response = await fetch(url, { method: "POST", headers, body: request.body as Buffer, redirect: "manual", signal: AbortSignal.timeout(15_000) });
  await response.body?.cancel();
  if (response.status === 404 || response.status === 410) {
    db.delete(pushSubscriptions).where(eq(pushSubscriptions.id, sub.id)).run();
    log.info({ subscription: sub.id, status: response.status }, "push subscription gone");
  } else if (!response.ok) {
    log.warn({ subscription: sub.id, status: response.status }, "push not accepted");
  }
}

const MAX_WAITING = 1000;

/** Listens to new notifications and pushes them; returns the function that stops it. */
export function startPush(services: Services): () => void {
  const { db, log } = services;
  const waiting: Array<() => Promise<void>> = [];
  let running = false;
  let stopped = false;
  const drain = async () => {
    if (running) return;
    running = true;
    while (!stopped && waiting.length) {
      try {
        await waiting.shift()!();
      } catch (error) {
        log.warn({ err: error }, "push not sent");
      }
    }
    running = false;
  };
  const onNotification = (n: NotificationRow) => {
    // Coopol's own types stay out of Mastodon apps, pushes included.
    if (!isMastodonType(n.type)) return;
    const subs = db
      .select({ sub: pushSubscriptions, actorId: users.actorId, locale: users.locale })
      .from(pushSubscriptions)
      .innerJoin(users, eq(users.id, pushSubscriptions.userId))
      // A disabled member's apps are told nothing (their tokens no longer work either).
      .where(and(eq(pushSubscriptions.userId, n.userId), isNull(users.disabledAt)))
      .all();
    for (const { sub, actorId, locale } of subs) {
      if (!alertsOf(sub)[n.type] || !policyAllows(db, sub.policy, actorId, n.fromActorId)) continue;
      if (waiting.length >= MAX_WAITING) {
        log.warn({ subscription: sub.id }, "push queue full: push dropped");
        continue;
      }
      const payload = pushPayload(services, n, sub, locale);
      waiting.push(() => deliver(services, sub, payload));
    }
    // After the current request's work: the caller never waits for a push service.
    setImmediate(() => void drain());
  };
  services.events.on("notification.created", onNotification);
  return () => {
    stopped = true;
    services.events.off("notification.created", onNotification);
  };
}
