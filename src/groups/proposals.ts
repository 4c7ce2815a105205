// Proposals and amendments in a group's discussion. A proposal is a group post
// (a thread topic with a title) marked in `proposals`; an amendment is a
// proposal that amends another, posted as a reply in its thread. Members
// support or oppose (one stance each, changeable); the group's moderators
// adopt or reject, the author may withdraw. The group's instance keeps the
// stances and decides the state; other instances keep the tally it last sent
// (remoteSupport/remoteOppose). Wire format: federation/send-proposals.ts.
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { actors, groupPosts, groups, posts, proposals, proposalVotes, type ProposalState, type Stance } from "../storage/schema.ts";
import type { ActorRow } from "../federation/actors.ts";
import type { User } from "../members/members.ts";
import { UserError } from "../errors.ts";
import { findPostByUri, type PostRow } from "../posts/posts.ts";
import { visibleTo, type Viewer } from "../posts/visibility.ts";
import { canModerate, groupActor, isBanned, isMember, roleOf, type GroupRow } from "./groups.ts";
import { cleanTitle, groupsOfPost, postInGroup, recordGroupPost, titleOfPost } from "./discussion.ts";
import { newId } from "../storage/ids.ts";
import { record } from "../outbox/outbox.ts";

export type ProposalRow = typeof proposals.$inferSelect;
/** What a member does to a proposal: a stance, or (its author) withdrawing it. */
export type ProposalAct = Stance | "withdraw";
export const PROPOSAL_ACTS: readonly ProposalAct[] = ["support", "oppose", "withdraw"];

/** What a form or an API call names as an act: support, oppose or withdraw; anything else is refused. */
export function proposalActOf(value: unknown): ProposalAct {
  const act = PROPOSAL_ACTS.find((a) => a === value);
  if (!act) throw new UserError("proposal_act_invalid", 422);
  return act;
}

/** What a form or an API call names as a moderators' decision: adopted or rejected. */
export function decisionOf(value: unknown): "adopted" | "rejected" {
  if (value !== "adopted" && value !== "rejected") throw new UserError("proposal_act_invalid", 422);
  return value;
}

export function proposalOfPost(db: Db, postId: number): ProposalRow | undefined {
  return db.select().from(proposals).where(eq(proposals.postId, postId)).get();
}

export function proposalById(db: Db, id: number): ProposalRow | undefined {
  return db.select().from(proposals).where(eq(proposals.id, id)).get();
}

export function groupOfProposal(db: Db, proposal: ProposalRow): GroupRow {
  return db.select().from(groups).where(eq(groups.id, proposal.groupId)).get()!;
}

/** Marks a post as a proposal (or amendment) of a group; idempotent (one proposal per post). */
export function insertProposal(db: Db, values: { postId: number; groupId: number; amendsId: number | null }): ProposalRow | undefined {
  db.insert(proposals).values(values).onConflictDoNothing().run();
  return proposalOfPost(db, values.postId);
}

/** Counts as the group's instance knows them: its own stances for a local group, the last tally it sent otherwise. */
export function tallyOf(db: Db, proposal: ProposalRow, group: GroupRow): { support: number; oppose: number } {
  const counted = db
    .select({
      support: sql<number>`coalesce(sum(${proposalVotes.stance} = 'support'), 0)`,
      oppose: sql<number>`coalesce(sum(${proposalVotes.stance} = 'oppose'), 0)`,
    })
    .from(proposalVotes)
    .where(eq(proposalVotes.proposalId, proposal.id))
    .get() ?? { support: 0, oppose: 0 };
  if (group.local || proposal.remoteSupport == null) return counted;
  return { support: proposal.remoteSupport, oppose: proposal.remoteOppose ?? 0 };
}

export function stanceOf(db: Db, proposal: ProposalRow, actorId: number): Stance | null {
  return db.select({ stance: proposalVotes.stance }).from(proposalVotes).where(and(eq(proposalVotes.proposalId, proposal.id), eq(proposalVotes.actorId, actorId))).get()?.stance ?? null;
}

