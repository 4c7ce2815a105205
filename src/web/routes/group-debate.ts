// Debate pages of thematic groups (local or remote, as known here): the
// proposals of a group, one proposal with its tally, stances, amendments and
// moderators' decision, the contributors' figures, and the "Contributions"
// section of member profiles. Rules live in src/groups/proposals.ts and
// src/groups/contributions.ts.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { and, eq } from "drizzle-orm";
import { UserError } from "../../errors.ts";
import { actorOf } from "../../members/members.ts";
import type { Services } from "../../services.ts";
import type { Db } from "../../storage/db.ts";
import { actors, groups } from "../../storage/schema.ts";
import { viewerOf, type PostRow } from "../../posts/posts.ts";
import { canModerate, groupActor, groupsOfMember, type GroupRow } from "../../groups/groups.ts";
import { actOnProposal, createProposal, decideProposal, decisionOf, mayAct, proposalActOf, proposalsOf, proposalView, readableProposal, stanceOf, type ProposalView } from "../../groups/proposals.ts";
import { groupContributors, mayReadContributors, memberContributions, windowOf, WINDOWS, type Figures } from "../../groups/contributions.ts";
import type { ActorRow } from "../../federation/actors.ts";
import { html, raw, type Html } from "../html.ts";
import { plainText, profileUrl } from "../format.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { requireUser, sendPage } from "../respond.ts";
import { groupPath } from "./groups.ts";

type Form = Record<string, string | undefined>;
type WithGroup = FastifyRequest<{ Params: { groupId: string } }>;
type WithPost = FastifyRequest<{ Params: { postId: string } }>;

function activeGroup(db: Db, id: string): { group: GroupRow; actor: ActorRow } {
  const group = db.select().from(groups).where(and(eq(groups.id, Number(id) || 0), eq(groups.state, "active"))).get();
  const actor = group ? groupActor(db, group) : undefined;
  if (!group || !actor) throw new UserError("group_not_found", 404);
  return { group, actor };
}

function tabs(page: PageContext, group: GroupRow): Html {
  const { t } = page;
  return html`<p class="tabs"><a href="${groupPath(group)}">${t("debate.back")}</a> · <a href="/debate/${group.id}">${t("debate.proposals")}</a> · <a href="/debate/${group.id}/contributors">${t("debate.contributors")}</a></p>`;
}

const plain = (post: PostRow) => plainText(post.content);
const titleOf = (v: { title: string | null; post: PostRow }) => v.title ?? (plain(v.post).slice(0, 80) || "…");

function tally(page: PageContext, v: ProposalView): Html {
  return html`<span class="badge">${page.t(`debate.state.${v.proposal.state}`)}</span> ${page.t("debate.tally", { support: v.support, oppose: v.oppose })}`;
}

function proposalList(page: PageContext, list: ProposalView[], empty: string): Html {
  if (list.length === 0) return html`<p>${empty}</p>`;
  return html`<ul class="proposals">${list.map((v) => html`<li><a href="/proposals/${v.post.id}"><strong>${titleOf(v)}</strong></a> — ${tally(page, v)}</li>`)}</ul>`;
}

function figureCells(f: Figures): Html {
  return html`<td>${f.threads}</td><td>${f.answeredReplies}</td><td>${f.endorsement}</td><td>${f.adopted}</td><td>${f.events}</td><td><strong>${f.score}</strong></td>`;
}

function figureHeads(page: PageContext): Html {
  const { t } = page;
  return html`<th>${t("debate.col.threads")}</th><th>${t("debate.col.replies")}</th><th>${t("debate.col.endorsement")}</th><th>${t("debate.col.adopted")}</th><th>${t("debate.col.events")}</th><th>${t("debate.col.score")}</th>`;
}

