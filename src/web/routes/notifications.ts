// The member's notifications as a page (/notifications), for those who use
// only the web: newest first, 20 a page, each in plain words with a link to
// what it is about. Viewing the newest page marks them read for the apps too
// (the "notifications" marker of the Mastodon API); "dismiss all" deletes them.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { and, eq, inArray, isNotNull, isNull } from "drizzle-orm";
import type { Services } from "../../services.ts";
import type { User } from "../../members/members.ts";
import { actors, campaigns, events, fieldActions, follows, groups, posts, reports } from "../../storage/schema.ts";
import { authorsOf, viewerOf, type PostRow } from "../../posts/posts.ts";
import { canSee } from "../../posts/visibility.ts";
import { findFollow } from "../../social/follows.ts";
import { canModerate, groupById, type GroupRow } from "../../groups/groups.ts";
import {
  clearNotifications,
  dismissNotification,
  flagOfNotification,
  lastReadNotificationId,
  listNotifications,
  markNotificationsRead,
  type NotificationRow,
} from "../../notifications/notifications.ts";
import { html, type Html } from "../html.ts";
import { actorName, dateText, handleOf, postExcerpt, postUrl, profileUrl, relativeDate } from "../format.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { requireUser, sendPage } from "../respond.ts";
import { groupPath } from "./groups.ts";
import { canEditEvent } from "../../agenda/events.ts";
import { rsvpOf } from "../../agenda/rsvp.ts";

export const NOTIFICATIONS_PAGE = 20;

/**
 * A translated sentence whose {placeholders} are pieces of markup (links):
 * the text around them is escaped as usual, the pieces are kept as they are.
 */
function sentence(page: PageContext, key: string, parts: Record<string, Html | string>): Html {
  const names = Object.keys(parts);
  const text = page.t(key, Object.fromEntries(names.map((name, i) => [name, `\u0001${i}\u0002`])));
  return html`${text.split(/\u0001(\d+)\u0002/).map((piece, i) => (i % 2 ? (parts[names[Number(piece)]!] ?? "") : piece))}`;
}

/** What the page needs to say about a page of notifications, read in a fixed number of queries (plus one per report or request). */
function contextOf(services: Services, user: User, rows: NotificationRow[]) {
  const { db } = services;
  const actorIds = [...new Set(rows.map((n) => n.fromActorId))];
  const from = new Map((actorIds.length ? db.select().from(actors).where(inArray(actors.id, actorIds)).all() : []).map((a) => [a.id, a]));
  const postIds = [...new Set(rows.map((n) => n.postId).filter((id): id is number => id != null))];
  const postRows = postIds.length ? db.select().from(posts).where(inArray(posts.id, postIds)).all() : [];
  const viewer = viewerOf(user);
  const visible = postRows.filter((p) => canSee(db, viewer, p));
  const { actors: authors } = authorsOf(db, visible);
  // Events of reminders (through their post) and of answers (coopol.rsvp.*, the event itself).
  const eventIds = [...new Set([...visible.map((p) => p.eventId), ...rows.map((n) => n.eventId)].filter((id): id is number => id != null))];
  const eventRows = eventIds.length ? db.select().from(events).where(inArray(events.id, eventIds)).all() : [];
  const eventTitles = new Map(eventRows.map((e) => [e.id, e.title]));
  // Titles of what the hierarchy's and the field's notifications are about.
  const titles = <T extends { id: number; title: string }>(ids: Array<number | null>, read: (ids: number[]) => T[]) => {
    const wanted = [...new Set(ids.filter((id): id is number => id != null))];
    return new Map((wanted.length ? read(wanted) : []).map((r) => [r.id, r.title]));
  };
  const reportTitles = titles(rows.map((n) => n.reportId), (ids) => db.select({ id: reports.id, title: reports.title }).from(reports).where(inArray(reports.id, ids)).all());
  const campaignTitles = titles(rows.map((n) => n.campaignId), (ids) => db.select({ id: campaigns.id, title: campaigns.title }).from(campaigns).where(inArray(campaigns.id, ids)).all());
  const actionTitles = titles(rows.map((n) => n.actionId), (ids) => db.select({ id: fieldActions.id, title: fieldActions.title }).from(fieldActions).where(inArray(fieldActions.id, ids)).all());
  return { from, posts: new Map(visible.map((p) => [p.id, p])), authors, eventTitles, events: new Map(eventRows.map((e) => [e.id, e])), reportTitles, campaignTitles, actionTitles };
}

