// Thematic groups: directory, proposing, a group's page with its threads,
// joining and leaving, and the moderators' tools. Rules live in src/groups/.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { dateFormat } from "../../dates.ts";
import { UserError } from "../../errors.ts";
import { canManageMembers, isCardHolder } from "../../members/members.ts";
import type { Services } from "../../services.ts";
import { GROUP_POLICIES, GROUP_VISIBILITIES } from "../../storage/schema.ts";
import { authorsOf, createLocalPost, viewerOf, type PostRow } from "../../posts/posts.ts";
import { findFollow, follow, unfollow } from "../../social/follows.ts";
import { lookupActor } from "../../federation/remote.ts";
import {
  answerJoinRequest,
  banFromGroup,
  bansOf,
  canModerate,
  groupActor,
  groupBySlug,
  groupDirectory,
  groupsOfMember,
  membersOf,
  pendingJoinRequests,
  proposedGroups,
  proposeGroup,
  removeMember,
  reviewGroup,
  setModerator,
  themesOf,
  unban,
  updateGroupSettings,
  type GroupRow,
} from "../../groups/groups.ts";
import { groupsOfPost, groupThread, groupThreads } from "../../groups/discussion.ts";
import type { ActorRow } from "../../federation/actors.ts";
import { html, raw, type Html } from "../html.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { requireUser, sendPage } from "../respond.ts";

type Form = Record<string, string | undefined>;
type WithSlug = FastifyRequest<{ Params: { slug: string } }>;

function dateText(page: PageContext, ms: number): string {
  return dateFormat(page.locale === "fr" ? "fr-FR" : "en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Paris" }).format(ms);
}

function handleOf(actor: ActorRow): string {
  return `@${actor.username}@${actor.domain}`;
}

function settingsFields(page: PageContext, group?: GroupRow): Html {
  const { t } = page;
  return html`<label for="description">${t("group.field.description")}</label>
  <textarea id="description" name="description" maxlength="2000">${group?.description ?? ""}</textarea>
  <label for="rules">${t("group.field.rules")}</label>
  <textarea id="rules" name="rules" maxlength="4000">${group?.rules ?? ""}</textarea>
  <label for="themes">${t("group.field.themes")}</label>
  <input type="text" id="themes" name="themes" value="${group ? themesOf(group).join(", ") : ""}" aria-describedby="themes-help">
  <p class="help" id="themes-help">${t("group.field.themes_help")}</p>
  <fieldset><legend>${t("group.field.policy")}</legend>
  ${GROUP_POLICIES.map((p) => html`<label><input type="radio" name="policy" value="${p}" ${(group?.policy ?? "party_only") === p ? raw("checked") : ""}> ${t(`group.policy.${p}`)}</label>`)}
  </fieldset>
  <fieldset><legend>${t("group.field.visibility")}</legend>
  ${GROUP_VISIBILITIES.map((v) => html`<label><input type="radio" name="visibility" value="${v}" ${(group?.visibility ?? "public") === v ? raw("checked") : ""}> ${t(`group.visibility.${v}`)}</label>`)}
  </fieldset>`;
}

function groupLink(entry: { group: GroupRow; actor: ActorRow }): string {
  return entry.group.local ? `/groups/${entry.group.slug}` : (entry.actor.url ?? entry.actor.uri);
}

function renderPostBody(page: PageContext, post: PostRow, author: ActorRow | undefined): Html {
  const profile = author?.local ? `/@${author.username}` : (author?.url ?? author?.uri ?? "#");
  return html`<article class="post" id="post-${post.id}">
  <p class="meta"><a href="${profile}"><strong>${author?.name || author?.username || "?"}</strong> ${author ? handleOf(author) : ""}</a>
   · <time datetime="${new Date(post.publishedAt).toISOString()}">${dateText(page, post.publishedAt)}</time></p>
  ${post.summary ? html`<details><summary>${post.summary}</summary>${raw(post.content)}</details>` : raw(post.content)}
</article>`;
}

