// Proposals in the inbox (wire format: send-proposals.ts):
// - a stored Note that carries a `Proposal` marker becomes a proposal of the
//   group it names, if we know that group;
// - as the group's server: a member's `ProposalAct` (Create) is applied if the
//   sender may, and the new tally goes back to the members' servers;
// - as a member's server: the group's `ProposalStatus` (Update), taken only
//   from the group the proposal belongs to.
import type { InboxContext } from "@fedify/fedify";
import { Create, Update, type Note, type Question } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { PROPOSAL_STATES, type ProposalState } from "../../storage/schema.ts";
import { findPostByUri, type PostRow } from "../../posts/posts.ts";
import { groupOfActor } from "../../groups/groups.ts";
import { applyAct, applyStatus, groupOfProposal, proposalChanged, proposalOfPost, PROPOSAL_ACTS, rememberProposal, type ProposalAct } from "../../groups/proposals.ts";
import { readPayload } from "../territory.ts";
import { actorByUri } from "../remote.ts";
import { resolveNote } from "../notes.ts";
import { senderOf } from "./common.ts";

const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);
const originOf = (v: unknown): string | null => {
  try {
    return typeof v === "string" ? new URL(v).origin : null;
  } catch {
    return null;
  }
};
const count = (v: unknown): number => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? Math.min(v, 1e9) : 0);

/** A Create or Update of a proposal payload; false when it is something else (territory.ts takes it). */
export async function onProposalActivity(ctx: InboxContext<Services>, activity: Create | Update): Promise<boolean> {
  const payload = await readPayload(await activity.getObject()).catch(() => null);
  const type = payload?.type;
  if (!payload || (type !== "ProposalAct" && type !== "ProposalStatus")) return false;
  const services = ctx.data;
  const { db, log } = services;
  const sender = await senderOf(ctx, activity);
  // The payload speaks for its sender only.
  if (!sender || payload.attributedTo !== sender.uri || originOf(payload.id) !== new URL(sender.uri).origin) return true;
  const post = str(payload.proposal) ? findPostByUri(db, payload.proposal as string) : undefined;
  if (type === "ProposalAct" && activity instanceof Create) {
    const act = PROPOSAL_ACTS.find((a) => a === payload.act) as ProposalAct | undefined;
    const proposal = post ? proposalOfPost(db, post.id) : undefined;
    if (!act || !proposal) return true;
    const own = groupOfProposal(db, proposal);
    if (!own.local) return true;
    const refusal = db.transaction((tx) => {
      const refusal = applyAct(tx, own, proposal, sender, act, String(payload.id));
      if (!refusal) proposalChanged(tx, own, proposal.id);
      return refusal;
    });
    if (refusal) log.warn({ proposal: post!.uri, actor: sender.uri, refusal }, "proposal: act refused");
    return true;
  }
  if (type === "ProposalStatus" && activity instanceof Update) {
    const group = sender.type === "Group" ? groupOfActor(db, sender.id) : undefined;
    const state = PROPOSAL_STATES.find((s) => s === payload.state) as ProposalState | undefined;
    const uri = str(payload.proposal);
    if (!group || !state || !uri) return true;
    // Not seen yet (the group's boost may still be on its way): fetched from its author's server.
    const known = post ?? (await resolveNote(ctx, new URL(uri)).catch(() => null));
    if (!known) return true;
    const decidedAt = str(payload.decidedAt) ? Date.parse(payload.decidedAt as string) : NaN;
    const version = str(payload.updated) ? Date.parse(payload.updated as string) : NaN;
    applyStatus(db, group, {
      proposalUri: known.uri,
      title: str(payload.title),
      amendsUri: str(payload.amends),
      state,
      support: count(payload.support),
      oppose: count(payload.oppose),
      decidedAt: Number.isFinite(decidedAt) ? decidedAt : null,
      version: Number.isFinite(version) ? version : 0,
    });
  }
  return true;
}
