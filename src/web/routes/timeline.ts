// Timelines, posting, profiles and single posts.
import { silencedDomains } from "../../party/modes.ts";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { and, eq } from "drizzle-orm";
import { UserError } from "../../errors.ts";
import { actorOf, isCardHolder } from "../../members/members.ts";
import type { Services } from "../../services.ts";
import { actors, VISIBILITIES, type Visibility } from "../../storage/schema.ts";
import { availableAudiences, isPartyAudience } from "../../party/audiences.ts";
import {
  actorPosts,
  authorsOf,
  createLocalPost,
  deleteLocalPost,
  getVisiblePost,
  hasLiked,
  homeTimeline,
  onceEach,
  welcomeTimeline,
  likePost,
  localTimeline,
  reblogPost,
  repliesOf,
  sectionTimeline,
  unlikePost,
  unreblogPost,
  viewerOf,
  type PostRow,
} from "../../posts/posts.ts";
import { findFollow, follow, unfollow } from "../../social/follows.ts";
import { POLL_LIMITS, pollsOfPosts, vote, type NewPoll, type PollResults } from "../../polls/polls.ts";
import { lookupActorOrExplain } from "../../federation/remote.ts";
import { html, raw, type Html } from "../html.ts";
import { actorName, dateText, handleOf, postUrl, profileUrl } from "../format.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { requireUser, safeRedirect, sendPage } from "../respond.ts";
import { flagForm } from "./groups.ts";
import { welcomeBox } from "./welcome.ts";
import { isNewcomer } from "../../social/suggestions.ts";
import { contributionsSection } from "./group-debate.ts";

type Form = Record<string, string | undefined>;

function renderPosts(page: PageContext, rows: PostRow[]): Html {
  const { db } = page.services;
  if (rows.length === 0) return html`<p>${page.t("timeline.empty")}</p>`;
  const { actors: byId, originals } = authorsOf(db, rows);
  const shownIds = rows.map((row) => row.reblogOfId ?? row.id);
  const polls = pollsOfPosts(db, shownIds, page.user?.actorId ?? null);
  return html`${rows.map((row) => {
    const shown = row.reblogOfId ? originals.get(row.reblogOfId) : row;
    if (!shown) return "";
    const author = byId.get(shown.actorId);
    const booster = row.reblogOfId ? byId.get(row.actorId) : undefined;
    return renderPost(page, shown, author, booster, polls.get(shown.id));
  })}`;
}

/** A poll's results, and the vote form for a member who has not voted yet. */
function renderPoll(page: PageContext, poll: PollResults): Html {
  const { t, user } = page;
  const canVote = !!user && !poll.expired && poll.ownVotes?.length === 0;
  const own = new Set(poll.ownVotes ?? []);
  const share = (n: number) => (poll.votesCount ? Math.round((n / poll.votesCount) * 100) : 0);
  const status = poll.expired
    ? t("poll.ended")
    : poll.expiresAt != null ? t("poll.ends", { date: dateText(page, poll.expiresAt) }) : "";
  const footer = html`<p class="meta">${t("poll.voters", { n: poll.votersCount })} · ${status}${poll.multiple ? html` · ${t("poll.multiple_hint")}` : ""}</p>`;
  if (canVote) {
    const type = poll.multiple ? "checkbox" : "radio";
    return html`<form method="post" action="/polls/${poll.id}/vote" class="poll">
  ${csrfField(page)}
  <fieldset><legend>${t("poll.title")}</legend>
  ${poll.options.map((title, i) => html`<label><input type="${type}" name="choices" value="${i}" ${!poll.multiple ? raw("required") : ""}> ${title}${poll.totalsHidden ? "" : html` <span class="meta">(${poll.counts[i] ?? 0})</span>`}</label>`)}
  </fieldset>
  ${poll.totalsHidden ? html`<p class="help">${t("poll.totals_hidden")}</p>` : ""}
  ${footer}
  <p><button type="submit">${t("poll.vote")}</button></p>
</form>`;
  }
  return html`<div class="poll"><p><strong>${t("poll.title")}</strong></p>
  <ul>${poll.options.map((title, i) => html`<li>${title}${own.has(i) ? html` ✓ <span class="meta">${t("poll.your_choice")}</span>` : ""}${poll.totalsHidden ? "" : html` — ${poll.counts[i] ?? 0} (${share(poll.counts[i] ?? 0)} %)`}</li>`)}</ul>
  ${poll.totalsHidden ? html`<p class="help">${t("poll.totals_hidden")}</p>` : ""}
  ${footer}
</div>`;
}

