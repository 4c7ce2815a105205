// /api/coopol/v1 routes for thematic groups: the directory, a group, proposing
// one (and its review), joining and leaving (by id or by handle), threads and
// replies, the moderators' settings (policy, members, moderators, requests,
// bans), moderation (reports, the queue, hiding and removing posts, the log),
// proposals and amendments (stances, withdrawal, decisions) and contributors.
// Thin: rights and rules are src/groups/'s; openapi-groups.ts describes every route.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { eq, inArray } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Services } from "../services.ts";
import type { User } from "../members/members.ts";
import { actors, FLAG_STATES, polls, type FlagState } from "../storage/schema.ts";
import { canManageMembers } from "../members/members.ts";
import { optionalUser, requireUser } from "../mastodon/auth.ts";
import { idParam, int, paramsOf, pollParam, str, type Params } from "../mastodon/params.ts";
import { findPost, viewerOf, type PostRow } from "../posts/posts.ts";
import { findActor, findFollow, follow, unfollow } from "../social/follows.ts";
import { lookupActor, lookupActorOrExplain } from "../federation/remote.ts";
import type { ActorRow } from "../federation/actors.ts";
import {
  answerJoinRequest,
  banFromGroup,
  bansOf,
  canModerate,
  groupActor,
  groupById,
  groupDirectory,
  groupOfActor,
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
  type MemberRow,
} from "../groups/groups.ts";
import {
  actOnProposal,
  createProposal,
  decideProposal,
  decisionOf,
  mayAct,
  proposalActOf,
  proposalById,
  proposalsOf,
  proposalView,
  readableProposal,
  stanceOf,
  type ProposalView,
} from "../groups/proposals.ts";
import { groupContributors, mayReadContributors, memberContributions, windowOf, type Figures } from "../groups/contributions.ts";
import { groupThread, groupThreads, postInGroup, THREADS_PAGE, type Thread } from "../groups/discussion.ts";
import {
  canModerateInstance,
  closeFlag,
  deletePost,
  flagById,
  flagPost,
  flagQueue,
  hiddenIn,
  hidePost,
  moderationJournal,
  removeFromGroup,
  reporterShown,
  unhidePost,
  type FlagView,
  type JournalEntry,
} from "../groups/moderation.ts";
import { firstSafeUrl } from "../safe-url.ts";

type WithId = FastifyRequest<{ Params: { id: string } }>;
type WithPost = FastifyRequest<{ Params: { id: string; post_id: string } }>;

const iso = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());
const handleOf = (a: ActorRow) => `@${a.username}@${a.domain}`;

function renderAuthor(actor: ActorRow | undefined) {
  return actor ? { id: String(actor.id), uri: actor.uri, handle: handleOf(actor), name: actor.name || actor.username } : null;
}

export function renderGroup(services: Services, viewer: User | null, group: GroupRow, actor: ActorRow) {
  const relation = viewer ? findFollow(services.db, viewer.actorId, actor.id) : undefined;
  return {
    id: String(group.id),
    uri: actor.uri,
    url: firstSafeUrl(actor.url, actor.uri) ?? services.config.origin,
    handle: handleOf(actor),
    local: group.local,
    name: group.name,
    description: group.description,
    rules: group.rules,
    themes: themesOf(group),
    policy: group.policy,
    visibility: group.visibility,
    members_count: actor.followersCount,
    last_activity_at: iso(group.lastActivityAt),
    membership: relation ? (relation.acceptedAt ? "member" : "pending") : "none",
    can_moderate: canModerate(services.db, group, viewer),
  };
}

function renderPosts(services: Services, rows: PostRow[], titles: Map<number, string | null>, hidden: Set<number>) {
  const ids = [...new Set(rows.map((p) => p.actorId))];
  const byId = new Map(ids.length ? services.db.select().from(actors).where(inArray(actors.id, ids)).all().map((a) => [a.id, a]) : []);
  // A post's poll is voted on with the Mastodon API (POST /api/v1/polls/:id/votes).
  const pollIds = new Map(rows.length ? services.db.select({ id: polls.id, postId: polls.postId }).from(polls).where(inArray(polls.postId, rows.map((p) => p.id))).all().map((r) => [r.postId, r.id]) : []);
  return rows.map((p) => ({
    id: String(p.id),
    uri: p.uri,
    url: firstSafeUrl(p.url, p.uri) ?? services.config.origin,
    author: renderAuthor(byId.get(p.actorId)),
    title: titles.get(p.id) ?? null,
    content: p.content,
    summary: p.summary || null,
    in_reply_to_id: p.inReplyToId == null ? null : String(p.inReplyToId),
    published_at: iso(p.publishedAt)!,
    hidden: hidden.has(p.id),
    poll_id: pollIds.has(p.id) ? String(pollIds.get(p.id)) : null,
  }));
}