type Context = ReturnType<typeof contextOf>;

/** A local group `user` moderates that `actorId` asks to join (pending) or has joined (accepted). */
function groupAskedBy(services: Services, user: User, actorId: number, pending: boolean): GroupRow | undefined {
  const { db } = services;
  return db
    .select({ group: groups })
    .from(follows)
    .innerJoin(groups, eq(groups.actorId, follows.followingId))
    .where(and(eq(follows.followerId, actorId), pending ? isNull(follows.acceptedAt) : isNotNull(follows.acceptedAt)))
    .all()
    .map((r) => r.group)
    .find((g) => canModerate(db, g, user));
}

function renderNotification(services: Services, page: PageContext, user: User, n: NotificationRow, ctx: Context, unread: boolean): Html {
  const { t } = page;
  const actor = ctx.from.get(n.fromActorId);
  const who = actor ? html`<a href="${profileUrl(actor)}">${actorName(actor)}</a> <span class="meta">${handleOf(actor)}</span>` : "?";
  const post = n.postId != null ? ctx.posts.get(n.postId) : undefined;
  const author = post ? ctx.authors.get(post.actorId) : undefined;
  const postLink = (p: PostRow | undefined) => (p ? html`<p><a href="${postUrl(p, ctx.authors.get(p.actorId))}">${t("notif.view_post")}</a></p>` : "");
  const quote = (p: PostRow | undefined) => (p ? html`<blockquote>${postExcerpt(p)}</blockquote>` : "");

  let what: Html;
  let more: Html | string = "";
  switch (n.type) {
    case "mention":
    case "favourite":
    case "reblog":
    case "update":
      what = sentence(page, `notif.${n.type}`, { who });
      more = html`${quote(post)}${postLink(post)}`;
      break;
    case "follow":
      what = sentence(page, "notif.follow", { who });
      break;
    case "follow_request": {
      // Someone asks to follow this member (answered here, as on /follow-requests),
      // or to join a group the member moderates (answered on the group's page).
      const follow = findFollow(services.db, n.fromActorId, user.actorId);
      const group = follow && !follow.acceptedAt ? undefined : groupAskedBy(services, user, n.fromActorId, true);
      if (follow && !follow.acceptedAt) {
        const name = actorName(actor);
        what = sentence(page, "notif.follow_request", { who });
        more = html`<div class="actions">
  <form method="post" action="/follow-requests/${n.fromActorId}/accept" class="inline">${csrfField(page)}<input type="hidden" name="back" value="/notifications"><button type="submit" aria-label="${t("notif.accept_label", { who: name })}">${t("requests.accept")}</button></form>
  <form method="post" action="/follow-requests/${n.fromActorId}/reject" class="inline">${csrfField(page)}<input type="hidden" name="back" value="/notifications"><button type="submit" aria-label="${t("notif.reject_label", { who: name })}">${t("requests.reject")}</button></form>
</div>`;
      } else if (group) {
        what = sentence(page, "notif.join_request", { who, group: html`<a href="${groupPath(group)}">${group.name}</a>` });
        more = html`<p><a href="${groupPath(group)}/manage#requests">${t("notif.view_group_requests")}</a></p>`;
      } else if (follow) {
        // Accepted since: they follow now.
        what = sentence(page, "notif.follow", { who });
      } else if (groupAskedBy(services, user, n.fromActorId, false)) {
        what = sentence(page, "notif.join_request_answered", { who });
      } else {
        what = sentence(page, "notif.follow_request_answered", { who });
        more = html`<p><a href="/follow-requests">${t("notif.view_requests")}</a></p>`;
      }
      break;
    }
    case "poll":
      what = sentence(page, n.fromActorId === user.actorId ? "notif.poll_own" : "notif.poll", {});
      more = html`${quote(post)}${postLink(post)}`;
      break;
    case "status": {
      // Event reminders point at the event's post; the page of the event is the place to go.
      const title = post?.eventId != null ? ctx.eventTitles.get(post.eventId) : undefined;
      if (post?.eventId != null && title !== undefined) {
        what = sentence(page, "notif.reminder", { event: html`<a href="/events/${post.eventId}">${title}</a>` });
        more = html`<p><a href="/events/${post.eventId}">${t("notif.view_event")}</a></p>`;
      } else {
        what = sentence(page, "notif.status", { who });
        more = html`${quote(post)}${postLink(post)}`;
      }
      break;
    }
    case "coopol.rsvp.pending":
    case "coopol.rsvp.going":
    case "coopol.rsvp.not_going":
    case "coopol.rsvp.waiting": {
      // Someone answered an event this member manages: the attendee list is where requests are accepted or refused.
      const event = n.eventId != null ? ctx.events.get(n.eventId) : undefined;
      const title = event ? html`<a href="/events/${event.id}">${event.title}</a>` : "?";
      const manages = !!event && canEditEvent(services, user, event);
      const stillPending = n.type === "coopol.rsvp.pending" && !!event && rsvpOf(services.db, event.id, n.fromActorId)?.status === "pending";
      const key = n.type === "coopol.rsvp.pending" && !stillPending ? "notif.rsvp.pending_answered" : `notif.rsvp.${n.type.slice("coopol.rsvp.".length)}`;
      what = sentence(page, key, { who, event: title });
      if (event) more = manages
        ? html`<p><a href="/events/${event.id}/attendees">${t(stillPending ? "notif.rsvp.answer_request" : "notif.rsvp.view_attendees")}</a></p>`
        : html`<p><a href="/events/${event.id}">${t("notif.view_event")}</a></p>`;
      break;
    }
    case "coopol.report": {
      const title = n.reportId != null ? ctx.reportTitles.get(n.reportId) : undefined;
      what = sentence(page, "notif.coopol.report", { who, title: title !== undefined ? html`<a href="/reports/${n.reportId}">${title}</a>` : "?" });
      more = html`<p><a href="/reports/${n.reportId}">${t("notif.view_report")}</a></p>`;
      break;
    }
    case "coopol.campaign":
    case "coopol.campaign_joined": {
      const title = n.campaignId != null ? ctx.campaignTitles.get(n.campaignId) : undefined;
      what = sentence(page, `notif.${n.type}`, { who, title: title !== undefined ? html`<a href="/campaigns/${n.campaignId}">${title}</a>` : "?" });
      more = html`<p><a href="/campaigns/${n.campaignId}">${t("notif.view_campaign")}</a></p>`;
      break;
    }
    case "coopol.directive":
      // The directive's post and the directive share their id.
      what = sentence(page, "notif.coopol.directive", { who });
      more = html`${quote(post)}<p><a href="/directives/${n.postId}">${t("notif.view_directive")}</a></p>`;
      break;
    case "coopol.shift.signup":
    case "coopol.shift.withdraw":
    case "coopol.results": {
      const title = n.actionId != null ? ctx.actionTitles.get(n.actionId) : undefined;
      what = sentence(page, `notif.${n.type}`, { who, action: title !== undefined ? html`<a href="/actions/${n.actionId}">${title}</a>` : "?" });
      more = html`<p><a href="/actions/${n.actionId}">${t("notif.view_action")}</a></p>`;
      break;
    }
    case "admin.report": {
      // The queue that holds the report: its group's, or the instance's.
      const flag = flagOfNotification(services.db, n);
      const group = flag?.groupId != null ? groupById(services.db, flag.groupId) : undefined;
      const reported = author ? html`<a href="${profileUrl(author)}">${actorName(author)}</a>` : "?";
      // A group moderator is not told which member reported: the notification then comes from the instance.
      what = actor && actor.type !== "Application" ? sentence(page, "notif.report", { who, author: reported }) : sentence(page, "notif.report_anonymous", { author: reported });
      more = html`${quote(post)}<p>${group?.local && group.slug
        ? html`<a href="/groups/${group.slug}/moderation">${sentence(page, "notif.view_group_queue", { group: group.name })}</a>`
        : html`<a href="/moderation">${t("notif.view_queue")}</a>`}</p>`;
      break;
    }
  }
  return html`<li class="notification${unread ? " unread" : ""}" id="notification-${n.id}">
  <p>${unread ? html`<span class="badge">${t("notif.new")}</span> ` : ""}${what}</p>
  ${more}
  <p class="meta"><time datetime="${new Date(n.createdAt).toISOString()}" title="${dateText(page, n.createdAt)}">${relativeDate(page, n.createdAt)}</time></p>
  <form method="post" action="/notifications/${n.id}/dismiss" class="inline">${csrfField(page)}<button type="submit" class="link" aria-label="${t("notif.dismiss_label", { when: dateText(page, n.createdAt) })}">${t("notif.dismiss")}</button></form>
</li>`;
}