/** The "Contributions" section of a member's public profile (public groups only). */
export function contributionsSection(page: PageContext, db: Db, actorId: number): Html | string {
  const { t } = page;
  const windows = WINDOWS.map((days) => ({ days, c: memberContributions(db, actorId, days, { publicOnly: true }) }));
  if (windows.every((w) => w.c.groups.length === 0 && w.c.events === 0)) return "";
  return html`<section class="contributions"><h2>${t("debate.profile")}</h2>
${windows.map(({ days, c }) => html`<h3>${t("debate.days", { n: days })}</h3>
<p>${t("debate.profile_score", { score: c.score })} · ${t("debate.profile_events", { n: c.events })}</p>
${c.groups.length ? html`<table><thead><tr><th>${t("debate.col.group")}</th>${figureHeads(page)}</tr></thead><tbody>
${c.groups.map((g) => html`<tr><td><a href="/debate/${g.group.id}/contributors">${g.group.name}</a></td>${figureCells(g.figures)}</tr>`)}</tbody></table>` : ""}`)}
<details><summary>${t("debate.formula")}</summary><p>${t("debate.formula_text")}</p></details></section>`;
}

export function registerDebateRoutes(web: FastifyInstance, services: Services): void {
  const { db } = services;

  const me = (page: PageContext) => (page.user ? actorOf(db, page.user) : null);

  // The proposals of every group the member belongs to, here or on other instances
  // (a remote group's discussion page here is /groups/remote/<id>).
  web.get("/debate", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const { t } = page;
    const mine = groupsOfMember(db, user.actorId).filter((m) => !m.pending && m.group.state === "active");
    return sendPage(reply, layout(page, t("debate.proposals"), html`<h1>${t("debate.proposals")}</h1>
${mine.length === 0 ? html`<p>${t("debate.no_groups")}</p>` : html`<ul class="groups">${mine.map((m) => html`<li><a href="/debate/${m.group.id}"><strong>${m.group.name}</strong></a> <span class="meta">@${m.actor.username}@${m.actor.domain}</span></li>`)}</ul>`}`));
  });

  web.get("/debate/:groupId", (request: WithGroup, reply) => {
    const { page } = request;
    const { t } = page;
    const { group } = activeGroup(db, request.params.groupId);
    const viewer = me(page);
    const member = !!viewer && mayAct(db, group, viewer);
    const list = proposalsOf(db, viewerOf(page.user), group);
    return sendPage(reply, layout(page, `${t("debate.proposals")} — ${group.name}`, html`<h1>${t("debate.proposals")} — ${group.name}</h1>
${tabs(page, group)}
${member ? html`<form method="post" action="/debate/${group.id}/proposals" class="compose">${csrfField(page)}
  <h2>${t("debate.new")}</h2>
  <label for="title">${t("debate.title")}</label>
  <input type="text" id="title" name="title" required maxlength="200">
  <label for="text">${t("debate.text")}</label>
  <textarea id="text" name="text" required maxlength="5000"></textarea>
  <p><button type="submit">${t("debate.submit")}</button></p>
</form>` : ""}
${proposalList(page, list, t("debate.none"))}`));
  });

  web.post("/debate/:groupId/proposals", async (request: WithGroup, reply) => {
    const user = requireUser(request);
    const { group } = activeGroup(db, request.params.groupId);
    const form = request.body as Form;
    const amendsId = form.amends_id ? Number(form.amends_id) : null;
    const post = await createProposal(services, user, group, { title: form.title, text: form.text ?? "", amendsId });
    return reply.redirect(`/proposals/${post.id}`, 303);
  });

  web.get("/proposals/:postId", (request: WithPost, reply) => {
    const { page } = request;
    const { t, user } = page;
    const view = proposalView(db, viewerOf(user), Number(request.params.postId) || 0);
    if (!view) throw new UserError("post_not_found", 404);
    const { group, proposal, post } = view;
    const actor = groupActor(db, group)!;
    const viewer = me(page);
    const open = proposal.state === "open";
    const member = !!viewer && mayAct(db, group, viewer);
    const mine = viewer ? stanceOf(db, proposal, viewer.id) : null;
    const author = db.select().from(actors).where(eq(actors.id, post.actorId)).get();
    const amendments = proposalsOf(db, viewerOf(user), group, { amendsId: proposal.id });
    const heading = view.title ?? t("debate.amendment");
    return sendPage(reply, layout(page, heading, html`<h1>${heading}</h1>
${tabs(page, group)}
<p class="meta">${t("debate.by", { name: author?.name || author?.username || "?" })} · ${tally(page, view)}${group.local ? "" : html` <span class="meta">(${t("debate.tally_remote", { host: actor.domain })})</span>`}</p>
${view.amends ? html`<p>${t("debate.amends")} <a href="/proposals/${view.amends.post.id}">${titleOf(view.amends)}</a></p>` : ""}
<article class="post proposal">${raw(post.content)}</article>
${mine ? html`<p>${t("debate.your_stance", { stance: t(`debate.stance.${mine}`) })}</p>` : ""}
${open && member ? html`<form method="post" action="/proposals/${post.id}/act" class="inline">${csrfField(page)}
  <button name="act" value="support">${t("debate.support")}</button> <button name="act" value="oppose">${t("debate.oppose")}</button>
</form>` : ""}
${open && viewer?.id === post.actorId ? html`<form method="post" action="/proposals/${post.id}/act" class="inline">${csrfField(page)}<button name="act" value="withdraw">${t("debate.withdraw")}</button></form>` : ""}
${open && canModerate(db, group, user) ? html`<form method="post" action="/proposals/${post.id}/decide" class="inline moderate">${csrfField(page)}
  <button name="state" value="adopted">${t("debate.adopt")}</button> <button name="state" value="rejected">${t("debate.reject")}</button>
</form>` : ""}
<h2>${t("debate.amendments")}</h2>
${proposalList(page, amendments, t("debate.no_amendments"))}
${open && member ? html`<form method="post" action="/debate/${group.id}/proposals" class="compose">${csrfField(page)}
  <input type="hidden" name="amends_id" value="${proposal.id}">
  <label for="amend-text">${t("debate.amend_text")}</label>
  <textarea id="amend-text" name="text" required maxlength="5000"></textarea>
  <p><button type="submit">${t("debate.amend")}</button></p>
</form>` : ""}`));
  });

  // Only proposals the member may read.
  const proposalFor = (request: WithPost) => readableProposal(db, viewerOf(request.page.user), Number(request.params.postId) || 0);

  web.post("/proposals/:postId/act", async (request: WithPost, reply) => {
    const user = requireUser(request);
    const proposal = proposalFor(request);
    await actOnProposal(services, user, proposal, proposalActOf((request.body as Form).act));
    return reply.redirect(`/proposals/${proposal.postId}`, 303);
  });

  web.post("/proposals/:postId/decide", async (request: WithPost, reply) => {
    const user = requireUser(request);
    const proposal = proposalFor(request);
    await decideProposal(services, user, proposal, decisionOf((request.body as Form).state));
    return reply.redirect(`/proposals/${proposal.postId}`, 303);
  });

  web.get("/debate/:groupId/contributors", (request: WithGroup, reply) => {
    const { page } = request;
    const { t } = page;
    const { group } = activeGroup(db, request.params.groupId);
    // Who speaks in a members-only group is for its members to see.
    if (!mayReadContributors(db, group, page.user)) throw new UserError("error.forbidden", 403);
    const days = windowOf((request.query as { days?: string }).days) ?? WINDOWS[0];
    const list = groupContributors(db, group, days);
    return sendPage(reply, layout(page, `${t("debate.contributors")} — ${group.name}`, html`<h1>${t("debate.contributors")} — ${group.name}</h1>
${tabs(page, group)}
<p>${t("debate.contributors_intro")}</p>
<p>${WINDOWS.map((w) => (w === days ? html`<strong>${t("debate.days", { n: w })}</strong> ` : html`<a href="?days=${w}">${t("debate.days", { n: w })}</a> `))}</p>
${list.length === 0 ? html`<p>${t("debate.no_contributors")}</p>` : html`<table class="contributors"><thead><tr><th>${t("debate.col.member")}</th>${figureHeads(page)}</tr></thead><tbody>
${list.map((c) => html`<tr><td><a href="${profileUrl(c.actor)}">${c.actor.name || c.actor.username}</a> <span class="meta">@${c.actor.username}@${c.actor.domain}</span></td>${figureCells(c.figures)}</tr>`)}
</tbody></table>`}
<details><summary>${t("debate.formula")}</summary><p>${t("debate.formula_text")}</p></details>`));
  });
}
