// The member list, and what managers do from it without a shell: roles,
// disabling, password links, invitations, a CSV export. Membership is
// sensitive: only logged-in card-holding members see the list; only
// secretaries and admins act on accounts (rules in members/manage.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { toCsv } from "../../csv.ts";
import { UserError } from "../../errors.ts";
import { createInvitation, INVITATION_DAYS } from "../../members/invitations.ts";
import { assignableRoles, changeRole, findMembers, managedMember, mayManage, MEMBER_STATES, MEMBERS_PAGE, memberPage, pendingInvitations, removeMember, revokeInvitation, setDisabled, type MemberFilter, type MemberRow } from "../../members/manage.ts";
import { canManageMembers, findUserByUsername, isCardHolder, parseRole, type User } from "../../members/members.ts";
import { createResetLink, RESET_HOURS } from "../../members/passwords-reset.ts";
import type { Services } from "../../services.ts";
import { ROLES, type Role } from "../../storage/schema.ts";
import { dateText } from "../format.ts";
import { html, raw, type Html } from "../html.ts";
import { kindKey } from "../i18n.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { requireUser, sendCsv, sendPage } from "../respond.ts";
import { STATIC_URLS } from "../static.ts";

type Form = Record<string, string | undefined>;
/** What a change of the list says once back on it (`?done=`). */
const DONE = ["role_changed", "disabled_notice", "enabled_notice"] as const;
type Query = { q?: string; role?: string; state?: string; page?: string };

function requireManager(request: FastifyRequest): User {
  const user = requireUser(request);
  if (!canManageMembers(user.role)) throw new UserError("error.forbidden", 403);
  return user;
}

/** The filter of the list's query string; unknown values are ignored, not errors. */
function filterOf(query: Query): MemberFilter {
  return {
    q: query.q?.slice(0, 100) || undefined,
    role: ROLES.includes(query.role as Role) ? (query.role as Role) : undefined,
    state: MEMBER_STATES.includes(query.state as never) ? (query.state as MemberFilter["state"]) : undefined,
  };
}

/**
 * The list's place (filters and page) as a query string, "" for the first
 * page of everyone. Built from parsed values only: forms carry it so that a
 * change brings the manager back where they were.
 */
function listQuery(query: Query): string {
  const filter = filterOf(query);
  const page = Number(query.page);
  const params = new URLSearchParams(Object.entries(filter).filter(([, v]) => v) as [string, string][]);
  if (Number.isSafeInteger(page) && page > 1) params.set("page", String(page));
  return params.toString();
}

/** A link the manager copies and sends by hand: shown once, with a copy button when JavaScript runs. */
function oneTimeLink(page: PageContext, id: string, url: string): Html {
  return html`<code class="link" id="${id}">${url}</code>
<p><button type="button" class="secondary" data-copy="${id}" data-done="${page.t("members.copied")}" hidden>${page.t("members.copy")}</button></p>
<script src="${STATIC_URLS.copyJs}" defer></script>`;
}