export function registerNotificationPages(web: FastifyInstance, services: Services): void {
  const { db } = services;

  web.get("/notifications", (request: FastifyRequest<{ Querystring: { max_id?: string; notice?: string } }>, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const maxId = request.query.max_id && /^\d+$/.test(request.query.max_id) ? Number(request.query.max_id) : undefined;
    const rows = listNotifications(db, user, { maxId, limit: NOTIFICATIONS_PAGE });
    // What was unread before this view is marked as new; the newest page being seen, all are read now.
    const readUpTo = lastReadNotificationId(db, user);
    if (maxId === undefined && rows[0]) markNotificationsRead(db, user, rows[0].id);
    const ctx = contextOf(services, user, rows);
    const older = rows.length === NOTIFICATIONS_PAGE ? rows.at(-1) : undefined;
    const { t } = page;
    const title = maxId === undefined ? t("notif.title") : t("notif.older_title");
    return sendPage(reply, layout(page, title, html`<h1>${title}</h1>
${rows.length
  ? // Clearing everything cannot be undone: set apart after the list, never the page's filled button.
    html`<ol class="notifications">${rows.map((n) => renderNotification(services, page, user, n, ctx, n.id > readUpTo))}</ol>
<form method="post" action="/notifications/clear">${csrfField(page)}<p><button type="submit" class="danger">${t("notif.clear")}</button></p></form>`
  : html`<p>${t("notif.none")}</p>`}
${older || maxId !== undefined ? html`<nav class="pager" aria-label="${t("notif.pages")}"><p>${maxId !== undefined ? html`<a href="/notifications">${t("notif.newest")}</a>` : ""}${maxId !== undefined && older ? " · " : ""}${older ? html`<a href="/notifications?max_id=${older.id}" rel="next">${t("notif.older")}</a>` : ""}</p></nav>` : ""}`,
      { notice: request.query.notice === "cleared" ? t("notif.cleared") : request.query.notice === "dismissed" ? t("notif.dismissed") : undefined }));
  });

  web.post("/notifications/:id/dismiss", (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    // Only one's own: another member's id simply matches nothing.
    dismissNotification(db, requireUser(request), Number(request.params.id) || 0);
    return reply.redirect("/notifications?notice=dismissed", 303);
  });

  web.post("/notifications/clear", (request, reply) => {
    clearNotifications(db, requireUser(request));
    return reply.redirect("/notifications?notice=cleared", 303);
  });
}
