// A thematic group's agenda: the events it organises and those addressed to
// it, as the visitor may see them (an event for the group's members only to
// them), with its calendar feeds. A members-only group has no public feed:
// its members subscribe through their private address, here restricted to the group.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { eq } from "drizzle-orm";
import { UserError } from "../../errors.ts";
import { agenda, placeText, type EventRow } from "../../agenda/events.ts";
import { calendarOf } from "../../agenda/ics.ts";
import { groupsOrganisableBy } from "../../agenda/audiences.ts";
import { canModerate, groupActor, groupBySlug, isMember, type GroupRow } from "../../groups/groups.ts";
import { viewerOf } from "../../posts/posts.ts";
import type { Services } from "../../services.ts";
import { calendarTokens, users } from "../../storage/schema.ts";
import { hashToken } from "../../storage/tokens.ts";
import { html, raw } from "../html.ts";
import { layout } from "../layout.ts";
import { sendPage } from "../respond.ts";
import { audienceBadge, when } from "./agenda.ts";

type WithSlug = FastifyRequest<{ Params: { slug: string } }>;
const DAY = 86_400_000;

export function registerGroupAgendaRoutes(web: FastifyInstance, services: Services): void {
  const { db, config } = services;

  const localGroup = (slug: string): GroupRow => {
    const group = groupBySlug(db, slug.toLowerCase());
    if (!group || group.state !== "active" || !groupActor(db, group)) throw new UserError("group_not_found", 404);
    return group;
  };

  web.get("/groups/:slug/agenda", (request: WithSlug, reply) => {
    const { page } = request;
    const { t, user } = page;
    const group = localGroup(request.params.slug);
    const now = Date.now();
    const items = agenda(db, viewerOf(user), { from: now - DAY / 4, to: now + 365 * DAY, group }).slice(0, 200);
    const member = !!user && isMember(db, group, user.actorId);
    const organises = !!user && groupsOrganisableBy(db, user).some((g) => g.id === group.id);
    const title = t("group.agenda_title", { name: group.name });
    return sendPage(reply, layout(page, title, html`<h1>${title}</h1>
<p class="actions"><a href="/groups/${group.slug!}">${t("group.agenda_back")}</a>
${organises || member || (user && canModerate(db, group, user)) ? html` · <a href="/events/new?group=${String(group.id)}">${t("group.agenda_new")}</a>` : ""}
${group.visibility === "public" ? html` · <a href="/groups/${group.slug!}/agenda.ics">${t("group.agenda_ics")}</a>` : html` · <a href="/settings/calendar">${t("group.agenda_ics")}</a>`}</p>
${group.visibility === "members" ? html`<p class="help">${t("group.agenda_private")}</p>` : ""}
${items.length === 0
  ? html`<p>${t("group.agenda_empty")}</p>`
  : html`<ul class="events">${items.map(
      (o) => html`<li class="event${o.event.status === "cancelled" ? raw(" cancelled") : ""}">
  <a href="/events/${o.event.id}"><strong>${o.event.title}</strong></a>
  ${o.event.status === "cancelled" ? html` <span class="badge">${t("event.cancelled")}</span>` : ""}${audienceBadge(page, o.event)}<br>
  <time datetime="${new Date(o.start).toISOString()}">${when(page, o, o.event.timezone)}</time>
  ${placeText(o.event) ? html` · ${placeText(o.event)}` : ""} · ${t(`category.${o.event.category}`)}
</li>`,
    )}</ul>`}`));
  });

  // Public feed of a public group: its public events. A members-only group has none.
  web.get("/groups/:slug/agenda.ics", (request: WithSlug, reply) => {
    const group = localGroup(request.params.slug);
    if (group.visibility !== "public") throw new UserError("group_not_found", 404);
    const rows = agenda(db, { kind: "anonymous" }, { from: Date.now() - 90 * DAY, to: Date.now() + 730 * DAY, group, perEvent: 1 }).map((o) => o.event);
    return sendIcs(reply, calendarOf(`${config.name} — ${group.name}`, unique(rows), { origin: config.origin }));
  });

  // A member's private feed, restricted to one group: every event of the group the member may see.
  web.get("/groups/:slug/agenda/private/:token", (request: FastifyRequest<{ Params: { slug: string; token: string } }>, reply) => {
    const group = localGroup(request.params.slug);
    const token = request.params.token.replace(/\.ics$/, "");
    const row = db.select().from(calendarTokens).where(eq(calendarTokens.tokenHash, hashToken(token))).get();
    const user = row ? db.select().from(users).where(eq(users.id, row.userId)).get() : undefined;
    if (!user || user.disabledAt) throw new UserError("calendar_token_invalid", 404);
    const rows = agenda(db, viewerOf(user), { from: Date.now() - 90 * DAY, to: Date.now() + 730 * DAY, group, perEvent: 1 }).map((o) => o.event);
    return sendIcs(reply, calendarOf(`${config.name} — ${group.name} — ${user.username}`, unique(rows), { origin: config.origin }));
  });
}

function unique(rows: EventRow[]): EventRow[] {
  return [...new Map(rows.map((r) => [r.id, r])).values()];
}

function sendIcs(reply: FastifyReply, body: string): FastifyReply {
  return reply.type("text/calendar; charset=utf-8").header("cache-control", "private, max-age=300").send(body);
}
