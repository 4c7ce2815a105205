// Reminder e-mails the day before an event, for members who gave an address
// and ticked "recevoir les rappels par e-mail", when the instance has SMTP
// (COOPOL_SMTP_URL). Plain text and simple HTML in the member's language, the
// date on the event's own clock, and the event as an .ics file.
import { and, eq, inArray, isNotNull, isNull } from "drizzle-orm";
import type { Services } from "../services.ts";
import { reminderEmails, rsvps, users } from "../storage/schema.ts";
import { mailEnabled, sendMail, type Mail } from "../mail/mailer.ts";
import { translator, type Locale } from "../web/i18n.ts";
import { html, raw } from "../web/html.ts";
import { htmlToText } from "../posts/content.ts";
import { eventAttachments, type EventAttachment } from "./attachments.ts";
import { formatWhen, placeText, type EventRow, type Occurrence } from "./events.ts";
import { calendarOf } from "./ics.ts";
import type { DueReminder } from "./reminders.ts";
import { safeUrl } from "../safe-url.ts";

// Errors that concern the mail server itself, not one recipient: the rest of
// the round would fail the same way, so it stops and the next round retries.
const SERVER_ERRORS = new Set(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "ETLS", "EAUTH", "ENOAUTH"]);

/** Sends the reminder e-mails not sent yet; returns how many went out. Never throws for a mail failure. */
export async function sendReminderEmails(services: Services, due: DueReminder[]): Promise<number> {
  const { db, config, log } = services;
  if (!mailEnabled(config)) return 0;
  let sent = 0;
  for (const { event, occurrences, actorIds } of due) {
    const people = db
      .select({ user: users, answer: rsvps.status })
      .from(users)
      .innerJoin(rsvps, and(eq(rsvps.actorId, users.actorId), eq(rsvps.eventId, event.id)))
      .where(and(inArray(users.actorId, actorIds), eq(users.emailReminders, true), isNotNull(users.email), isNull(users.disabledAt)))
      .all();
    if (people.length === 0) continue;
    const attachments = eventAttachments(db, config.origin, event.id);
    for (const { user, answer } of people) {
      for (const occurrence of occurrences) {
        // Claimed before sending: two rounds running at once never send twice.
        const key = { userId: user.id, eventId: event.id, occurrenceStart: occurrence.start };
        if (!db.insert(reminderEmails).values(key).onConflictDoNothing().returning().get()) continue;
        try {
          await sendMail(config, reminderMail(services, { to: user.email!, name: user.username, locale: user.locale === "en" ? "en" : "fr", answer }, occurrence, attachments));
          sent++;
        } catch (error) {
          // Released, so the next round (15 minutes later) tries again.
          db.delete(reminderEmails).where(and(eq(reminderEmails.userId, key.userId), eq(reminderEmails.eventId, key.eventId), eq(reminderEmails.occurrenceStart, key.occurrenceStart))).run();
          log.warn({ err: error, eventId: event.id, userId: user.id }, "reminder e-mail not sent");
          if (SERVER_ERRORS.has((error as { code?: string }).code ?? "")) return sent;
        }
      }
    }
  }
  return sent;
}

interface Recipient {
  to: string;
  name: string;
  locale: Locale;
  answer: string;
}

/** The message itself: subject, text, HTML and the event's .ics. */
export function reminderMail(services: Services, who: Recipient, occurrence: Occurrence, attachments: EventAttachment[]): Mail {
  const { config } = services;
  const event: EventRow = occurrence.event;
  const t = translator(who.locale);
  const when = `${formatWhen(who.locale, occurrence, event.timezone)} (${event.timezone})`;
  const place = placeText(event);
  const link = `${config.origin}/events/${event.id}`;
  const agenda = JSON.parse(event.agenda) as string[];
  const description = htmlToText(event.description).trim();
  // Checked again: an event stored before safeUrl() existed may hold a javascript: link.
  const online = safeUrl(event.onlineUrl);
  const lines: Array<[string, string]> = [
    [t("mail.reminder.when"), when],
    ...(place ? ([[t("mail.reminder.where"), place]] as Array<[string, string]>) : []),
    ...(online ? ([[t("mail.reminder.online"), online]] as Array<[string, string]>) : []),
  ];
  const intro = t(who.answer === "maybe" ? "mail.reminder.intro_maybe" : "mail.reminder.intro_going", { name: who.name });
  const footer = t("mail.reminder.footer", { instance: config.name, settings: `${config.origin}/settings` });
  const text = [
    intro,
    "",
    event.title,
    ...lines.map(([label, value]) => `${label} ${value}`),
    ...(description ? ["", description] : []),
    ...(agenda.length ? ["", t("mail.reminder.agenda"), ...agenda.map((item, i) => `  ${i + 1}. ${item}`)] : []),
    ...(attachments.length ? ["", t("mail.reminder.attachments"), ...attachments.map((a) => `  - ${a.name} <${a.url}>`)] : []),
    "",
    `${t("mail.reminder.details")} ${link}`,
    t("mail.reminder.ics"),
    "",
    "-- ",
    footer,
  ].join("\n");
  const body = html`<!doctype html><html lang="${who.locale}"><body style="font-family: sans-serif; line-height: 1.5">
<p>${intro}</p>
<h1 style="font-size: 1.3em">${event.title}</h1>
<p>${lines.map(([label, value], i) => html`${i ? raw("<br>") : ""}<strong>${label}</strong> ${safeUrl(value) ? html`<a href="${value}">${value}</a>` : value}`)}</p>
${event.description ? html`<div>${raw(event.description)}</div>` : ""}
${agenda.length ? html`<p><strong>${t("mail.reminder.agenda")}</strong></p><ol>${agenda.map((item) => html`<li>${item}</li>`)}</ol>` : ""}
${attachments.length ? html`<p><strong>${t("mail.reminder.attachments")}</strong></p><ul>${attachments.map((a) => html`<li><a href="${a.url}">${a.name}</a></li>`)}</ul>` : ""}
<p><a href="${link}">${t("mail.reminder.details")}</a><br>${t("mail.reminder.ics")}</p>
<p style="color: #555; font-size: 0.9em">${footer}</p>
</body></html>`;
  return {
    to: who.to,
    subject: t("mail.reminder.subject", { title: event.title, when: formatWhen(who.locale, { start: occurrence.start, end: null }, event.timezone) }),
    text,
    html: body.toString(),
    attachments: [{ filename: "evenement.ics", content: calendarOf(event.title, [event], { origin: config.origin }), contentType: "text/calendar; charset=utf-8; method=PUBLISH" }],
  };
}