function renderPost(page: PageContext, post: PostRow, author: typeof actors.$inferSelect | undefined, booster?: typeof actors.$inferSelect, poll?: PollResults): Html {
  const { t, user } = page;
  const profile = profileUrl(author);
  const permalink = postUrl(post, author);
  const liked = user ? hasLiked(page.services.db, user.actorId, post.id) : false;
  const mine = user && author && user.actorId === author.id;
  return html`<article class="post" id="post-${post.id}">
  ${booster ? html`<p class="meta">↻ ${booster.name || booster.username}</p>` : ""}
  <p class="meta"><a href="${profile}"><strong>${actorName(author)}</strong> ${author ? handleOf(author) : ""}</a>
   · <a href="${permalink}"><time datetime="${new Date(post.publishedAt).toISOString()}">${dateText(page, post.publishedAt)}</time></a>
   ${post.visibility !== "public" ? html` · <span class="badge">${t(`visibility.${post.visibility}`)}</span>` : ""}</p>
  ${post.summary ? html`<details><summary>${post.summary}</summary>${raw(post.content)}</details>` : raw(post.content)}
  ${poll ? renderPoll(page, poll) : ""}
  ${user
    ? html`<div class="post-actions">
    <form method="post" action="/posts/${post.id}/${liked ? "unlike" : "like"}">${csrfField(page)}<button type="submit">${liked ? t("post.unlike") : t("post.like")} (${post.favouritesCount})</button></form>
    ${post.visibility === "public" || post.visibility === "unlisted" ? html`<form method="post" action="/posts/${post.id}/boost">${csrfField(page)}<button type="submit">${t("post.boost")} (${post.reblogsCount})</button></form>` : ""}
    ${author?.local ? html`<a href="${permalink}#reply">${t("post.reply")} (${post.repliesCount})</a>` : ""}
    ${mine && !post.reblogOfId ? html`<a href="/posts/${post.id}/edit">${t("post.edit")}</a>` : ""}
    ${mine ? html`<form method="post" action="/posts/${post.id}/delete">${csrfField(page)}<button type="submit">${t("post.delete")}</button></form>` : ""}
  </div>`
    : ""}
</article>`;
}