function renderThread(services: Services, t: Thread) {
  return { title: t.title, replies_count: t.replies, last_activity_at: iso(t.lastAt)!, root: renderPosts(services, [t.root], new Map([[t.root.id, t.title]]), new Set())[0]! };
}

function renderFlag(services: Services, viewer: User, v: FlagView) {
  const shown = reporterShown(viewer, v.reporter);
  return {
    id: String(v.flag.id),
    uri: v.flag.uri,
    state: v.flag.state,
    group_id: v.flag.groupId == null ? null : String(v.flag.groupId),
    target_uri: v.flag.targetUri,
    post: v.post ? renderPosts(services, [v.post], new Map(), v.hidden ? new Set([v.post.id]) : new Set())[0]! : null,
    comment: v.flag.comment,
    reporter: shown.handle,
    reporter_domain: shown.domain,
    created_at: iso(v.flag.createdAt)!,
    resolved_at: iso(v.flag.resolvedAt),
  };
}

function renderLogEntry(e: JournalEntry) {
  return {
    id: String(e.entry.id),
    group_id: e.entry.groupId == null ? null : String(e.entry.groupId),
    action: e.entry.action,
    target_uri: e.entry.targetUri,
    reason: e.entry.reason,
    moderator: e.moderator,
    created_at: iso(e.entry.createdAt)!,
  };
}

function renderFigures(f: Figures) {
  return { threads: f.threads, answered_replies: f.answeredReplies, endorsement: f.endorsement, adopted: f.adopted, events: f.events, score: f.score };
}

function renderMember(m: MemberRow) {
  return { account: renderAuthor(m.actor)!, role: m.role };
}

/** A settings change: what the call leaves out stays as it is. */
function settingsInput(params: Params, group: GroupRow) {
  return {
    name: str(params, "name") ?? group.name,
    description: str(params, "description") ?? group.description,
    rules: str(params, "rules") ?? group.rules,
    themes: themesParam(params) ?? themesOf(group).join(","),
    policy: str(params, "policy") ?? group.policy,
    visibility: str(params, "visibility") ?? group.visibility,
  };
}

/** Themes as a JSON array or as one text ("#logement, climat"). */
function themesParam(params: Params): string | undefined {
  return Array.isArray(params.themes) ? params.themes.map(String).join(",") : str(params, "themes");
}

function flagState(value: string | undefined): FlagState | "all" {
  if (value === undefined || value === "") return "open";
  if (value === "all" || (FLAG_STATES as readonly string[]).includes(value)) return value as FlagState | "all";
  throw new UserError("api_bad_request", 400, { detail: `state=${value}` });
}

