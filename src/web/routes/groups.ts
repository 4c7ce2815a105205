// Thematic groups: directory, proposing, a group's page with its threads
// (paged), joining and leaving, for groups hosted here and, as this instance
// knows them, those of other instances (/groups/remote/<id>), and the
// moderators' tools (members, bans, reports, hiding and removing posts, the
// moderation log; the instance's own report queue at /moderation). Rules live
// in src/groups/.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import multipart, { type MultipartFile } from "@fastify/multipart";
import { UserError } from "../../errors.ts";
import { canManageMembers, isCardHolder, type User } from "../../members/members.ts";
import type { Services } from "../../services.ts";
import { GROUP_POLICIES, GROUP_VISIBILITIES } from "../../storage/schema.ts";
import { authorsOf, viewerOf, type PostRow } from "../../posts/posts.ts";
import { findFollow, follow, unfollow } from "../../social/follows.ts";
import { lookupActorOrExplain } from "../../federation/remote.ts";
import { discoverGroups, lastDiscovery, type DiscoveryResult } from "../../groups/discovery.ts";
import {
  answerJoinRequest,
  banFromGroup,
  bansOf,
  canModerate,
  groupActor,
  groupById,
  groupBySlug,
  groupDirectory,
  groupsOfMember,
  membersOf,
  pendingJoinRequests,
  proposedGroups,
  proposeGroup,
  removeMember,
  reviewGroup,
  setGroupAvatar,
  setModerator,
  themesOf,
  unban,
  updateGroupSettings,
  type GroupRow,
} from "../../groups/groups.ts";
import { groupThread, groupThreads, postInGroup, THREADS_PAGE } from "../../groups/discussion.ts";
import {
  canModerateInstance,
  closeFlag,
  deletePost,
  flagPost,
  flagQueue,
  hiddenIn,
  hidePost,
  moderationJournal,
  removeFromGroup,
  reporterShown,
  unhidePost,
  type FlagView,
} from "../../groups/moderation.ts";
import type { ActorRow } from "../../federation/actors.ts";
import { MEDIA_MAX_BYTES, type Upload } from "../../media/media.ts";
import { html, raw, type Html } from "../html.ts";
import { actorName, dateText, plainText, profileUrl } from "../format.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { requireUser, safeRedirect, sendPage } from "../respond.ts";
import { firstSafeUrl, safeUrl } from "../../safe-url.ts";

type Form = Record<string, string | undefined>;
type WithSlug = FastifyRequest<{ Params: { slug: string } }>;

function noticeOf(page: PageContext, notice: string | undefined): string | undefined {
  return notice === "flagged" ? page.t("mod.flagged") : notice === "done" ? page.t("mod.done") : undefined;
}

/** Adds ?notice= to a local path, before its #fragment. */
function withNotice(path: string, notice: string): string {
  const [target, fragment] = path.split("#", 2) as [string, string | undefined];
  return `${target}${target.includes("?") ? "&" : "?"}notice=${notice}${fragment ? `#${fragment}` : ""}`;
}