export function registerGroupRoutes(web: FastifyInstance, services: Services): void {
  const { db, config } = services;

  const localGroup = (slug: string): { group: GroupRow; actor: ActorRow } => {
    const group = groupBySlug(db, slug.toLowerCase());
    const actor = group && group.state === "active" ? groupActor(db, group) : undefined;
    if (!group || !actor) throw new UserError("group_not_found", 404);
    return { group, actor };
  };

  web.get("/groups", (request, reply) => {
    const { page } = request;
    const { t, user } = page;
    const query = request.query as { q?: string; sort?: string; notice?: string };
    const sort = query.sort === "name" || query.sort === "members" ? query.sort : "activity";
    const entries = groupDirectory(db, { q: query.q, sort });
    const mine = user ? groupsOfMember(db, user.actorId) : [];
    const toReview = user && canManageMembers(user.role) ? proposedGroups(db) : [];
    const notice = query.notice === "proposed" ? t("group.proposed") : undefined;
    return sendPage(reply, layout(page, t("group.directory"), html`<h1>${t("group.directory")}</h1>
<p>${t("group.directory_intro")}</p>
${user && isCardHolder(user.role) ? html`<p><a href="/groups/new">${t("group.propose")}</a></p>` : ""}
${toReview.length ? html`<h2>${t("group.to_review")}</h2><ul>${toReview.map((g) => html`<li><strong>${g.name}</strong> — ${g.description}
  <form method="post" action="/groups/review/${g.id}" class="inline">${csrfField(page)}<button name="decision" value="approve">${t("group.approve")}</button> <button name="decision" value="refuse">${t("group.refuse")}</button></form></li>`)}</ul>` : ""}
${mine.length ? html`<h2>${t("group.mine")}</h2><ul>${mine.map((m) => html`<li><a href="${groupLink(m)}">${m.group.name}</a>${m.pending ? html` <span class="badge">${t("group.pending")}</span>` : ""}</li>`)}</ul>` : ""}
<form method="get" action="/groups" class="search">
  <label for="q">${t("group.search")}</label>
  <input type="search" id="q" name="q" value="${query.q ?? ""}">
  <label for="sort">${t("group.sort")}</label>
  <select id="sort" name="sort">${(["activity", "members", "name"] as const).map((s) => html`<option value="${s}" ${s === sort ? raw("selected") : ""}>${t(`group.sort.${s}`)}</option>`)}</select>
  <button type="submit">${t("group.search_submit")}</button>
</form>
${entries.length === 0 ? html`<p>${t("group.none")}</p>` : html`<ul class="groups">${entries.map((e) => html`<li>
  <a href="${groupLink(e)}"><strong>${e.group.name}</strong></a> <span class="meta">${handleOf(e.actor)}${e.group.local ? "" : html` · ${t("group.remote", { host: e.actor.domain })}`} · ${t("group.members", { n: e.actor.followersCount })}</span>
  ${themesOf(e.group).length ? html`<br><span class="meta">${themesOf(e.group).map((th) => `#${th}`).join(" ")}</span>` : ""}
</li>`)}</ul>`}
${user ? html`<form method="post" action="/groups/join" class="follow-remote">
  ${csrfField(page)}
  <label for="handle">${t("group.join_remote")}</label>
  <input type="text" id="handle" name="handle" required placeholder="@g_logement@instance.exemple" aria-describedby="handle-help">
  <p class="help" id="handle-help">${t("group.join_remote_help")}</p>
  <p><button type="submit">${t("group.join")}</button></p>
</form>` : ""}`, { notice }));
  });

  web.get("/groups/new", (request, reply) => {
    const { page } = request;
    requireUser(request);
    const { t } = page;
    return sendPage(reply, layout(page, t("group.propose"), html`<h1>${t("group.propose")}</h1>
<p>${t("group.propose_intro")}</p>
${config.groupsNeedApproval && !canManageMembers(page.user!.role) ? html`<p>${t("group.propose_waits")}</p>` : ""}
<form method="post" action="/groups">
  ${csrfField(page)}
  <label for="name">${t("group.field.name")}</label>
  <input type="text" id="name" name="name" required maxlength="100">
  <label for="slug">${t("group.field.slug")}</label>
  <input type="text" id="slug" name="slug" pattern="[a-z0-9_]{2,27}" aria-describedby="slug-help">
  <p class="help" id="slug-help">${t("group.field.slug_help")}</p>
  ${settingsFields(page)}
  <p><button type="submit">${t("group.create")}</button></p>
</form>`));
  });

  web.post("/groups", (request, reply) => {
    const user = requireUser(request);
    const form = request.body as Form;
    const group = proposeGroup(services, user, { name: form.name ?? "", slug: form.slug, description: form.description, rules: form.rules, themes: form.themes, policy: form.policy, visibility: form.visibility });
    return reply.redirect(group.state === "active" ? `/groups/${group.slug}` : "/groups?notice=proposed", 303);
  });

  web.post("/groups/review/:id", (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const user = requireUser(request);
    if (!/^\d+$/.test(request.params.id)) throw new UserError("group_not_found", 404);
    reviewGroup(services, user, Number(request.params.id), (request.body as Form).decision === "approve");
    return reply.redirect("/groups", 303);
  });

  web.post("/groups/join", async (request, reply) => {
    const user = requireUser(request);
    const actor = await lookupActor(services, (request.body as Form).handle ?? "");
    if (!actor || actor.type !== "Group") throw new UserError("group_not_found", 404);
    await follow(services, user, actor);
    return reply.redirect("/groups", 303);
  });

  web.get("/groups/:slug", (request: WithSlug, reply) => {
    const { page } = request;
    const { t, user } = page;
    const { group, actor } = localGroup(request.params.slug);
    const viewer = viewerOf(user);
    const relation = user ? findFollow(db, user.actorId, actor.id) : undefined;
    const member = !!relation?.acceptedAt;
    const moderator = canModerate(db, group, user);
    const threads = groupThreads(db, viewer, group);
    const { actors: authors } = authorsOf(db, threads.map((th) => th.root));
    const notice = (request.query as { notice?: string }).notice === "saved" ? t("group.saved") : undefined;
    return sendPage(reply, layout(page, group.name, html`<h1>${group.name}</h1>
<p class="meta">${t("group.handle")} : ${handleOf(actor)} · ${t("group.members", { n: actor.followersCount })} · ${t(`group.policy.${group.policy}`)}</p>
${group.visibility === "members" ? html`<p class="badge">${t("group.members_only_notice")}</p>` : ""}
${raw(actor.summary)}
${themesOf(group).length ? html`<p><strong>${t("group.themes")}</strong> : ${themesOf(group).map((th) => html`<a href="/tags/${encodeURIComponent(th)}">#${th}</a> `)}</p>` : ""}
${group.rules ? html`<h2>${t("group.rules")}</h2><p class="rules">${group.rules}</p>` : ""}
${user
  ? relation
    ? html`<form method="post" action="/groups/${group.slug}/leave">${csrfField(page)}<p>${member ? t("group.joined") : t("group.join_pending")}</p><button type="submit">${t("group.leave")}</button></form>`
    : html`<form method="post" action="/groups/${group.slug}/join">${csrfField(page)}<button type="submit">${t("group.join")}</button></form>`
  : ""}
${member ? html`<form method="post" action="/groups/${group.slug}/threads" class="compose">
  ${csrfField(page)}
  <h2>${t("group.new_thread")}</h2>
  <label for="title">${t("group.thread_title")}</label>
  <input type="text" id="title" name="title" required maxlength="200">
  <label for="text">${t("group.thread_text")}</label>
  <textarea id="text" name="text" required maxlength="5000"></textarea>
  <p><button type="submit">${t("group.thread_submit")}</button></p>
</form>` : ""}
<h2>${t("group.threads")}</h2>
${threads.length === 0 ? html`<p>${t("group.no_threads")}</p>` : html`<ul class="threads">${threads.map((th) => {
  const author = authors.get(th.root.actorId);
  return html`<li><a href="/groups/${group.slug}/threads/${th.root.id}"><strong>${th.title ?? (th.root.content.replace(/<[^>]+>/g, " ").trim().slice(0, 80) || "…")}</strong></a>
  <span class="meta">${author ? handleOf(author) : ""} · ${t("group.replies", { n: th.replies })} · ${dateText(page, th.lastAt)}</span></li>`;
})}</ul>`}
${moderator ? moderation(page, group) : ""}`, { notice }));
  });

  function moderation(page: PageContext, group: GroupRow): Html {
    const { t } = page;
    const base = `/groups/${group.slug}`;
    const requests = pendingJoinRequests(db, group);
    const members = membersOf(db, group);
    const bans = bansOf(db, group);
    return html`<section aria-labelledby="moderation"><h2 id="moderation">${t("group.moderation")}</h2>
<h3>${t("group.requests")}</h3>
${requests.length === 0 ? html`<p>${t("group.no_requests")}</p>` : html`<ul>${requests.map((a) => html`<li>${a.name || a.username} ${handleOf(a)}
  <form method="post" action="${base}/requests/${a.id}" class="inline">${csrfField(page)}<button name="decision" value="accept">${t("group.accept")}</button> <button name="decision" value="reject">${t("group.reject")}</button></form></li>`)}</ul>`}
<h3>${t("group.members_title")}</h3>
<ul>${members.map((m) => html`<li>${m.actor.name || m.actor.username} ${handleOf(m.actor)}${m.role ? html` <span class="badge">${t(`group.${m.role}`)}</span>` : ""}
  ${m.role !== "owner" ? html`<form method="post" action="${base}/members/${m.actor.id}" class="inline">${csrfField(page)}
    <button name="action" value="remove">${t("group.remove")}</button>
    <button name="action" value="ban">${t("group.ban")}</button>
    <button name="action" value="${m.role === "moderator" ? "unmoderator" : "moderator"}">${m.role === "moderator" ? t("group.unmake_moderator") : t("group.make_moderator")}</button>
  </form>` : ""}</li>`)}</ul>
<form method="post" action="${base}/bans">${csrfField(page)}
  <label for="ban-target">${t("group.ban_title")}</label>
  <input type="text" id="ban-target" name="target" required placeholder="${t("group.ban_target")}">
  <p><button type="submit">${t("group.ban")}</button></p>
</form>
${bans.length ? html`<h3>${t("group.bans")}</h3><ul>${bans.map((b) => html`<li>${b.actor ? handleOf(b.actor) : b.domain}
  <form method="post" action="${base}/bans/${b.id}/delete" class="inline">${csrfField(page)}<button type="submit">${t("group.unban")}</button></form></li>`)}</ul>` : ""}
<h3>${t("group.settings")}</h3>
<form method="post" action="${base}/settings">${csrfField(page)}
  <label for="name">${t("group.field.name")}</label>
  <input type="text" id="name" name="name" required maxlength="100" value="${group.name}">
  ${settingsFields(page, group)}
  <p><button type="submit">${t("group.save")}</button></p>
</form></section>`;
  }

  web.get("/groups/:slug/threads/:id", (request: FastifyRequest<{ Params: { slug: string; id: string } }>, reply) => {
    const { page } = request;
    const { t, user } = page;
    const { group, actor } = localGroup(request.params.slug);
    const thread = /^\d+$/.test(request.params.id) ? groupThread(db, viewerOf(user), group, Number(request.params.id)) : null;
    if (!thread) throw new UserError("post_not_found", 404);
    const { actors: authors } = authorsOf(db, [thread.root, ...thread.replies]);
    const member = user ? !!findFollow(db, user.actorId, actor.id)?.acceptedAt : false;
    const title = thread.title ?? group.name;
    return sendPage(reply, layout(page, title, html`<p><a href="/groups/${group.slug}">${group.name}</a></p>
<h1>${title}</h1>
${renderPostBody(page, thread.root, authors.get(thread.root.actorId))}
<section aria-label="${t("group.replies", { n: thread.replies.length })}">
${thread.replies.map((p) => renderPostBody(page, p, authors.get(p.actorId)))}
</section>
${member ? html`<form method="post" action="/groups/${group.slug}/threads" class="compose" id="reply">
  ${csrfField(page)}
  <input type="hidden" name="in_reply_to_id" value="${thread.replies.at(-1)?.id ?? thread.root.id}">
  <label for="text">${t("group.reply")}</label>
  <textarea id="text" name="text" required maxlength="5000"></textarea>
  <p><button type="submit">${t("group.reply_submit")}</button></p>
</form>` : ""}`));
  });

  web.post("/groups/:slug/join", async (request: WithSlug, reply) => {
    const user = requireUser(request);
    const { group, actor } = localGroup(request.params.slug);
    await follow(services, user, actor);
    return reply.redirect(`/groups/${group.slug}`, 303);
  });

  web.post("/groups/:slug/leave", async (request: WithSlug, reply) => {
    const user = requireUser(request);
    const { group, actor } = localGroup(request.params.slug);
    await unfollow(services, user, actor);
    return reply.redirect(`/groups/${group.slug}`, 303);
  });

  web.post("/groups/:slug/threads", async (request: WithSlug, reply) => {
    const user = requireUser(request);
    const { group, actor } = localGroup(request.params.slug);
    if (!findFollow(db, user.actorId, actor.id)?.acceptedAt) throw new UserError("group_not_member", 403);
    const form = request.body as Form;
    const inReplyToId = form.in_reply_to_id && /^\d+$/.test(form.in_reply_to_id) ? Number(form.in_reply_to_id) : null;
    const post = await createLocalPost(services, user, {
      text: form.text ?? "",
      visibility: "public",
      groupActorId: actor.id,
      title: inReplyToId ? null : form.title,
      inReplyToId,
    });
    const root = groupsOfPost(db, post.id).find((l) => l.group.id === group.id)?.rootId ?? post.id;
    return reply.redirect(`/groups/${group.slug}/threads/${root}`, 303);
  });

  web.post("/groups/:slug/requests/:actorId", async (request: FastifyRequest<{ Params: { slug: string; actorId: string } }>, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    await answerJoinRequest(services, user, group, Number(request.params.actorId) || 0, (request.body as Form).decision === "accept");
    return reply.redirect(`/groups/${group.slug}`, 303);
  });

  web.post("/groups/:slug/members/:actorId", async (request: FastifyRequest<{ Params: { slug: string; actorId: string } }>, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    const actorId = Number(request.params.actorId) || 0;
    const action = (request.body as Form).action;
    if (action === "ban") {
      const target = membersOf(db, group).find((m) => m.actor.id === actorId)?.actor;
      if (!target) throw new UserError("group_member_not_found", 404);
      await banFromGroup(services, user, group, { actor: target });
    } else if (action === "moderator" || action === "unmoderator") setModerator(services, user, group, actorId, action === "moderator");
    else await removeMember(services, user, group, actorId);
    return reply.redirect(`/groups/${group.slug}`, 303);
  });

  web.post("/groups/:slug/bans", async (request: WithSlug, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    const target = ((request.body as Form).target ?? "").trim();
    // "@name@host" or an address names an account; a bare host names a whole instance.
    if (target.startsWith("@") || target.startsWith("http") || target.split("@").length === 2) {
      const actor = await lookupActor(services, target);
      if (!actor) throw new UserError("actor_not_found", 404);
      await banFromGroup(services, user, group, { actor });
    } else await banFromGroup(services, user, group, { domain: target });
    return reply.redirect(`/groups/${group.slug}`, 303);
  });

  web.post("/groups/:slug/bans/:id/delete", (request: FastifyRequest<{ Params: { slug: string; id: string } }>, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    unban(services, user, group, Number(request.params.id) || 0);
    return reply.redirect(`/groups/${group.slug}`, 303);
  });

  web.post("/groups/:slug/settings", async (request: WithSlug, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    const form = request.body as Form;
    await updateGroupSettings(services, user, group, { name: form.name ?? "", description: form.description, rules: form.rules, themes: form.themes, policy: form.policy, visibility: form.visibility });
    return reply.redirect(`/groups/${group.slug}?notice=saved`, 303);
  });
}