function postForm(page: PageContext, options: { visibility?: Visibility; inReplyTo?: number; back?: string } = {}): Html {
  const { t, user } = page;
  if (!user) return html``;
  // Card-holders only, and the party audiences only where this instance can reach them.
  const audiences = isCardHolder(user.role) ? availableAudiences(page.services) : [];
  const choices = VISIBILITIES.filter((v) =>
    v === options.visibility || (v === "section" ? isCardHolder(user.role) : isPartyAudience(v) ? audiences.includes(v) : true),
  );
  const selected = options.visibility ?? "public";
  return html`<form method="post" action="/posts" class="compose" id="reply">
  ${csrfField(page)}
  ${options.inReplyTo ? html`<input type="hidden" name="in_reply_to_id" value="${options.inReplyTo}">` : ""}
  <input type="hidden" name="back" value="${options.back ?? "/"}">
  <label for="text">${t("post.label")}</label>
  <textarea id="text" name="text" required maxlength="5000" placeholder="${t("post.placeholder")}"></textarea>
  <details class="poll-compose"><summary>${t("post.summary_add")}</summary>
    <label for="summary">${t("post.summary")}</label>
    <input type="text" id="summary" name="summary" maxlength="200">
  </details>
  <label for="visibility">${t("post.visibility")}</label>
  <select id="visibility" name="visibility">
    ${choices.map((v) => html`<option value="${v}" ${v === selected ? raw("selected") : ""}>${t(`visibility.${v}`)}</option>`)}
  </select>
  ${isCardHolder(user.role) ? html`<label><input type="checkbox" name="sympathisants" value="1"> ${t("post.sympathisants")}</label>` : ""}
  <details class="poll-compose"><summary>${t("poll.add")}</summary>
    <p class="help">${t("poll.add_help")}</p>
    ${[1, 2, 3, 4].map((n) => html`<label for="poll-option-${n}">${t("poll.option", { n })}</label>
    <input type="text" id="poll-option-${n}" name="poll_options" maxlength="${POLL_LIMITS.maxCharactersPerOption}">`)}
    <label for="poll-expires-in">${t("poll.duration")}</label>
    <select id="poll-expires-in" name="poll_expires_in">
      ${POLL_DURATIONS.map((d) => html`<option value="${d}" ${d === 86_400 ? raw("selected") : ""}>${t(`poll.duration.${d}`)}</option>`)}
    </select>
    <label><input type="checkbox" name="poll_multiple" value="1"> ${t("poll.multiple")}</label>
    <label><input type="checkbox" name="poll_hide_totals" value="1"> ${t("poll.hide_totals")}</label>
  </details>
  <p><button type="submit">${t("post.submit")}</button></p>
</form>`;
}

/** Durations offered by the compose form, in seconds (each has a "poll.duration.<s>" message). */
const POLL_DURATIONS = [300, 1800, 3600, 21_600, 86_400, 259_200, 604_800];

/** Form fields that may come once (a string) or repeated (an array). */
function fieldList(value: unknown): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).map(String);
}

/** The compose form's optional poll: none unless an option is filled in. */
function pollOfForm(form: Record<string, unknown>): NewPoll | null {
  const options = fieldList(form.poll_options).filter((o) => o.trim() !== "");
  if (options.length === 0) return null;
  return { options, expiresIn: Number(form.poll_expires_in), multiple: form.poll_multiple === "1", hideTotals: form.poll_hide_totals === "1" };
}

function olderLink(page: PageContext, path: string, rows: PostRow[]): Html {
  const last = rows.at(-1);
  return rows.length >= 20 && last ? html`<p><a href="${path}?max_id=${last.id}">${page.t("timeline.older")}</a></p>` : html``;
}

function maxIdOf(request: FastifyRequest): number | undefined {
  const value = (request.query as { max_id?: string }).max_id;
  return value && /^\d+$/.test(value) ? Number(value) : undefined;
}