/**
 * A member posts a proposal (a new thread with a title) or an amendment (a
 * reply in the amended proposal's thread) to a group, local or remote.
 */
export async function createProposal(services: Services, user: User, group: GroupRow, input: { title?: string | null; text: string; amendsId?: number | null }): Promise<PostRow> {
  const { db } = services;
  let amended: ProposalRow | undefined;
  if (input.amendsId != null) {
    amended = proposalById(db, input.amendsId);
    if (!amended || amended.groupId !== group.id) throw new UserError("post_not_found", 404);
    if (amended.state !== "open") throw new UserError("proposal_closed", 409);
  } else if (!input.title?.trim()) {
    throw new UserError("proposal_title_missing", 422);
  }
  const { post } = await postInGroup(services, user, group, {
    text: input.text,
    title: amended ? null : input.title,
    inReplyToId: amended?.postId ?? null,
    proposal: { amendsId: amended?.id ?? null },
  });
  return post;
}

/** Who may take a stance in a group: a member (or owner/moderator) not banned. */
export function mayAct(db: Db, group: GroupRow, actor: Pick<ActorRow, "id" | "domain">): boolean {
  return (isMember(db, group, actor.id) || roleOf(db, group, actor.id) !== null) && !isBanned(db, group, actor);
}

export type ActRefusal = "closed" | "not_member" | "not_author" | "not_in_group";

/**
 * Applies a stance or a withdrawal to a proposal of a local group (a local
 * member's, or one received from a member's server). Returns why it was
 * refused, or null when it was applied.
 */
export function applyAct(db: Db, group: GroupRow, proposal: ProposalRow, actor: ActorRow, act: ProposalAct, uri: string | null): ActRefusal | null {
  if (proposal.state !== "open") return "closed";
  if (!groupsOfPost(db, proposal.postId).some((l) => l.group.id === group.id)) return "not_in_group";
  if (act === "withdraw") {
    const post = db.select({ actorId: posts.actorId }).from(posts).where(eq(posts.id, proposal.postId)).get();
    if (post?.actorId !== actor.id) return "not_author";
    setState(db, proposal, "withdrawn", actor.id);
    return null;
  }
  if (!mayAct(db, group, actor)) return "not_member";
  recordStance(db, proposal, actor.id, act, uri);
  return null;
}

function recordStance(db: Db, proposal: ProposalRow, actorId: number, stance: Stance, uri: string | null): void {
  db.insert(proposalVotes)
    .values({ proposalId: proposal.id, actorId, stance, uri })
    .onConflictDoUpdate({ target: [proposalVotes.proposalId, proposalVotes.actorId], set: { stance, uri, createdAt: Date.now() } })
    .run();
}

function setState(db: Db, proposal: ProposalRow, state: ProposalState, by: number | null): void {
  db.update(proposals).set({ state, decidedAt: Date.now(), decidedBy: by, updatedAt: Date.now() }).where(eq(proposals.id, proposal.id)).run();
}

const ACT_ERRORS: Record<ActRefusal, [string, number]> = {
  closed: ["proposal_closed", 409],
  not_member: ["group_not_member", 403],
  not_author: ["proposal_not_author", 403],
  not_in_group: ["post_not_found", 404],
};

/** A local member supports, opposes or (the author) withdraws a proposal. */
export async function actOnProposal(services: Services, user: User, proposal: ProposalRow, act: ProposalAct): Promise<void> {
  const { db } = services;
  const group = groupOfProposal(db, proposal);
  const me = db.select().from(actors).where(eq(actors.id, user.actorId)).get()!;
  if (group.local) {
    const refusal = db.transaction((tx) => {
      const refusal = applyAct(tx, group, proposal, me, act, null);
      if (!refusal) proposalChanged(tx, group, proposal.id);
      return refusal;
    });
    if (refusal) throw new UserError(...ACT_ERRORS[refusal]);
    return;
  }
  // A remote group decides: the act goes to it, and its next tally tells the result.
  // The member's own stance is kept here so their page shows it at once.
  if (proposal.state !== "open") throw new UserError(...ACT_ERRORS.closed);
  const post = db.select().from(posts).where(eq(posts.id, proposal.postId)).get()!;
  if (act === "withdraw" && post.actorId !== me.id) throw new UserError(...ACT_ERRORS.not_author);
  if (act !== "withdraw" && !mayAct(db, group, me)) throw new UserError(...ACT_ERRORS.not_member);
  const target = groupActor(db, group);
  if (!target) throw new UserError("group_not_found", 404);
  const uri = `${me.uri}/proposal-acts/${newId()}`;
  db.transaction((tx) => {
    if (act !== "withdraw") recordStance(tx, proposal, me.id, act, uri);
    record(tx, { kind: "proposal.act", actorId: me.id, groupActorId: target.id, postId: post.id, act, uri });
  });
}

