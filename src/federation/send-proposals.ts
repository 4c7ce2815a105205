// Proposals on the wire (docs/federation.md, "Proposals"). Three messages, all
// Coopol payloads in a `coopol:payload` PropertyValue (territory.ts explains
// why: Fedify's compaction drops properties it does not know):
//
// - `Proposal`: attached to the proposal's own Note by its author's server
//   ({id: note, group, amends}); every server that stores the Note learns it
//   is a proposal of that group, and which proposal it amends.
// - `ProposalAct`: a member's stance (support, oppose) or the author's
//   withdrawal, a `Create` of a plain Object sent by the member's server to the
//   group's actor only. Not a `Like`: a like is approval of a post, read by
//   Mastodon and counted in contributions; Lemmy reads Like/Dislike as votes
//   on rankings. A stance must not be confused with either.
// - `ProposalStatus`: the group's tally and state, an `Update` of a plain
//   Object attributed to the group (its server is the one that counts), sent
//   to its members' servers after every change.
import { Create, PropertyValue, Update } from "@fedify/vocab";
import { eq } from "drizzle-orm";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { actors, groups, posts, proposals } from "../storage/schema.ts";
import type { PostRow } from "../posts/posts.ts";
import type { ProposalAct, ProposalRow } from "../groups/proposals.ts";
import type { ActorRow } from "./actors.ts";
import { context, deliver, remoteFollowers } from "./send.ts";
import { activityKey } from "./activity-ids.ts";
import { PAYLOAD_NAME, toWire, WIRE_CONTEXT } from "./territory.ts";

/** The marker a proposal's Note carries (none for other posts). */
export function proposalMarkers(db: Db, post: PostRow): PropertyValue[] {
  const row = db
    .select({ group: actors.uri, amendsId: proposals.amendsId })
    .from(proposals)
    .innerJoin(groups, eq(groups.id, proposals.groupId))
    .innerJoin(actors, eq(actors.id, groups.actorId))
    .where(eq(proposals.postId, post.id))
    .get();
  if (!row) return [];
  const amends = row.amendsId
    ? db.select({ uri: posts.uri }).from(proposals).innerJoin(posts, eq(posts.id, proposals.postId)).where(eq(proposals.id, row.amendsId)).get()?.uri ?? null
    : null;
  return [new PropertyValue({ name: PAYLOAD_NAME, value: JSON.stringify({ type: "Proposal", id: post.uri, group: row.group, amends }) })];
}

/** A member's stance or withdrawal (`id`: the act's id, kept with the stance), to the group's actor. */
export async function sendProposalAct(services: Services, member: ActorRow, group: ActorRow, post: PostRow, act: ProposalAct, id: string): Promise<void> {
  const activity = await Create.fromJsonLd({
      "@context": WIRE_CONTEXT,
      type: "Create",
      id: `${id}/activity`,
      actor: member.uri,
      to: [group.uri],
      object: toWire({ type: "ProposalAct", id, attributedTo: member.uri, to: [group.uri], proposal: post.uri, act }),
  });
  await deliver(services, member, [group], activity);
}

export interface StatusInput {
  proposal: ProposalRow;
  post: PostRow;
  title: string | null;
  amendsUri: string | null;
  support: number;
  oppose: number;
}

/** A local group's tally and state of one proposal, to its remote members' servers. */
export async function sendProposalStatus(services: Services, group: ActorRow, input: StatusInput): Promise<void> {
  const members = remoteFollowers(services, group.id);
  if (members.length === 0) return;
  const ctx = context(services);
  const followers = ctx.getFollowersUri(group.username).href;
  const id = `${group.uri}/proposals/${input.post.id}`;
  const activity = await Update.fromJsonLd({
      "@context": WIRE_CONTEXT,
      type: "Update",
      // Each Update its own id: receivers drop an activity id they have seen.
      id: `${id}#status-${activityKey()}`,
      actor: group.uri,
      to: [followers],
      object: toWire({
        type: "ProposalStatus",
        id,
        attributedTo: group.uri,
        to: [followers],
        updated: new Date().toISOString(),
        proposal: input.post.uri,
        title: input.title,
        amends: input.amendsUri,
        state: input.proposal.state,
        support: input.support,
        oppose: input.oppose,
        decidedAt: input.proposal.decidedAt ? new Date(input.proposal.decidedAt).toISOString() : null,
      }),
  });
  await deliver(services, group, members, activity);
}