export function registerTimelineRoutes(web: FastifyInstance, services: Services): void {
  const { db, config } = services;

  web.get("/", (request, reply) => {
    const { page } = request;
    const notice = (request.query as { notice?: string }).notice;
    const noticeText = notice === "posted" ? page.t("post.created") : notice === "deleted" ? page.t("post.deleted") : notice === "followed" ? page.t("follow.requested") : undefined;
    if (page.user) {
      // Until they follow a few people, a new member's home shows the section's posts and a welcome.
      const newcomer = isNewcomer(db, page.user);
      const paging = { maxId: maxIdOf(request) };
      const rows = onceEach(newcomer ? welcomeTimeline(db, page.user, paging) : homeTimeline(db, page.user, paging));
      return sendPage(reply, layout(page, page.t("timeline.home"), html`<h1>${page.t("timeline.home")}</h1>
${newcomer && paging.maxId === undefined ? welcomeBox(page, page.user) : ""}
${postForm(page)}
<section aria-label="${page.t("timeline.home")}">${renderPosts(page, rows)}</section>${olderLink(page, "/", rows)}
<details class="more"><summary>${page.t("follow.remote")}</summary>
<form method="post" action="/follow" class="follow-remote">
  ${csrfField(page)}
  <label for="target">${page.t("follow.remote_label")}</label>
  <input type="text" id="target" name="target" required placeholder="@nom@instance.exemple" aria-describedby="target-help">
  <p class="help" id="target-help">${page.t("follow.remote_help")}</p>
  <p><button type="submit" class="secondary">${page.t("profile.follow")}</button></p>
</form>
</details>`, { notice: noticeText }));
    }
    // Anonymous visitors see the section's public face: public posts of its members.
    const rows = localTimeline(db, viewerOf(null), { maxId: maxIdOf(request) }, { local: true });
    return sendPage(reply, layout(page, config.name, html`<h1>${config.name}</h1>
<p>${page.t("section.members_private")}</p>
<h2>${page.t("section.public")}</h2>
${renderPosts(page, rows)}${olderLink(page, "/", rows)}`));
  });

  web.get("/section", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const rows = sectionTimeline(db, viewerOf(user), { maxId: maxIdOf(request) });
    return sendPage(reply, layout(page, page.t("timeline.section"), html`<h1>${page.t("timeline.section")}</h1>
${isCardHolder(user.role) ? postForm(page, { visibility: "section", back: "/section" }) : ""}
${renderPosts(page, rows)}${olderLink(page, "/section", rows)}`));
  });

  web.get("/tags/:tag", (request: FastifyRequest<{ Params: { tag: string } }>, reply) => {
    const { page } = request;
    const rows = localTimeline(db, viewerOf(page.user), { maxId: maxIdOf(request) }, { tag: request.params.tag, silenced: silencedDomains(services) });
    return sendPage(reply, layout(page, `#${request.params.tag}`, html`<h1>#${request.params.tag}</h1>${renderPosts(page, rows)}`));
  });

  web.post("/posts", async (request, reply) => {
    const user = requireUser(request);
    const form = request.body as Form;
    const visibility = (VISIBILITIES as readonly string[]).includes(form.visibility ?? "") ? (form.visibility as Visibility) : "public";
    await createLocalPost(services, user, {
      text: form.text ?? "",
      visibility,
      sympathisants: form.sympathisants === "1",
      summary: form.summary,
      inReplyToId: form.in_reply_to_id && /^\d+$/.test(form.in_reply_to_id) ? Number(form.in_reply_to_id) : null,
      poll: pollOfForm(request.body as Record<string, unknown>),
    });
    const back = safeRedirect(form.back);
    return reply.redirect(back === "/" ? "/?notice=posted" : back, 303);
  });

  const postAction = (path: string, action: (user: ReturnType<typeof requireUser>, id: number, form: Record<string, unknown>) => Promise<unknown>, after = (_id: number) => "") =>
    web.post(path, async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
      const user = requireUser(request);
      if (!/^\d+$/.test(request.params.id)) throw new UserError("post_not_found", 404);
      const id = Number(request.params.id);
      await action(user, id, (request.body ?? {}) as Record<string, unknown>);
      return reply.redirect(after(id) || safeRedirect(request.headers.referer, "/", config.origin), 303);
    });
  postAction("/posts/:id/like", (user, id) => likePost(services, user, id));
  postAction("/posts/:id/unlike", (user, id) => unlikePost(services, user, id));
  postAction("/posts/:id/boost", (user, id) => reblogPost(services, user, id));
  postAction("/posts/:id/unboost", (user, id) => unreblogPost(services, user, id));
  // Choices are option indices; anything else is refused by vote().
  postAction("/polls/:id/vote", (user, id, form) => vote(services, user, id, fieldList(form.choices).map((c) => (/^\d+$/.test(c) ? Number(c) : -1))));
  postAction("/posts/:id/delete", (user, id) => deleteLocalPost(services, user, id), () => "/?notice=deleted");

  const localActor = (username: string) => {
    const actor = db.select().from(actors).where(and(eq(actors.username, username.toLowerCase()), eq(actors.local, true))).get();
    if (!actor || actor.type === "Application") throw new UserError("actor_not_found", 404);
    return actor;
  };

  web.get("/users/:username", (request: FastifyRequest<{ Params: { username: string } }>, reply) =>
    reply.redirect(`/@${encodeURIComponent(request.params.username)}`),
  );

  web.get("/@:username", (request: FastifyRequest<{ Params: { username: string } }>, reply) => {
    const { page } = request;
    const actor = localActor(request.params.username);
    const rows = actorPosts(db, viewerOf(page.user), actor.id, { maxId: maxIdOf(request) });
    const me = page.user ? actorOf(db, page.user) : null;
    const relation = me && me.id !== actor.id ? findFollow(db, me.id, actor.id) : undefined;
    const followForm = me && me.id !== actor.id
      ? html`<form method="post" action="/@${actor.username}/${relation ? "unfollow" : "follow"}">${csrfField(page)}<button type="submit">${relation ? (relation.acceptedAt ? page.t("profile.unfollow") : page.t("profile.pending")) : page.t("profile.follow")}</button></form>`
      : "";
    return sendPage(reply, layout(page, actor.name || actor.username, html`<h1>${actor.name || actor.username}</h1>
<p class="meta">@${actor.username}@${actor.domain}</p>
${raw(actor.summary)}
${followForm}
${contributionsSection(page, db, actor.id)}
<h2>${page.t("profile.posts")}</h2>
${renderPosts(page, rows)}${olderLink(page, `/@${actor.username}`, rows)}`));
  });

  web.post("/@:username/follow", async (request: FastifyRequest<{ Params: { username: string } }>, reply) => {
    const user = requireUser(request);
    await follow(services, user, localActor(request.params.username));
    // From the home page's suggestions, back to the home page.
    return reply.redirect(safeRedirect((request.body as Form | undefined)?.back, `/@${request.params.username}`), 303);
  });

  // Follows (or stops following) an account of another instance, given its
  // handle (@name@host) or the address of its profile.
  const resolveTarget = (request: FastifyRequest) => lookupActorOrExplain(services, (request.body as Form).target ?? "");

  web.post("/follow", async (request, reply) => {
    const user = requireUser(request);
    await follow(services, user, await resolveTarget(request));
    return reply.redirect("/?notice=followed", 303);
  });

  web.post("/unfollow", async (request, reply) => {
    const user = requireUser(request);
    await unfollow(services, user, await resolveTarget(request));
    return reply.redirect("/", 303);
  });

  web.post("/@:username/unfollow", async (request: FastifyRequest<{ Params: { username: string } }>, reply) => {
    const user = requireUser(request);
    await unfollow(services, user, localActor(request.params.username));
    return reply.redirect(`/@${request.params.username}`, 303);
  });

  web.get("/@:username/:id", (request: FastifyRequest<{ Params: { username: string; id: string } }>, reply) => {
    const { page } = request;
    const actor = localActor(request.params.username);
    if (!/^\d+$/.test(request.params.id)) throw new UserError("post_not_found", 404);
    const viewer = viewerOf(page.user);
    const post = getVisiblePost(db, viewer, Number(request.params.id));
    if (post.actorId !== actor.id) throw new UserError("post_not_found", 404);
    const replies = repliesOf(db, viewer, post.id);
    return sendPage(reply, layout(page, actor.name || actor.username, html`${renderPosts(page, [post])}
${flagForm(page, post, `/@${actor.username}/${post.id}`)}
<h2>${page.t("post.replies")}</h2>
${renderPosts(page, replies)}
${postForm(page, { inReplyTo: post.id, visibility: post.visibility, back: `/@${actor.username}/${post.id}` })}`));
  });
}
