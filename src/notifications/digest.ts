// The e-mail digest: a member who gave an address and ticked "résumé des
// notifications par e-mail" gets, when the instance has SMTP, at most one
// e-mail every COOPOL_DIGEST_HOURS listing the notifications they have not
// read (on the web page or in an app) and that no digest listed yet. For the
// volunteers who do not open the site every day: nothing important waits unseen.
import { and, asc, eq, gt, inArray, isNotNull, isNull, lt, or } from "drizzle-orm";
import type { Services } from "../services.ts";
import { actors, campaigns, events, fieldActions, notifications, reports, users } from "../storage/schema.ts";
import { idAt } from "../storage/ids.ts";
import { mailEnabled, sendMail, type Mail } from "../mail/mailer.ts";
import { translator, type Locale, type Translate } from "../web/i18n.ts";
import { html } from "../web/html.ts";
import { lastReadNotificationId, type NotificationRow } from "./notifications.ts";
import type { User } from "../members/members.ts";

/** Listed in one e-mail at most; the rest are counted. */
const LISTED = 20;

/** One notification as a line of plain text, in the member's language. */
function lineOf(services: Services, t: Translate, n: NotificationRow): string {
  const { db } = services;
  const from = db.select({ name: actors.name, username: actors.username }).from(actors).where(eq(actors.id, n.fromActorId)).get();
  const who = from?.name || from?.username || "?";
  const titleOf = (rows: Array<{ title: string }>) => rows[0]?.title ?? "?";
  switch (n.type) {
    case "poll":
      return t("notif.poll");
    case "admin.report":
      return t("notif.report_anonymous", { author: who });
    case "coopol.report":
      return t("notif.coopol.report", { who, title: titleOf(db.select({ title: reports.title }).from(reports).where(eq(reports.id, n.reportId ?? 0)).all()) });
    case "coopol.campaign":
    case "coopol.campaign_joined":
      return t(`notif.${n.type}`, { who, title: titleOf(db.select({ title: campaigns.title }).from(campaigns).where(eq(campaigns.id, n.campaignId ?? 0)).all()) });
    case "coopol.shift.signup":
    case "coopol.shift.withdraw":
    case "coopol.results":
      return t(`notif.${n.type}`, { who, action: titleOf(db.select({ title: fieldActions.title }).from(fieldActions).where(eq(fieldActions.id, n.actionId ?? 0)).all()) });
    case "coopol.rsvp.pending":
    case "coopol.rsvp.going":
    case "coopol.rsvp.not_going":
    case "coopol.rsvp.waiting":
      return t(`notif.rsvp.${n.type.slice("coopol.rsvp.".length)}`, { who, event: titleOf(db.select({ title: events.title }).from(events).where(eq(events.id, n.eventId ?? 0)).all()) });
    default:
      // follow_request may be a group join request: the plain "asks to follow you" is close enough here, the page says which.
      return t(`notif.${n.type}`, { who });
  }
}

export function digestMail(services: Services, user: User & { email: string }, rows: NotificationRow[], unread: number): Mail {
  const { config } = services;
  const locale: Locale = user.locale === "en" ? "en" : "fr";
  const t = translator(locale);
  const lines = rows.map((n) => lineOf(services, t, n));
  const link = `${config.origin}/notifications`;
  const more = unread > rows.length ? t("mail.digest.more", { n: String(unread - rows.length) }) : "";
  const intro = t("mail.digest.intro", { name: user.username, n: String(unread) });
  const footer = t("mail.digest.footer", { instance: config.name, settings: `${config.origin}/settings` });
  const text = [intro, "", ...lines.map((l) => `- ${l}`), ...(more ? [more] : []), "", `${t("mail.digest.open")} ${link}`, "", "-- ", footer].join("\n");
  const body = html`<!doctype html><html lang="${locale}"><body style="font-family: sans-serif; line-height: 1.5">
<p>${intro}</p>
<ul>${lines.map((l) => html`<li>${l}</li>`)}</ul>
${more ? html`<p>${more}</p>` : ""}
<p><a href="${link}">${t("mail.digest.open")}</a></p>
<p style="color: #555; font-size: 0.9em">${footer}</p>
</body></html>`;
  return { to: user.email, subject: t("mail.digest.subject", { n: String(unread), instance: config.name }), text, html: body.toString() };
}

/** Sends the digests that are due; returns how many went out. Never throws for a mail failure. */
export async function sendDigests(services: Services, now = Date.now()): Promise<number> {
  const { db, config, log } = services;
  if (!mailEnabled(config)) return 0;
  const cutoff = now - config.digestHours * 3_600_000;
  const due = db
    .select()
    .from(users)
    .where(and(eq(users.emailDigest, true), isNotNull(users.email), isNull(users.disabledAt), or(isNull(users.digestSentAt), lt(users.digestSentAt, cutoff))))
    .all();
  let sent = 0;
  for (const user of due) {
    // Unread, and newer than what the last digest listed.
    const since = Math.max(lastReadNotificationId(db, user), user.digestSentAt ? idAt(user.digestSentAt) : 0);
    const fresh = db.select({ id: notifications.id }).from(notifications).where(and(eq(notifications.userId, user.id), gt(notifications.id, since))).all();
    if (fresh.length === 0) continue;
    // Claimed before sending: two rounds at once never send twice.
    const claimed = db
      .update(users)
      .set({ digestSentAt: now })
      .where(and(eq(users.id, user.id), user.digestSentAt == null ? isNull(users.digestSentAt) : eq(users.digestSentAt, user.digestSentAt)))
      .returning({ id: users.id })
      .get();
    if (!claimed) continue;
    const rows = db.select().from(notifications).where(inArray(notifications.id, fresh.map((f) => f.id).slice(-LISTED))).orderBy(asc(notifications.id)).all();
    try {
      await sendMail(config, digestMail(services, { ...user, email: user.email! }, rows, fresh.length));
      sent++;
    } catch (error) {
      // Released, so that the next round tries again.
      db.update(users).set({ digestSentAt: user.digestSentAt }).where(eq(users.id, user.id)).run();
      log.warn({ err: error, userId: user.id }, "notification digest not sent");
    }
  }
  return sent;
}