/** The uploaded image of a multipart form, as the route reads it from the body ("" when no file was chosen). */
async function keepImage(part: MultipartFile): Promise<void> {
  const data = await part.toBuffer();
  (part as unknown as { value: Upload | "" }).value = part.filename && data.length ? { data, contentType: part.mimetype } : "";
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

/**
 * A group's page here: /groups/<slug> for a group hosted here, /groups/remote/<id>
 * for one hosted on another instance, shown as this instance knows it (its link
 * to the group's own page on its server is on that page).
 */
export function groupPath(group: Pick<GroupRow, "id" | "local" | "slug">): string {
  return group.local ? `/groups/${group.slug}` : `/groups/remote/${group.id}`;
}

function renderPostBody(page: PageContext, post: PostRow, author: ActorRow | undefined, tools: Html | string = ""): Html {
  return html`<article class="post" id="post-${post.id}">
  <p class="meta"><a href="${profileUrl(author)}"><strong>${actorName(author)}</strong> ${author ? handleOf(author) : ""}</a>
   · <time datetime="${new Date(post.publishedAt).toISOString()}">${dateText(page, post.publishedAt)}</time></p>
  ${post.summary ? html`<details><summary>${post.summary}</summary>${raw(post.content)}</details>` : raw(post.content)}
  ${tools}
</article>`;
}

/** "Signaler" under a post someone else wrote (any logged-in reader). */
export function flagForm(page: PageContext, post: PostRow, back: string): Html | string {
  const { t, user } = page;
  if (!user || post.actorId === user.actorId) return "";
  return html`<details class="flag"><summary>${t("mod.flag")}</summary>
  <form method="post" action="/moderation/flag/${post.id}">${csrfField(page)}
    <input type="hidden" name="back" value="${back}">
    <label for="flag-${post.id}">${t("mod.flag_comment")}</label>
    <textarea id="flag-${post.id}" name="comment" maxlength="1000"></textarea>
    <p><button type="submit">${t("mod.flag_submit")}</button></p>
  </form></details>`;
}

/** A group moderator's buttons on a post of the discussion: hide or show again, remove from the group. */
function moderatorForm(page: PageContext, group: GroupRow, post: PostRow, hidden: boolean, back: string): Html {
  const { t } = page;
  return html`<form method="post" action="/groups/${group.slug}/posts/${post.id}/moderate" class="inline moderate">${csrfField(page)}
    <input type="hidden" name="back" value="${back}">
    ${hidden ? html`<span class="badge">${t("mod.hidden")}</span> ` : ""}
    <label for="reason-${post.id}">${t("mod.reason")}</label>
    <input type="text" id="reason-${post.id}" name="reason" maxlength="1000">
    <button name="action" value="${hidden ? "unhide" : "hide"}">${hidden ? t("mod.unhide") : t("mod.hide")}</button>
    <button name="action" value="remove">${t("mod.remove")}</button>
  </form>`;
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
    const manager = !!user && canManageMembers(user.role);
    const last = manager ? lastDiscovery(services) : null;
    const figures = (r: DiscoveryResult) => ({ instances: r.instances, reached: r.reached, found: r.found, added: r.added, date: dateText(page, r.at) });
    const notice = query.notice === "proposed" ? t("group.proposed") : query.notice === "discovered" && last ? t("group.discovered", figures(last)) : query.notice === "discovering" ? t("group.discover_running") : undefined;
    return sendPage(reply, layout(page, t("group.directory"), html`<h1>${t("group.directory")}</h1>
<p>${t("group.directory_intro")}</p>
${user && isCardHolder(user.role) ? html`<p><a href="/groups/new">${t("group.propose")}</a></p>` : ""}
${manager ? html`<form method="post" action="/groups/discover" class="discover">${csrfField(page)}
  <p class="help" id="discover-help">${t("group.discover_help")}</p>
  <p class="meta">${last ? t("group.discover_last", figures(last)) : t("group.discover_never")}</p>
  <p><button type="submit" aria-describedby="discover-help">${t("group.discover")}</button></p>
</form>` : ""}
${canModerateInstance(user) ? html`<p><a href="/moderation">${t("mod.queue_instance")}</a></p>` : ""}
${toReview.length ? html`<h2>${t("group.to_review")}</h2><ul>${toReview.map((g) => html`<li><strong>${g.name}</strong> — ${g.description}
  <form method="post" action="/groups/review/${g.id}" class="inline">${csrfField(page)}<button name="decision" value="approve">${t("group.approve")}</button> <button name="decision" value="refuse">${t("group.refuse")}</button></form></li>`)}</ul>` : ""}
${mine.length ? html`<h2>${t("group.mine")}</h2><ul>${mine.map((m) => html`<li><a href="${groupPath(m.group)}">${m.group.name}</a>${m.pending ? html` <span class="badge">${t("group.pending")}</span>` : ""}</li>`)}</ul>` : ""}
<form method="get" action="/groups" class="search">
  <label for="q">${t("group.search")}</label>
  <input type="search" id="q" name="q" value="${query.q ?? ""}">
  <label for="sort">${t("group.sort")}</label>
  <select id="sort" name="sort">${(["activity", "members", "name"] as const).map((s) => html`<option value="${s}" ${s === sort ? raw("selected") : ""}>${t(`group.sort.${s}`)}</option>`)}</select>
  <button type="submit">${t("group.search_submit")}</button>
</form>
${entries.length === 0 ? html`<p>${t("group.none")}</p>` : html`<ul class="groups">${entries.map((e) => html`<li>
  <a href="${groupPath(e.group)}"><strong>${e.group.name}</strong></a> <span class="meta">${handleOf(e.actor)}${e.group.local ? "" : html` · ${t("group.remote", { host: e.actor.domain })}`} · ${t("group.members", { n: e.actor.followersCount })}</span>
  ${themesOf(e.group).length ? html`<br><span class="meta">${themesOf(e.group).map((th) => `#${th}`).join(" ")}</span>` : ""}
  ${user && !findFollow(db, user.actorId, e.actor.id) ? html`<form method="post" action="${groupPath(e.group)}/join" class="inline">${csrfField(page)}<button type="submit" aria-label="${t("group.join")} : ${e.group.name}">${t("group.join")}</button></form>` : ""}
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

  // A discovery round now (secretaries and admins): the page then says what it found.
  web.post("/groups/discover", async (request, reply) => {
    const user = requireUser(request);
    if (!canManageMembers(user.role)) throw new UserError("group_forbidden", 403);
    // A round may take long (many instances, slow ones): the page does not wait more than 50 s for it.
    const done = await Promise.race([discoverGroups(services).then(() => true), new Promise<false>((resolve) => setTimeout(resolve, 50_000, false).unref())]);
    return reply.redirect(`/groups?notice=${done ? "discovered" : "discovering"}`, 303);
  });

  web.post("/groups/join", async (request, reply) => {
    const user = requireUser(request);
    const actor = await lookupActorOrExplain(services, (request.body as Form).handle ?? "", "group_not_found");
    if (actor.type !== "Group") throw new UserError("not_a_group", 422);
    await follow(services, user, actor);
    return reply.redirect("/groups", 303);
  });

  // A group's discussion pages, ours (/groups/<slug>) and those of groups
  // hosted on other instances (/groups/remote/<id>, as this instance knows
  // them: the posts their group relayed to our members), with the same
  // rendering and forms: posting to a remote group addresses its actor, whose
  // server relays the post to every member's instance.
  const remoteGroup = (id: string): { group: GroupRow; actor: ActorRow } => {
    const group = /^\d+$/.test(id) ? groupById(db, Number(id)) : undefined;
    const actor = group && !group.local && group.state === "active" ? groupActor(db, group) : undefined;
    if (!group || !actor) throw new UserError("group_not_found", 404);
    return { group, actor };
  };
  type GroupParams = { slug?: string; id?: string };
  const routes: Array<{ prefix: string; find: (params: GroupParams) => { group: GroupRow; actor: ActorRow } }> = [
    { prefix: "/groups/:slug", find: (p) => localGroup(p.slug ?? "") },
    { prefix: "/groups/remote/:id", find: (p) => remoteGroup(p.id ?? "") },
  ];
  type GroupRequest = FastifyRequest<{ Params: GroupParams & { threadId?: string } }>;

  for (const { prefix, find } of routes) {
    web.get(prefix, (request: GroupRequest, reply) => groupPage(request, reply, find(request.params)));
    web.get(`${prefix}/threads/:threadId`, (request: GroupRequest, reply) => threadPage(request, reply, find(request.params), request.params.threadId ?? ""));

    web.post(`${prefix}/join`, async (request: GroupRequest, reply) => {
      const user = requireUser(request);
      const { group, actor } = find(request.params);
      await follow(services, user, actor);
      return reply.redirect(groupPath(group), 303);
    });

    web.post(`${prefix}/leave`, async (request: GroupRequest, reply) => {
      const user = requireUser(request);
      const { group, actor } = find(request.params);
      await unfollow(services, user, actor);
      return reply.redirect(groupPath(group), 303);
    });

    // A new thread (title and text) or a reply (in_reply_to_id), to a group here or elsewhere.
    web.post(`${prefix}/threads`, async (request: GroupRequest, reply) => {
      const user = requireUser(request);
      const { group } = find(request.params);
      const form = request.body as Form;
      const inReplyToId = form.in_reply_to_id && /^\d+$/.test(form.in_reply_to_id) ? Number(form.in_reply_to_id) : null;
      const { rootId: root } = await postInGroup(services, user, group, { text: form.text ?? "", title: form.title, inReplyToId });
      return reply.redirect(`${groupPath(group)}/threads/${root}`, 303);
    });
  }

  /** Members-only groups: their threads are for their members here (and, for ours, the group's moderators). */
  const mayReadThreads = (group: GroupRow, member: boolean, moderator: boolean) => group.visibility === "public" || member || moderator;

  function groupPage(request: FastifyRequest, reply: FastifyReply, { group, actor }: { group: GroupRow; actor: ActorRow }) {
    const { page } = request;
    const { t, user } = page;
    const base = groupPath(group);
    const query = request.query as { notice?: string; max_id?: string };
    const relation = user ? findFollow(db, user.actorId, actor.id) : undefined;
    const member = !!relation?.acceptedAt;
    const moderator = canModerate(db, group, user);
    const readable = mayReadThreads(group, member, moderator);
    const maxId = query.max_id && /^\d+$/.test(query.max_id) ? Number(query.max_id) : null;
    // One more than a page: whether there are older threads to link to.
    const found = readable ? groupThreads(db, viewerOf(user), group, THREADS_PAGE + 1, { maxId }) : [];
    const threads = found.slice(0, THREADS_PAGE);
    const older = found.length > THREADS_PAGE ? threads.at(-1) : undefined;
    const { actors: authors } = authorsOf(db, threads.map((th) => th.root));
    // The group's page on its own server (its actor's `url`, else its id: web addresses only).
    const home = firstSafeUrl(actor.url, actor.uri);
    const avatar = safeUrl(actor.avatarUrl);
    const notice = query.notice === "saved" ? t("group.saved") : undefined;
    const tabs = [
      html`<a href="/debate/${group.id}">${t("debate.proposals")}</a>`,
      html`<a href="/debate/${group.id}/contributors">${t("debate.contributors")}</a>`,
      ...(group.local ? [html`<a href="${base}/agenda">${t("group.agenda")}</a>`] : home ? [html`<a href="${home}" rel="nofollow noopener noreferrer">${t("group.home_link", { host: actor.domain })}</a>`] : []),
      // Running the group (requests, members, bans, settings, image) is its own page: the discussion stays short.
      ...(group.local && moderator ? [html`<a href="${base}/manage">${t("group.manage", { n: pendingJoinRequests(db, group).length })}</a>`] : []),
    ];
    return sendPage(reply, layout(page, group.name, html`${avatar ? html`<img class="avatar" src="${avatar}" alt="${t("group.avatar_alt", { name: group.name })}" width="96" height="96">` : ""}<h1>${group.name}</h1>
<p class="meta">${t("group.handle")} : ${handleOf(actor)} · ${group.local ? html`${t("group.members", { n: actor.followersCount })} · ${t(`group.policy.${group.policy}`)}` : t("group.remote", { host: actor.domain })}</p>
${group.local ? "" : html`<p>${t("group.remote_intro")}</p>`}
${group.visibility === "members" ? html`<p class="badge">${t("group.members_only_notice")}</p>` : ""}
${raw(actor.summary)}
${themesOf(group).length ? html`<p><strong>${t("group.themes")}</strong> : ${themesOf(group).map((th) => html`<a href="/tags/${encodeURIComponent(th)}">#${th}</a> `)}</p>` : ""}
${group.rules ? html`<h2>${t("group.rules")}</h2><p class="rules">${group.rules}</p>` : ""}
${user
  ? relation
    ? html`<form method="post" action="${base}/leave">${csrfField(page)}<p>${member ? t("group.joined") : t("group.join_pending")}</p><button type="submit" class="danger">${t("group.leave")}</button></form>`
    : html`<form method="post" action="${base}/join">${csrfField(page)}<button type="submit">${t("group.join")}</button></form>`
  : ""}
${member && !maxId ? html`<form method="post" action="${base}/threads" class="compose">
  ${csrfField(page)}
  <h2>${t("group.new_thread")}</h2>
  <label for="title">${t("group.thread_title")}</label>
  <input type="text" id="title" name="title" required maxlength="200">
  <label for="text">${t("group.thread_text")}</label>
  <textarea id="text" name="text" required maxlength="5000"></textarea>
  <p><button type="submit">${t("group.thread_submit")}</button></p>
</form>` : ""}
<p class="tabs">${tabs.map((tab, i) => html`${i ? " · " : ""}${tab}`)}</p>
<h2 id="threads">${maxId ? t("group.older_threads") : t("group.threads")}</h2>
${!readable
  ? html`<p>${t("group.members_only_threads")}</p>`
  : threads.length === 0
    ? html`<p>${t("group.no_threads")}</p>`
    : html`<ul class="threads">${threads.map((th) => {
  const author = authors.get(th.root.actorId);
  return html`<li><a href="${base}/threads/${th.root.id}"><strong>${th.title ?? (plainText(th.root.content).slice(0, 80) || "…")}</strong></a>
  <span class="meta">${author ? handleOf(author) : ""} · ${t("group.replies", { n: th.replies })} · ${dateText(page, th.lastAt)}</span></li>`;
})}</ul>`}
${older || maxId ? html`<nav class="pager" aria-label="${t("group.threads")}"><p>${maxId ? html`<a href="${base}#threads">${t("group.newest_threads")}</a>` : ""}${maxId && older ? " · " : ""}${older ? html`<a href="${base}?max_id=${older.root.id}#threads" rel="next">${t("group.older_threads")}</a>` : ""}</p></nav>` : ""}
`, { notice }));
  }

  /** The way between a group's management pages: its people here, its settings on their own page (shorter on a phone). */
  function manageNav(page: PageContext, group: GroupRow): Html {
    const { t } = page;
    const base = `/groups/${group.slug}`;
    return html`<nav class="subnav" aria-label="${t("group.manage_title", { name: group.name })}"><a href="${base}/manage#requests">${t("group.requests")}</a> <a href="${base}/manage#members">${t("group.members_title")}</a> <a href="${base}/manage/settings">${t("group.settings")}</a> <a href="${base}/moderation">${t("mod.queue_link")}</a></nav>`;
  }

  function moderation(page: PageContext, group: GroupRow): Html {
    const { t } = page;
    const base = `/groups/${group.slug}`;
    const requests = pendingJoinRequests(db, group);
    const members = membersOf(db, group);
    const bans = bansOf(db, group);
    return html`<p><a href="${base}">← ${group.name}</a></p><h1>${t("group.manage_title", { name: group.name })}</h1>
${manageNav(page, group)}
<h2 id="requests">${t("group.requests")}</h2>
${requests.length === 0 ? html`<p>${t("group.no_requests")}</p>` : html`<ul>${requests.map((a) => html`<li>${a.name || a.username} ${handleOf(a)}
  <form method="post" action="${base}/requests/${a.id}" class="inline">${csrfField(page)}<button name="decision" value="accept" class="secondary">${t("group.accept")}</button> <button name="decision" value="reject" class="danger">${t("group.reject")}</button></form></li>`)}</ul>`}
<h2 id="members">${t("group.members_title")}</h2>
<ul>${members.map((m) => html`<li>${m.actor.name || m.actor.username} ${handleOf(m.actor)}${m.role ? html` <span class="badge">${t(`group.${m.role}`)}</span>` : ""}
  ${m.role !== "owner" ? html`<form method="post" action="${base}/members/${m.actor.id}" class="inline">${csrfField(page)}
    <button name="action" value="remove" class="danger">${t("group.remove")}</button>
    <button name="action" value="ban" class="danger">${t("group.ban")}</button>
    <button name="action" class="secondary" value="${m.role === "moderator" ? "unmoderator" : "moderator"}">${m.role === "moderator" ? t("group.unmake_moderator") : t("group.make_moderator")}</button>
  </form>` : ""}</li>`)}</ul>
<form method="post" action="${base}/bans">${csrfField(page)}
  <label for="ban-target">${t("group.ban_title")}</label>
  <input type="text" id="ban-target" name="target" required placeholder="${t("group.ban_target")}">
  <p><button type="submit" class="danger">${t("group.ban")}</button></p>
</form>
${bans.length ? html`<h2>${t("group.bans")}</h2><ul>${bans.map((b) => html`<li>${b.actor ? handleOf(b.actor) : b.domain}
  <form method="post" action="${base}/bans/${b.id}/delete" class="inline">${csrfField(page)}<button type="submit" class="secondary">${t("group.unban")}</button></form></li>`)}</ul>` : ""}`;
  }

  function settingsPage(page: PageContext, group: GroupRow): Html {
    const { t } = page;
    const base = `/groups/${group.slug}`;
    return html`<p><a href="${base}">← ${group.name}</a></p><h1>${t("group.settings_title", { name: group.name })}</h1>
${manageNav(page, group)}
<form method="post" action="${base}/settings">${csrfField(page)}
  <label for="name">${t("group.field.name")}</label>
  <input type="text" id="name" name="name" required maxlength="100" value="${group.name}">
  ${settingsFields(page, group)}
  <p><button type="submit">${t("group.save")}</button></p>
</form>
<h2>${t("group.avatar")}</h2>
<form method="post" action="${base}/avatar" enctype="multipart/form-data">${csrfField(page)}
  <label for="avatar">${t("group.avatar_file")}</label>
  <input type="file" id="avatar" name="avatar" required accept="image/jpeg,image/png,image/gif,image/webp,image/avif">
  <p><button type="submit" class="secondary">${t("group.avatar_save")}</button></p>
</form>`;
  }

  function threadPage(request: FastifyRequest, reply: FastifyReply, { group, actor }: { group: GroupRow; actor: ActorRow }, id: string) {
    const { page } = request;
    const { t, user } = page;
    const base = groupPath(group);
    const moderator = canModerate(db, group, user);
    const member = user ? !!findFollow(db, user.actorId, actor.id)?.acceptedAt : false;
    const readable = mayReadThreads(group, member, moderator);
    const thread = readable && /^\d+$/.test(id) ? groupThread(db, viewerOf(user), group, Number(id), { withHidden: moderator }) : null;
    if (!thread) throw new UserError("post_not_found", 404);
    const { actors: authors } = authorsOf(db, [thread.root, ...thread.replies]);
    const back = `${base}/threads/${thread.root.id}`;
    const hidden = moderator ? hiddenIn(db, group, [thread.root.id, ...thread.replies.map((p) => p.id)]) : new Set<number>();
    const tools = (p: PostRow) => html`${flagForm(page, p, `${back}#post-${p.id}`)}${moderator ? moderatorForm(page, group, p, hidden.has(p.id), `${back}#post-${p.id}`) : ""}`;
    const notice = noticeOf(page, (request.query as { notice?: string }).notice);
    const title = thread.title ?? group.name;
    return sendPage(reply, layout(page, title, html`<p><a href="${base}">${group.name}</a>${group.local ? "" : html` <span class="meta">${t("group.remote", { host: actor.domain })}</span>`}</p>
<h1>${title}</h1>
${renderPostBody(page, thread.root, authors.get(thread.root.actorId), tools(thread.root))}
<section aria-label="${t("group.replies", { n: thread.replies.length })}">
${thread.replies.map((p) => renderPostBody(page, p, authors.get(p.actorId), tools(p)))}
</section>
${member ? html`<form method="post" action="${base}/threads" class="compose" id="reply">
  ${csrfField(page)}
  <input type="hidden" name="in_reply_to_id" value="${thread.replies.at(-1)?.id ?? thread.root.id}">
  <label for="text">${t("group.reply")}</label>
  <textarea id="text" name="text" required maxlength="5000"></textarea>
  <p><button type="submit">${t("group.reply_submit")}</button></p>
</form>` : ""}`, { notice }));
  }

  // A group's management pages, for its moderators: its people, and its settings.
  const managePages = [
    ["/groups/:slug/manage", "group.manage_title", moderation],
    ["/groups/:slug/manage/settings", "group.settings_title", settingsPage],
  ] as const;
  for (const [path, title, render] of managePages) {
    web.get(path, (request: WithSlug, reply) => {
      const { page } = request;
      const { group } = localGroup(request.params.slug);
      if (!canModerate(db, group, requireUser(request))) throw new UserError("group_forbidden", 403);
      const notice = (request.query as { notice?: string }).notice === "saved" ? page.t("group.saved") : undefined;
      return sendPage(reply, layout(page, page.t(title, { name: group.name }), render(page, group), { notice }));
    });
  }

  web.post("/groups/:slug/requests/:actorId", async (request: FastifyRequest<{ Params: { slug: string; actorId: string } }>, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    await answerJoinRequest(services, user, group, Number(request.params.actorId) || 0, (request.body as Form).decision === "accept");
    return reply.redirect(`/groups/${group.slug}/manage#requests`, 303);
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
    return reply.redirect(`/groups/${group.slug}/manage#members`, 303);
  });

  web.post("/groups/:slug/bans", async (request: WithSlug, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    const target = ((request.body as Form).target ?? "").trim();
    // "@name@host" or an address names an account; a bare host names a whole instance.
    if (target.startsWith("@") || target.startsWith("http") || target.split("@").length === 2) {
      const actor = await lookupActorOrExplain(services, target);
      await banFromGroup(services, user, group, { actor });
    } else await banFromGroup(services, user, group, { domain: target });
    return reply.redirect(`/groups/${group.slug}/manage#members`, 303);
  });

  web.post("/groups/:slug/bans/:id/delete", (request: FastifyRequest<{ Params: { slug: string; id: string } }>, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    unban(services, user, group, Number(request.params.id) || 0);
    return reply.redirect(`/groups/${group.slug}/manage#members`, 303);
  });

  web.post("/groups/:slug/settings", async (request: WithSlug, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    const form = request.body as Form;
    await updateGroupSettings(services, user, group, { name: form.name ?? "", description: form.description, rules: form.rules, themes: form.themes, policy: form.policy, visibility: form.visibility });
    return reply.redirect(`/groups/${group.slug}/manage/settings?notice=saved`, 303);
  });

  // The group's image: a multipart body, read for this route only.
  void web.register(async (withFile) => {
    await withFile.register(multipart, { attachFieldsToBody: "keyValues", onFile: keepImage, limits: { fileSize: MEDIA_MAX_BYTES, files: 1, fields: 10 } });
    withFile.post("/groups/:slug/avatar", async (request: WithSlug, reply) => {
      const user = requireUser(request);
      const { group } = localGroup(request.params.slug);
      const file = (request.body as Record<string, unknown>).avatar;
      if (!file || typeof file !== "object") throw new UserError("media_missing", 422);
      await setGroupAvatar(services, user, group, file as Upload);
      return reply.redirect(`/groups/${group.slug}/manage/settings?notice=saved`, 303);
    });
  });

  // ---- Reports and moderation -----------------------------------------------------

  web.post("/moderation/flag/:id", async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const user = requireUser(request);
    const form = request.body as Form;
    await flagPost(services, user, Number(request.params.id) || 0, form.comment);
    return reply.redirect(withNotice(safeRedirect(form.back, "/"), "flagged"), 303);
  });

  web.post("/groups/:slug/posts/:id/moderate", async (request: FastifyRequest<{ Params: { slug: string; id: string } }>, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    const form = request.body as Form;
    const postId = Number(request.params.id) || 0;
    if (form.action === "hide") hidePost(services, user, group, postId, form.reason);
    else if (form.action === "unhide") unhidePost(services, user, group, postId, form.reason);
    else if (form.action === "remove") await removeFromGroup(services, user, group, postId, form.reason);
    else throw new UserError("flag_invalid", 422);
    return reply.redirect(withNotice(safeRedirect(form.back, `/groups/${group.slug}/moderation`), "done"), 303);
  });

  web.post("/moderation/flags/:id", (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const user = requireUser(request);
    const form = request.body as Form;
    closeFlag(services, user, Number(request.params.id) || 0, form.state === "dismissed" ? "dismissed" : "resolved", form.reason);
    return reply.redirect(withNotice(safeRedirect(form.back, "/moderation"), "done"), 303);
  });

  web.post("/moderation/posts/:id/delete", async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const user = requireUser(request);
    const form = request.body as Form;
    await deletePost(services, user, Number(request.params.id) || 0, form.reason);
    return reply.redirect(withNotice("/moderation", "done"), 303);
  });

  web.get("/groups/:slug/moderation", (request: WithSlug, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    return queuePage(request, reply, user, group);
  });

  web.get("/moderation", (request, reply) => queuePage(request, reply, requireUser(request), null));

  web.get("/groups/:slug/moderation/log", (request: WithSlug, reply) => {
    const user = requireUser(request);
    const { group } = localGroup(request.params.slug);
    return logPage(request, reply, user, group);
  });

  web.get("/moderation/log", (request, reply) => logPage(request, reply, requireUser(request), null));

  /** A moderators' queue: a group's reports, or the instance's (group null). */
  function queuePage(request: FastifyRequest, reply: FastifyReply, user: User, group: GroupRow | null) {
    const { page } = request;
    const { t } = page;
    const query = request.query as { state?: string; notice?: string };
    const all = query.state === "all";
    const flags = flagQueue(db, user, group, all ? "all" : "open");
    const base = group ? `/groups/${group.slug}/moderation` : "/moderation";
    const title = group ? `${t("mod.queue")} — ${group.name}` : t("mod.queue_instance");
    const item = (v: FlagView) => {
      const shown = reporterShown(user, v.reporter);
      const who = shown.handle ?? (shown.domain ? t("mod.reported_from", { domain: shown.domain }) : "?");
      return html`<li class="flag-item" id="flag-${v.flag.id}">
  <p class="meta">${dateText(page, v.flag.createdAt)} · ${t("mod.reported_by", { who })} · <span class="badge">${t(`mod.state.${v.flag.state}`)}</span>${v.hidden ? html` <span class="badge">${t("mod.hidden")}</span>` : ""}</p>
  ${v.flag.comment ? html`<blockquote>${v.flag.comment}</blockquote>` : ""}
  ${v.post ? renderPostBody(page, v.post, v.author ?? undefined) : html`<p>${t("mod.post_gone")} <code>${v.flag.targetUri}</code></p>`}
  ${v.post && group ? moderatorForm(page, group, v.post, v.hidden, base) : ""}
  ${v.post && !group ? html`<form method="post" action="/moderation/posts/${v.post.id}/delete" class="inline">${csrfField(page)}
    <label for="del-${v.flag.id}">${t("mod.reason")}</label> <input type="text" id="del-${v.flag.id}" name="reason" maxlength="1000">
    <button type="submit">${t("mod.delete")}</button></form>` : ""}
  ${v.flag.state === "open" ? html`<form method="post" action="/moderation/flags/${v.flag.id}" class="inline">${csrfField(page)}
    <input type="hidden" name="back" value="${base}">
    <label for="close-${v.flag.id}">${t("mod.reason")}</label> <input type="text" id="close-${v.flag.id}" name="reason" maxlength="1000">
    <button name="state" value="resolved">${t("mod.resolve")}</button> <button name="state" value="dismissed">${t("mod.dismiss")}</button></form>` : ""}
</li>`;
    };
    return sendPage(reply, layout(page, title, html`${group ? html`<p><a href="/groups/${group.slug}">${group.name}</a></p>` : ""}
<h1>${title}</h1>
<p><a href="${base}${all ? "" : "?state=all"}">${all ? t("mod.show_open") : t("mod.show_all")}</a> · <a href="${base}/log">${t("mod.log")}</a></p>
${flags.length === 0 ? html`<p>${t("mod.no_flags")}</p>` : html`<ul class="flags">${flags.map(item)}</ul>`}`, { notice: noticeOf(page, query.notice) }));
  }

  /** The "Journal de modération": who did what, on what, and why. */
  function logPage(request: FastifyRequest, reply: FastifyReply, user: User, group: GroupRow | null) {
    const { page } = request;
    const { t } = page;
    const entries = moderationJournal(db, user, group);
    const title = group ? `${t("mod.log")} — ${group.name}` : t("mod.log_instance");
    return sendPage(reply, layout(page, title, html`<p><a href="${group ? `/groups/${group.slug}/moderation` : "/moderation"}">${t("mod.queue")}</a></p>
<h1>${title}</h1>
${entries.length === 0 ? html`<p>${t("mod.no_log")}</p>` : html`<table class="log"><thead><tr><th>${t("mod.log.when")}</th><th>${t("mod.log.who")}</th><th>${t("mod.log.action")}</th><th>${t("mod.log.target")}</th><th>${t("mod.log.reason")}</th></tr></thead>
<tbody>${entries.map((e) => html`<tr><td>${dateText(page, e.entry.createdAt)}</td><td>${e.moderator ? `${e.moderator.name} (@${e.moderator.username})` : "?"}</td><td>${t(`mod.action.${e.entry.action}`)}</td><td><code>${e.entry.targetUri}</code></td><td>${e.entry.reason}</td></tr>`)}</tbody></table>`}`));
  }
}