/** A moderator of a local group adopts or rejects a proposal. */
export async function decideProposal(services: Services, user: User, proposal: ProposalRow, state: "adopted" | "rejected"): Promise<void> {
  const { db } = services;
  const group = groupOfProposal(db, proposal);
  if (!canModerate(db, group, user)) throw new UserError("error.forbidden", 403);
  if (proposal.state !== "open") throw new UserError(...ACT_ERRORS.closed);
  db.transaction((tx) => {
    setState(tx, proposal, state, user.actorId);
    proposalChanged(tx, group, proposal.id);
  });
}

/**
 * After a change on a local group's proposal: its tally and state go to the
 * members' servers (through the outbox; call it in the change's transaction).
 */
export function proposalChanged(db: Db, group: GroupRow, proposalId: number): void {
  if (group.local) record(db, { kind: "proposal.changed", proposalId });
}

/** What a local group's proposal status says now, and the group's actor that sends it. */
export function proposalStatusOf(db: Db, proposalId: number): { actor: ActorRow; proposal: ProposalRow; post: PostRow; title: string | null; amendsUri: string | null; support: number; oppose: number } | null {
  const proposal = proposalById(db, proposalId);
  if (!proposal) return null;
  const group = groupOfProposal(db, proposal);
  const actor = groupActor(db, group);
  const post = db.select().from(posts).where(eq(posts.id, proposal.postId)).get();
  if (!actor || !post) return null;
  const amended = proposal.amendsId ? proposalById(db, proposal.amendsId) : undefined;
  const amendedPost = amended ? db.select().from(posts).where(eq(posts.id, amended.postId)).get() : undefined;
  return { actor, proposal, post, title: titleOfPost(db, post.id), amendsUri: amendedPost?.uri ?? null, ...tallyOf(db, proposal, group) };
}

/** A post a local group just took into its discussion: if it is a proposal, its status goes out at once (with its title). */
export function proposalJoined(db: Db, group: GroupRow, post: PostRow): void {
  const proposal = proposalOfPost(db, post.id);
  if (proposal?.groupId === group.id) proposalChanged(db, group, proposal.id);
}

/** A proposal's status as its group's instance sent it. */
export interface ProposalStatus {
  proposalUri: string;
  title: string | null;
  amendsUri: string | null;
  state: ProposalState;
  support: number;
  oppose: number;
  decidedAt: number | null;
  /** When the group's instance wrote it (ms): statuses may arrive out of order. */
  version: number;
}

/**
 * A remote group's word on one of its proposals (its server is the one that
 * counts): stored if the post is known here and in that group's discussion;
 * the proposal row is made if the post's own marker was missed.
 */