export function registerMemberRoutes(web: FastifyInstance, services: Services): void {
  const { db } = services;

  // What this instance is, who runs it, and where its source code is (AGPL).
  web.get("/about", (request, reply) => {
    const { page } = request;
    const { config } = services;
    return sendPage(reply, layout(page, page.t("about.title"), html`<h1>${page.t("about.title")}</h1>
<p>${page.t("about.intro", { name: config.name, kind: page.t(`kind.${config.kind}`) })}</p>
<dl>
  <dt>${page.t("about.handle")}</dt><dd>@${config.handle}@${new URL(config.origin).host}</dd>
  ${config.territory ? html`<dt>${page.t("about.territory")}</dt><dd>${config.territory}</dd>` : ""}
</dl>
<p>${page.t("about.software")}</p>`));
  });

  const filterForm = (page: PageContext, filter: MemberFilter) => {
    const { t } = page;
    const option = (value: string, label: string, chosen: string | undefined) => html`<option value="${value}" ${value === (chosen ?? "") ? raw("selected") : ""}>${label}</option>`;
    return html`<form method="get" action="/members" class="filters" role="search">
  <div><label for="q">${t("members.search_label")}</label>
  <input type="search" id="q" name="q" value="${filter.q ?? ""}" maxlength="100"></div>
  <div><label for="filter-role">${t("members.filter_role")}</label>
  <select id="filter-role" name="role">${option("", t("members.any"), filter.role)}${ROLES.map((r) => option(r, t(`role.${r}`), filter.role))}</select></div>
  <div><label for="filter-state">${t("members.filter_state")}</label>
  <select id="filter-state" name="state">${option("", t("members.any"), filter.state)}${MEMBER_STATES.map((s) => option(s, t(s === "active" ? "members.active" : "members.disabled"), filter.state))}</select></div>
  <div><button type="submit" class="secondary">${t("members.filter_submit")}</button></div>
</form>`;
  };

  /** A manager's controls on one row: role, disable/enable, a password link; `back`: the list's place, for the answer. */
  const actions = (page: PageContext, manager: User, m: MemberRow, back: string) => {
    const { t } = page;
    // The row carries what mayManage reads: no query per member (300 of them took most of the page's time, docs/performance.md).
    if (!mayManage(manager, m)) return m.username === manager.username ? html`<span class="muted">${t("members.you")}</span>` : "";
    const name = m.displayName || m.username;
    return html`<details><summary>${t("members.manage")}<span class="visually-hidden"> ${name}</span></summary>
<form method="post" action="/members/${m.username}/role${back}" class="inline member-role">
  ${csrfField(page)}
  <label class="visually-hidden" for="role-${m.username}">${t("members.change_role", { name })}</label>
  <select id="role-${m.username}" name="role">${assignableRoles(manager).map((r) => html`<option value="${r}" ${r === m.role ? raw("selected") : ""}>${t(`role.${r}`)}</option>`)}</select>
  <button type="submit" class="secondary">${t("members.save_role")}</button>
</form>
<form method="post" action="/members/${m.username}/reset-link${back}" class="inline">${csrfField(page)}<button type="submit" class="secondary">${t("members.reset_link")}</button></form>
<form method="post" action="/members/${m.username}/${m.disabledAt ? "enable" : "disable"}${back}" class="inline">${csrfField(page)}<button type="submit" class="${m.disabledAt ? "secondary" : "danger"}">${t(m.disabledAt ? "members.enable" : "members.disable")}</button></form>
<form method="post" action="/members/${m.username}/erase${back}" class="member-erase">
  ${csrfField(page)}
  <p class="help">${t("members.erase_warning")}</p>
  <label for="erase-${m.username}">${t("members.erase_confirm", { username: m.username })}</label>
  <input type="text" id="erase-${m.username}" name="confirm" autocomplete="off" required>
  <button type="submit" class="danger">${t("members.erase")}</button>
</form>
</details>`;
  };

  const membersPage = (request: FastifyRequest, options: { notice?: string; extra?: Html } = {}) => {
    const { page } = request;
    const { t } = page;
    const user = requireUser(request);
    if (!isCardHolder(user.role)) throw new UserError("error.forbidden", 403);
    const manager = canManageMembers(user.role);
    const filter = filterOf(request.query as Query);
    // One page at a time: a section of 2,000 members must open fast on a phone (docs/performance.md).
    const { rows, total, page: shown, pages } = memberPage(db, filter, Number((request.query as Query).page) || 1);
    const query = listQuery(filter);
    const back = listQuery({ ...filter, page: String(shown) });
    const pageLink = (n: number) => {
      const place = listQuery({ ...filter, page: String(n) });
      return `/members${place ? `?${place}` : ""}`;
    };
    const first = (shown - 1) * MEMBERS_PAGE + 1;
    const pager = pages > 1 ? html`<nav class="pager" aria-label="${t("members.paging")}">${shown > 1 ? html`<a href="${pageLink(shown - 1)}" rel="prev">← ${t("members.previous")}</a> ` : ""}<span>${t("members.pages", { page: shown, pages })}</span>${shown < pages ? html` <a href="${pageLink(shown + 1)}" rel="next">${t("members.next")} →</a>` : ""}</nav>` : "";
    return layout(page, t(kindKey("members.title", services.config.kind)), html`<h1>${t(kindKey("members.title", services.config.kind))}</h1>
${options.extra ?? ""}
${manager ? html`<p class="toolbar"><a class="button" href="/invitations">${t("nav.invite")}</a> <a href="/members.csv${query ? `?${query}` : ""}" download>${t("members.export_csv")}</a> <a href="/members/transfers">${t("transfers.title")}</a></p>` : ""}
${filterForm(page, filter)}
<p>${t("members.count", { n: total })}${pages > 1 ? html` · ${t("members.shown", { from: first, to: first + rows.length - 1 })}` : ""}</p>
${rows.length === 0 ? html`<p>${t("members.none")}</p>` : html`<table class="members">
<thead><tr><th scope="col">${t("members.member")}</th><th scope="col">${t("members.role")}</th><th scope="col">${t("members.status")}</th>${manager ? html`<th scope="col">${t("members.last_active")}</th><th scope="col">${t("members.actions")}</th>` : ""}</tr></thead>
<tbody>${rows.map((m) => html`<tr><td><a href="/@${m.username}">${m.displayName || m.username}</a> <span class="handle">@${m.username}</span></td><td data-label="${t("members.role")}">${t(`role.${m.role}`)}</td><td data-label="${t("members.status")}">${m.disabledAt ? t("members.disabled") : t("members.active")}</td>${manager ? html`<td data-label="${t("members.last_active")}">${m.lastActiveAt ? dateText(page, m.lastActiveAt) : t("members.never")}</td><td class="member-actions">${actions(page, user, m, back ? `?${back}` : "")}</td>` : ""}</tr>`)}</tbody>
</table>`}
${pager}`, { notice: options.notice });
  };

  web.get("/members", (request, reply) => {
    const { done: what, who } = request.query as { done?: string; who?: string };
    const member = who && DONE.includes(what as never) ? findUserByUsername(db, who) : undefined;
    const erased = what === "erased_notice" && who ? request.page.t("members.erased_notice", { name: who.slice(0, 30) }) : undefined;
    const notice = member ? request.page.t(`members.${what}`, { name: member.username, role: request.page.t(`role.${member.role}`) }) : erased;
    return sendPage(reply, membersPage(request, { notice }));
  });

  web.get("/members.csv", (request, reply) => {
    requireManager(request);
    const rows = findMembers(db, filterOf(request.query as Query));
    const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : "");
    const csv = toCsv(
      ["nom", "identifiant", "role", "etat", "inscription", "derniere_activite"],
      rows.map((m) => [m.displayName, m.username, m.role, m.disabledAt ? "desactive" : "actif", iso(m.createdAt), iso(m.lastActiveAt)]),
    );
    return sendCsv(reply, `membres-${new Date().toISOString().slice(0, 10)}.csv`, csv);
  });

  type WithUsername = FastifyRequest<{ Params: { username: string } }>;
  // After a change, back to the list (a reload repeats nothing) with a word on what was done.
  const done = (request: FastifyRequest, reply: FastifyReply, what: (typeof DONE | ["erased_notice"])[number], username: string) => {
    const place = listQuery(request.query as Query);
    return reply.redirect(`/members?${place ? `${place}&` : ""}${new URLSearchParams({ done: what, who: username })}`, 303);
  };

  web.post("/members/:username/role", (request: WithUsername, reply) => {
    const manager = requireManager(request);
    const changed = changeRole(db, services.events, manager, request.params.username, parseRole((request.body as Form).role ?? ""));
    return done(request, reply, "role_changed", changed.username);
  });

  for (const [action, disabled] of [["disable", true], ["enable", false]] as const) {
    web.post(`/members/:username/${action}`, (request: WithUsername, reply) => {
      const manager = requireManager(request);
      const changed = setDisabled(db, services.events, manager, request.params.username, disabled);
      return done(request, reply, disabled ? "disabled_notice" : "enabled_notice", changed.username);
    });
  }

  web.post("/members/:username/erase", (request: WithUsername, reply) => {
    const manager = requireManager(request);
    removeMember(services, manager, request.params.username, (request.body as Form).confirm ?? "");
    return done(request, reply, "erased_notice", request.params.username);
  });

  web.post("/members/:username/reset-link", async (request: WithUsername, reply) => {
    const manager = requireManager(request);
    const target = managedMember(db, manager, request.params.username);
    const link = await createResetLink(services.kv, services.config, target);
    const { page } = request;
    const extra = html`<section class="card" aria-labelledby="reset-title"><h2 id="reset-title">${page.t("members.reset_created", { name: target.username, hours: RESET_HOURS })}</h2>${oneTimeLink(page, "reset-link", link.url)}</section>`;
    return sendPage(reply, membersPage(request, { extra }));
  });

  const invitationsPage = (page: PageContext, options: { created?: { url: string; expiresAt: number }; notice?: string } = {}) => {
    const { t } = page;
    const pending = pendingInvitations(db);
    return layout(page, t("invitations.title"), html`<h1>${t("invite.create.title")}</h1>
${options.created ? html`<section class="card" aria-labelledby="created-title"><h2 id="created-title">${t("invite.created", { date: dateText(page, options.created.expiresAt) })}</h2>
${oneTimeLink(page, "invitation-link", options.created.url)}
<p class="help">${t("invitations.link_once")}</p></section>` : ""}
<p>${t("invite.create.intro", { days: INVITATION_DAYS })}</p>
<form method="post" action="/invitations">
  ${csrfField(page)}
  <label for="role">${t("field.role")}</label>
  <select id="role" name="role">${assignableRoles(page.user!).map((r) => html`<option value="${r}" ${r === "member" ? raw("selected") : ""}>${t(`role.${r}`)}</option>`)}</select>
  <p><button type="submit">${t("invite.create.submit")}</button></p>
</form>
<h2>${t("invitations.pending")}</h2>
${pending.length === 0 ? html`<p>${t("invitations.none")}</p>` : html`<ul class="cards">${pending.map((i) => html`<li class="card"><p><strong>${t(`role.${i.role}`)}</strong> · ${t("invitations.created_at")} ${dateText(page, i.createdAt)}${i.createdBy ? html` · ${t("invitations.by")} @${i.createdBy}` : ""}</p>
<p>${t("invitations.expires")} ${dateText(page, i.expiresAt)}</p>
<form method="post" action="/invitations/${String(i.id)}/revoke">${csrfField(page)}<button type="submit" class="danger">${t("invitations.revoke")}</button></form></li>`)}</ul>`}
<p><a href="/members">${t(kindKey("members.title", services.config.kind))}</a></p>`, { notice: options.notice });
  };

  // /invitations/new is the old address of the same page (bookmarks, older guides).
  for (const path of ["/invitations", "/invitations/new"]) {
    web.get(path, (request, reply) => {
      requireManager(request);
      return sendPage(reply, invitationsPage(request.page));
    });
  }

  web.post("/invitations", (request, reply) => {
    const user = requireManager(request);
    const role = parseRole((request.body as Form).role ?? "member");
    if (!assignableRoles(user).includes(role)) throw new UserError("member_role_forbidden", 403);
    const invitation = createInvitation(db, services.config, { role, createdBy: user.id });
    return sendPage(reply, invitationsPage(request.page, { created: invitation }));
  });

  web.post("/invitations/:id/revoke", (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const user = requireManager(request);
    const id = Number(request.params.id);
    if (!Number.isSafeInteger(id)) throw new UserError("invitation_invalid", 410);
    revokeInvitation(db, user, id);
    return sendPage(reply, invitationsPage(request.page, { notice: request.page.t("invitations.revoked") }));
  });
}