export function registerGroupsApi(api: FastifyInstance, services: Services): void {
  const { db } = services;
  const base = "/api/coopol/v1";

  /** An active group (local or remote) by id, with its actor. */
  const groupOf = (id: string) => {
    const group = groupById(db, idParam(id, "group_not_found"));
    const actor = group && group.state === "active" ? groupActor(db, group) : undefined;
    if (!group || !actor) throw new UserError("group_not_found", 404);
    return { group, actor };
  };
  const one = (user: User | null, group: GroupRow, actor: ActorRow) => renderGroup(services, user, group, actor);
  // After joining or leaving: the actor's member count, as updated.
  const fresh = (user: User, group: GroupRow, actor: ActorRow) => one(user, group, db.select().from(actors).where(eq(actors.id, actor.id)).get() ?? actor);

  // ---- Directory, a group, proposing, joining ----
  api.get(`${base}/groups`, async (request) => {
    const user = optionalUser(services, request, "read");
    const params = paramsOf(request);
    const sort = str(params, "sort");
    const entries = groupDirectory(db, { q: str(params, "q"), sort: sort === "name" || sort === "members" ? sort : "activity", limit: Math.min(Math.max(int(params, "limit") ?? 100, 1), 200) });
    return entries.map((e) => one(user, e.group, e.actor));
  });
  api.get(`${base}/groups/mine`, async (request) => {
    const user = requireUser(services, request, "read");
    return groupsOfMember(db, user.actorId).map((e) => one(user, e.group, e.actor));
  });
  api.post(`${base}/groups`, async (request) => {
    const user = requireUser(services, request, "write");
    const params = paramsOf(request);
    const group = proposeGroup(services, user, { name: str(params, "name") ?? "", slug: str(params, "slug"), description: str(params, "description"), rules: str(params, "rules"), themes: themesParam(params), policy: str(params, "policy"), visibility: str(params, "visibility") });
    const actor = groupActor(db, group);
    // A proposal waiting for approval has no actor yet: it is described without one.
    return actor ? one(user, group, actor) : { id: String(group.id), state: group.state, name: group.name };
  });
  api.post(`${base}/groups/join`, async (request) => {
    const user = requireUser(services, request, "write");
    const actor = await lookupActorOrExplain(services, str(paramsOf(request), "handle") ?? "", "group_not_found");
    if (actor.type !== "Group") throw new UserError("not_a_group", 422);
    const group = groupOfActor(db, actor.id);
    if (!group) throw new UserError("group_not_found", 404);
    await follow(services, user, actor);
    return fresh(user, group, actor);
  });
  api.get(`${base}/groups/:id`, async (request: WithId) => {
    const user = optionalUser(services, request, "read");
    const { group, actor } = groupOf(request.params.id);
    return one(user, group, actor);
  });
  api.post(`${base}/groups/:id/join`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const { group, actor } = groupOf(request.params.id);
    await follow(services, user, actor);
    return fresh(user, group, actor);
  });
  api.post(`${base}/groups/:id/leave`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const { group, actor } = groupOf(request.params.id);
    await unfollow(services, user, actor);
    return fresh(user, group, actor);
  });

  // ---- Threads ----
  // Paged as Mastodon's lists: `limit`, and `max_id` (a thread's id) for the
  // threads less recently active than it; a Link header `rel="next"` when there are more.
  api.get(`${base}/groups/:id/threads`, async (request: WithId, reply) => {
    const user = optionalUser(services, request, "read");
    const { group } = groupOf(request.params.id);
    const params = paramsOf(request);
    const limit = Math.min(Math.max(int(params, "limit") ?? THREADS_PAGE, 1), THREADS_PAGE);
    const maxId = str(params, "max_id");
    if (maxId && !/^\d+$/.test(maxId)) throw new UserError("api_bad_request", 400, { detail: "max_id" });
    const found = groupThreads(db, viewerOf(user), group, limit + 1, { maxId: maxId ? Number(maxId) : null });
    const threads = found.slice(0, limit);
    if (found.length > limit) {
      const next = new URL(request.url, services.config.origin);
      for (const key of ["max_id", "access_token"]) next.searchParams.delete(key);
      next.searchParams.set("max_id", String(threads.at(-1)!.root.id));
      reply.header("link", `<${next.href}>; rel="next"`);
    }
    return threads.map((t) => renderThread(services, t));
  });
  api.post(`${base}/groups/:id/threads`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const { group } = groupOf(request.params.id);
    const params = paramsOf(request);
    const title = str(params, "title")?.trim();
    if (!title) throw new UserError("api_bad_request", 400, { detail: "title" });
    const { post } = await postInGroup(services, user, group, { text: str(params, "text") ?? "", title, poll: pollParam(params) });
    return renderPosts(services, [post], new Map([[post.id, title]]), new Set())[0];
  });
  const threadOf = (request: FastifyRequest<{ Params: { id: string; thread_id: string } }>, user: User | null) => {
    const { group } = groupOf(request.params.id);
    const withHidden = canModerate(db, group, user);
    const thread = groupThread(db, viewerOf(user), group, idParam(request.params.thread_id), { withHidden });
    if (!thread) throw new UserError("post_not_found", 404);
    return { group, thread, withHidden };
  };
  api.get(`${base}/groups/:id/threads/:thread_id`, async (request: FastifyRequest<{ Params: { id: string; thread_id: string } }>) => {
    const user = optionalUser(services, request, "read");
    const { group, thread, withHidden } = threadOf(request, user);
    const all = [thread.root, ...thread.replies];
    const hidden = withHidden ? hiddenIn(db, group, all.map((p) => p.id)) : new Set<number>();
    const [root, ...replies] = renderPosts(services, all, new Map([[thread.root.id, thread.title]]), hidden);
    return { title: thread.title, root, replies };
  });
  api.post(`${base}/groups/:id/threads/:thread_id/replies`, async (request: FastifyRequest<{ Params: { id: string; thread_id: string } }>) => {
    const user = requireUser(services, request, "write");
    const { group, thread } = threadOf(request, user);
    const params = paramsOf(request);
    const to = str(params, "in_reply_to_id");
    const inReplyToId = to ? idParam(to) : (thread.replies.at(-1)?.id ?? thread.root.id);
    const { post } = await postInGroup(services, user, group, { text: str(params, "text") ?? "", inReplyToId });
    return renderPosts(services, [post], new Map(), new Set())[0];
  });

  // ---- Settings, members, moderators, join requests, bans (the group's moderators) ----
  /** A local group the token's member moderates (the members list and bans are theirs only). */
  const moderated = (id: string, user: User) => {
    const found = groupOf(id);
    if (!canModerate(db, found.group, user)) throw new UserError("group_forbidden", 403);
    return found;
  };
  const actorParam = (value: string) => {
    const actor = findActor(db, idParam(value, "actor_not_found"));
    if (!actor) throw new UserError("actor_not_found", 404);
    return actor;
  };
  type WithAccount = FastifyRequest<{ Params: { id: string; account_id: string } }>;

  api.patch(`${base}/groups/:id`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const { group } = groupOf(request.params.id);
    const row = await updateGroupSettings(services, user, group, settingsInput(paramsOf(request), group));
    const { actor } = groupOf(String(row.id));
    return one(user, row, actor);
  });
  api.get(`${base}/groups/:id/members`, async (request: WithId) => {
    const user = requireUser(services, request, "read");
    return membersOf(db, moderated(request.params.id, user).group).map(renderMember);
  });
  api.delete(`${base}/groups/:id/members/:account_id`, async (request: WithAccount, reply) => {
    const user = requireUser(services, request, "write");
    await removeMember(services, user, groupOf(request.params.id).group, idParam(request.params.account_id, "group_member_not_found"));
    return reply.code(204).send();
  });
  for (const [method, moderator] of [["put", true], ["delete", false]] as const) {
    api[method](`${base}/groups/:id/moderators/:account_id`, async (request: WithAccount, reply) => {
      const user = requireUser(services, request, "write");
      setModerator(services, user, groupOf(request.params.id).group, idParam(request.params.account_id, "group_member_not_found"), moderator);
      return reply.code(204).send();
    });
  }
  api.get(`${base}/groups/:id/requests`, async (request: WithId) => {
    const user = requireUser(services, request, "read");
    return pendingJoinRequests(db, moderated(request.params.id, user).group).map((a) => renderAuthor(a)!);
  });
  for (const decision of ["accept", "reject"] as const) {
    api.post(`${base}/groups/:id/requests/:account_id/${decision}`, async (request: WithAccount, reply) => {
      const user = requireUser(services, request, "write");
      await answerJoinRequest(services, user, groupOf(request.params.id).group, idParam(request.params.account_id, "follow_request_not_found"), decision === "accept");
      return reply.code(204).send();
    });
  }
  const renderBans = (group: GroupRow) => bansOf(db, group).map((b) => ({ id: String(b.id), account: renderAuthor(b.actor ?? undefined), domain: b.domain }));
  api.get(`${base}/groups/:id/bans`, async (request: WithId) => {
    const user = requireUser(services, request, "read");
    return renderBans(moderated(request.params.id, user).group);
  });
  api.post(`${base}/groups/:id/bans`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const { group } = groupOf(request.params.id);
    const params = paramsOf(request);
    // An account (by id, or by handle or address, here or elsewhere), or a whole instance.
    const accountId = str(params, "account_id");
    const handle = str(params, "handle");
    if (accountId) await banFromGroup(services, user, group, { actor: actorParam(accountId) });
    else if (handle) {
      const actor = await lookupActor(services, handle);
      if (!actor) throw new UserError("actor_not_found", 404);
      await banFromGroup(services, user, group, { actor });
    } else await banFromGroup(services, user, group, { domain: str(params, "domain") ?? "" });
    return renderBans(group);
  });
  api.delete(`${base}/groups/:id/bans/:ban_id`, async (request: FastifyRequest<{ Params: { id: string; ban_id: string } }>, reply) => {
    const user = requireUser(services, request, "write");
    unban(services, user, groupOf(request.params.id).group, idParam(request.params.ban_id, "api_not_found"));
    return reply.code(204).send();
  });

  // Proposed groups waiting for approval (COOPOL_GROUPS_NEED_APPROVAL): the instance's secretaries and admins.
  api.get(`${base}/groups/proposed`, async (request) => {
    const user = requireUser(services, request, "read");
    if (!canManageMembers(user.role)) throw new UserError("group_forbidden", 403);
    return proposedGroups(db).map((g) => ({ id: String(g.id), state: g.state, name: g.name }));
  });
  api.post(`${base}/groups/:id/review`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const decision = str(paramsOf(request), "decision");
    if (decision !== "approve" && decision !== "refuse") throw new UserError("api_bad_request", 400, { detail: `decision=${decision}` });
    const group = reviewGroup(services, user, idParam(request.params.id, "group_not_found"), decision === "approve");
    const actor = groupActor(db, group);
    return actor ? one(user, group, actor) : { id: String(group.id), state: group.state, name: group.name };
  });

  // ---- Proposals and amendments ----
  // A proposal is named by its post's id (as on the web, /proposals/<post id>).
  const renderProposals = (user: User | null, group: GroupRow, views: ProposalView[]) => {
    const actor = groupActor(db, group);
    const moderator = canModerate(db, group, user);
    const me = user ? db.select().from(actors).where(eq(actors.id, user.actorId)).get() : undefined;
    const member = !!me && mayAct(db, group, me);
    const hidden = moderator ? hiddenIn(db, group, views.map((v) => v.post.id)) : new Set<number>();
    const posts = renderPosts(services, views.map((v) => v.post), new Map(views.map((v) => [v.post.id, v.title])), hidden);
    return views.map((v, i) => {
      const open = v.proposal.state === "open";
      const amended = v.proposal.amendsId ? proposalById(db, v.proposal.amendsId) : undefined;
      return {
        id: String(v.post.id),
        group_id: String(group.id),
        title: v.title,
        state: v.proposal.state,
        support: v.support,
        oppose: v.oppose,
        tally_kept_by: actor?.domain ?? null,
        decided_at: iso(v.proposal.decidedAt),
        amends_id: amended ? String(amended.postId) : null,
        my_stance: me ? stanceOf(db, v.proposal, me.id) : null,
        can_take_stance: open && member,
        can_withdraw: open && !!me && v.post.actorId === me.id,
        can_decide: open && moderator,
        post: posts[i]!,
      };
    });
  };
  const proposalDetail = (user: User | null, postId: number) => {
    const viewer = viewerOf(user);
    const view = proposalView(db, viewer, postId);
    if (!view) throw new UserError("post_not_found", 404);
    const [self, ...amendments] = renderProposals(user, view.group, [view, ...proposalsOf(db, viewer, view.group, { amendsId: view.proposal.id })]);
    return { ...self!, amends: view.amends ? renderProposals(user, view.group, [view.amends])[0]! : null, amendments };
  };

  api.get(`${base}/groups/:id/proposals`, async (request: WithId) => {
    const user = optionalUser(services, request, "read");
    const { group } = groupOf(request.params.id);
    return renderProposals(user, group, proposalsOf(db, viewerOf(user), group));
  });
  api.post(`${base}/groups/:id/proposals`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const { group } = groupOf(request.params.id);
    const params = paramsOf(request);
    const amends = str(params, "amends_id");
    const amendsId = amends ? readableProposal(db, viewerOf(user), idParam(amends)).id : null;
    const post = await createProposal(services, user, group, { title: str(params, "title"), text: str(params, "text") ?? "", amendsId });
    return proposalDetail(user, post.id);
  });
  api.get(`${base}/proposals/:id`, async (request: WithId) => {
    const user = optionalUser(services, request, "read");
    return proposalDetail(user, idParam(request.params.id));
  });
  api.post(`${base}/proposals/:id/act`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const proposal = readableProposal(db, viewerOf(user), idParam(request.params.id));
    await actOnProposal(services, user, proposal, proposalActOf(str(paramsOf(request), "act")));
    return proposalDetail(user, proposal.postId);
  });
  api.post(`${base}/proposals/:id/decide`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const proposal = readableProposal(db, viewerOf(user), idParam(request.params.id));
    await decideProposal(services, user, proposal, decisionOf(str(paramsOf(request), "state")));
    return proposalDetail(user, proposal.postId);
  });

  // ---- Contributors ----
  const daysParam = (params: Params) => {
    const days = windowOf(str(params, "days"));
    if (!days) throw new UserError("api_bad_request", 400, { detail: `days=${str(params, "days")}` });
    return days;
  };
  api.get(`${base}/groups/:id/contributors`, async (request: WithId) => {
    const user = optionalUser(services, request, "read");
    const { group } = groupOf(request.params.id);
    const days = daysParam(paramsOf(request));
    if (!mayReadContributors(db, group, user)) throw new UserError("group_forbidden", 403);
    return { days, contributors: groupContributors(db, group, days).map((c) => ({ account: renderAuthor(c.actor)!, figures: renderFigures(c.figures) })) };
  });
  api.get(`${base}/accounts/:id/contributions`, async (request: WithId) => {
    const user = optionalUser(services, request, "read");
    const actor = actorParam(request.params.id);
    const days = daysParam(paramsOf(request));
    // As on a public profile, members-only groups are left out, except for the member themselves.
    const found = memberContributions(db, actor.id, days, { publicOnly: user?.actorId !== actor.id });
    return {
      days,
      account: renderAuthor(actor)!,
      score: found.score,
      events: found.events,
      groups: found.groups.map((g) => {
        const groupActorRow = groupActor(db, g.group);
        return { group: { id: String(g.group.id), name: g.group.name, handle: groupActorRow ? handleOf(groupActorRow) : null, local: g.group.local }, figures: renderFigures(g.figures) };
      }),
    };
  });

  // ---- Reports and moderation ----
  api.post(`${base}/posts/:id/flag`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const row = await flagPost(services, user, idParam(request.params.id), str(paramsOf(request), "comment"));
    // Shown as the reporter sees it: their own report, whatever queue it went to.
    const post = row.postId ? (findPost(db, row.postId) ?? null) : null;
    return renderFlag(services, user, { flag: row, post, author: null, reporter: db.select().from(actors).where(eq(actors.id, user.actorId)).get()!, hidden: false });
  });
  api.get(`${base}/groups/:id/flags`, async (request: WithId) => {
    const user = requireUser(services, request, "read");
    const { group } = groupOf(request.params.id);
    return flagQueue(db, user, group, flagState(str(paramsOf(request), "state"))).map((v) => renderFlag(services, user, v));
  });
  api.get(`${base}/groups/:id/log`, async (request: WithId) => {
    const user = requireUser(services, request, "read");
    return moderationJournal(db, user, groupOf(request.params.id).group).map(renderLogEntry);
  });
  api.post(`${base}/groups/:id/posts/:post_id/hide`, async (request: WithPost, reply) => {
    const user = requireUser(services, request, "write");
    hidePost(services, user, groupOf(request.params.id).group, idParam(request.params.post_id), str(paramsOf(request), "reason"));
    return reply.code(204).send();
  });
  api.delete(`${base}/groups/:id/posts/:post_id/hide`, async (request: WithPost, reply) => {
    const user = requireUser(services, request, "write");
    unhidePost(services, user, groupOf(request.params.id).group, idParam(request.params.post_id), str(paramsOf(request), "reason"));
    return reply.code(204).send();
  });
  api.post(`${base}/groups/:id/posts/:post_id/remove`, async (request: WithPost, reply) => {
    const user = requireUser(services, request, "write");
    await removeFromGroup(services, user, groupOf(request.params.id).group, idParam(request.params.post_id), str(paramsOf(request), "reason"));
    return reply.code(204).send();
  });
  api.post(`${base}/flags/:id/close`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const params = paramsOf(request);
    const state = str(params, "state");
    if (state !== "resolved" && state !== "dismissed") throw new UserError("api_bad_request", 400, { detail: `state=${state}` });
    const row = closeFlag(services, user, idParam(request.params.id, "flag_not_found"), state, str(params, "reason"));
    const group = row.groupId ? (groupById(db, row.groupId) ?? null) : null;
    return renderFlag(services, user, flagQueue(db, user, group, "all").find((v) => v.flag.id === row.id) ?? { flag: flagById(db, row.id)!, post: null, author: null, reporter: null, hidden: false });
  });

  // The instance's own queue: reports of posts outside our groups (admins, moderators).
  api.get(`${base}/moderation/flags`, async (request) => {
    const user = requireUser(services, request, "read");
    return flagQueue(db, user, null, flagState(str(paramsOf(request), "state"))).map((v) => renderFlag(services, user, v));
  });
  api.get(`${base}/moderation/log`, async (request) => {
    const user = requireUser(services, request, "read");
    return moderationJournal(db, user, null).map(renderLogEntry);
  });
  api.delete(`${base}/moderation/posts/:id`, async (request: WithId, reply) => {
    const user = requireUser(services, request, "write");
    if (!canModerateInstance(user)) throw new UserError("moderation_forbidden", 403);
    await deletePost(services, user, idParam(request.params.id), str(paramsOf(request), "reason"));
    return reply.code(204).send();
  });
}