export function applyStatus(db: Db, group: GroupRow, status: ProposalStatus): boolean {
  if (group.local) return false;
  const post = findPostByUri(db, status.proposalUri);
  if (!post) return false;
  // The group vouches that the post is in its discussion, and for its title
  // (a thread learnt through the group's boost has none here: a boost carries no title).
  if (!groupsOfPost(db, post.id).some((l) => l.group.id === group.id)) recordGroupPost(db, group, post, cleanTitle(status.title));
  else if (status.title) {
    db.update(groupPosts)
      .set({ title: cleanTitle(status.title) })
      .where(and(eq(groupPosts.groupId, group.id), eq(groupPosts.postId, post.id), eq(groupPosts.rootId, post.id), isNull(groupPosts.title)))
      .run();
  }
  const amendedPost = status.amendsUri ? findPostByUri(db, status.amendsUri) : undefined;
  const amended = amendedPost ? proposalOfPost(db, amendedPost.id) : undefined;
  const proposal = proposalOfPost(db, post.id) ?? insertProposal(db, { postId: post.id, groupId: group.id, amendsId: amended?.groupId === group.id ? amended.id : null });
  if (!proposal || proposal.groupId !== group.id) return false;
  if (proposal.statusVersion != null && status.version < proposal.statusVersion) return false;
  db.update(proposals)
    .set({ state: status.state, remoteSupport: status.support, remoteOppose: status.oppose, decidedAt: status.decidedAt, statusVersion: status.version, updatedAt: Date.now() })
    .where(eq(proposals.id, proposal.id))
    .run();
  return true;
}

/**
 * A post from another server says it is a proposal of a group we know (the
 * marker its author's server put on the Note). Amendments must amend a
 * proposal of the same group.
 */
export function rememberProposal(db: Db, post: PostRow, groupActorId: number, amendsUri: string | null): void {
  const group = db.select().from(groups).where(eq(groups.actorId, groupActorId)).get();
  if (!group) return;
  const amendedPost = amendsUri ? findPostByUri(db, amendsUri) : undefined;
  const amended = amendedPost ? proposalOfPost(db, amendedPost.id) : undefined;
  insertProposal(db, { postId: post.id, groupId: group.id, amendsId: amended?.groupId === group.id ? amended.id : null });
}

export interface ProposalView {
  proposal: ProposalRow;
  post: PostRow;
  title: string | null;
  support: number;
  oppose: number;
}

/** A group's proposals (or the amendments of one) that the viewer may read, newest first. */
export function proposalsOf(db: Db, viewer: Viewer, group: GroupRow, options: { amendsId?: number } = {}): ProposalView[] {
  const rows = db
    .select({ proposal: proposals, post: posts, title: groupPosts.title })
    .from(proposals)
    .innerJoin(posts, eq(posts.id, proposals.postId))
    // Only posts the group took into its discussion (a refused post may still claim to be a proposal).
    .innerJoin(groupPosts, and(eq(groupPosts.postId, proposals.postId), eq(groupPosts.groupId, proposals.groupId)))
    .where(and(eq(proposals.groupId, group.id), options.amendsId != null ? eq(proposals.amendsId, options.amendsId) : sql`${proposals.amendsId} is null`, visibleTo(viewer)))
    .orderBy(sql`${posts.id} desc`)
    .limit(200)
    .all();
  return rows.map((r) => ({ ...r, ...tallyOf(db, r.proposal, group) }));
}

/** The proposal behind a post, if the viewer may read it; otherwise "not found" (the web pages and the API act on these). */
export function readableProposal(db: Db, viewer: Viewer, postId: number): ProposalRow {
  const proposal = proposalOfPost(db, postId);
  if (!proposal || !proposalView(db, viewer, proposal.postId)) throw new UserError("post_not_found", 404);
  return proposal;
}

/** One proposal by its post, if the viewer may read it. */
export function proposalView(db: Db, viewer: Viewer, postId: number): (ProposalView & { group: GroupRow; amends: ProposalView | null }) | null {
  const row = db
    .select({ proposal: proposals, post: posts, title: groupPosts.title, group: groups })
    .from(proposals)
    .innerJoin(posts, eq(posts.id, proposals.postId))
    .innerJoin(groups, eq(groups.id, proposals.groupId))
    .innerJoin(groupPosts, and(eq(groupPosts.postId, proposals.postId), eq(groupPosts.groupId, proposals.groupId)))
    .where(and(eq(proposals.postId, postId), visibleTo(viewer)))
    .get();
  if (!row) return null;
  const amended = row.proposal.amendsId ? proposalById(db, row.proposal.amendsId) : undefined;
  const amends = amended ? proposalView(db, viewer, amended.postId) : null;
  return { ...row, ...tallyOf(db, row.proposal, row.group), amends };
}
