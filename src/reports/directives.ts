// Directives down: a fédération or the national level sends an announcement
// or proposes an action to every node it oversees. Each receiving node shows
// it to its card-holders as a section-only post (never federated further
// than the hierarchy) and may turn a proposed action into one of its own.
import { desc, eq } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { isCardHolder, memberManagerActorIds, type User } from "../members/members.ts";
import { notifyAll } from "../notifications/notifications.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { ACTION_TYPES, DIRECTIVE_KINDS, directives, posts, type ActionType, type DirectiveKind } from "../storage/schema.ts";
import { escapeHtml } from "../posts/content.ts";
import { fanOut } from "../posts/posts.ts";
import type { ActorRow } from "../federation/actors.ts";
import { directiveObject, type DirectiveWire, type ProposalWire } from "../federation/territory.ts";
import { nodeActor } from "../federation/actors.ts";
import { record } from "../outbox/outbox.ts";
import { canRunCampaigns, findCampaignByUri } from "../campaigns/campaigns.ts";
import { createAction, type ActionRow } from "../campaigns/actions.ts";

export type DirectiveRow = typeof directives.$inferSelect;

export interface DirectiveInput {
  kind: DirectiveKind;
  title: string;
  body?: string;
  proposal?: { type: ActionType; campaignUri?: string | null; startAt?: number | null; meetingPoint?: string | null } | null;
}

function wireOf(row: DirectiveRow): DirectiveWire {
  return {
    uri: row.uri,
    fromUri: row.fromUri,
    fromName: row.fromName,
    kind: row.kind,
    title: row.title,
    body: row.body,
    proposal: row.proposal ? (JSON.parse(row.proposal) as ProposalWire) : null,
    published: row.createdAt,
  };
}

export async function sendDirective(services: Services, user: User, input: DirectiveInput): Promise<DirectiveRow> {
  const { db, config } = services;
  if (config.kind === "section") throw new UserError("directive_section", 409);
  if (!canRunCampaigns(user)) throw new UserError("directive_forbidden", 403);
  const title = input.title?.trim() ?? "";
  if (!title) throw new UserError("directive_title_missing", 422);
  if (title.length > 200) throw new UserError("directive_title_too_long", 422);
  if (!DIRECTIVE_KINDS.includes(input.kind)) throw new UserError("directive_kind_invalid", 422);
  let proposal: ProposalWire | null = null;
  if (input.kind === "action_proposal") {
    if (!input.proposal || !ACTION_TYPES.includes(input.proposal.type)) throw new UserError("action_type_invalid", 422);
    proposal = {
      type: input.proposal.type,
      campaignUri: input.proposal.campaignUri || null,
      startAt: input.proposal.startAt ?? null,
      meetingPoint: input.proposal.meetingPoint?.trim() || null,
    };
    if (proposal.campaignUri && !findCampaignByUri(db, proposal.campaignUri)) throw new UserError("campaign_not_found", 404);
  }
  const node = nodeActor(services);
  const id = newId();
  return db.transaction((tx) => {
    const row = tx
      .insert(directives)
      .values({
        id,
        uri: `${config.origin}/directives/${id}`,
        outgoing: true,
        kind: input.kind,
        fromUri: node.uri,
        fromName: config.name,
        title,
        body: (input.body ?? "").trim().slice(0, 20_000),
        proposal: proposal ? JSON.stringify(proposal) : null,
        createdBy: user.id,
        createdAt: Date.now(),
      })
      .returning()
      .get();
    record(tx, { kind: "territory.down", type: "Create", object: directiveObject(wireOf(row), []) });
    return row;
  });
}

const KIND_LABEL: Record<DirectiveKind, string> = { announcement: "📣 Annonce", action_proposal: "📋 Action proposée" };

/**
 * Stores a directive from above once, and shows it to the card-holders here
 * as a section-only post by the node that sent it.
 */
export function receiveDirective(services: Services, wire: DirectiveWire, author: ActorRow): DirectiveRow | null {
  const { db, config } = services;
  if (db.select({ id: directives.id }).from(directives).where(eq(directives.uri, wire.uri)).get()) return null;
  const received = db.transaction((tx) => {
    const id = newId();
    const paragraphs = wire.body.split(/\n{2,}/).map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`).join("");
    const post = tx
      .insert(posts)
      .values({
        id,
        uri: `${config.origin}/directives/received/${id}`,
        url: `${config.origin}/directives/${id}`,
        actorId: author.id,
        content: `<p><strong>${KIND_LABEL[wire.kind]} · ${escapeHtml(wire.fromName || author.name)} : ${escapeHtml(wire.title)}</strong></p>${paragraphs}`,
        visibility: "section",
        publishedAt: Date.now(),
      })
      .returning()
      .get();
    fanOut(tx, post);
    const row = tx
      .insert(directives)
      .values({
        id,
        uri: wire.uri,
        outgoing: false,
        kind: wire.kind,
        fromUri: wire.fromUri,
        fromName: wire.fromName || author.name,
        title: wire.title,
        body: wire.body,
        proposal: wire.proposal ? JSON.stringify(wire.proposal) : null,
        postId: post.id,
      })
      .returning()
      .get();
    services.events.emit("post.created", post);
    return row;
  });
  // The secretaries are told, not only shown a post among others.
  notifyAll(services, memberManagerActorIds(db), { type: "coopol.directive", fromActorId: author.id, postId: received.postId });
  return received;
}

export function listDirectives(db: Db, user: User): DirectiveRow[] {
  if (!isCardHolder(user.role)) throw new UserError("directive_forbidden", 403);
  return db.select().from(directives).orderBy(desc(directives.createdAt)).limit(200).all();
}

export function getDirective(db: Db, user: User, id: number): DirectiveRow {
  if (!isCardHolder(user.role)) throw new UserError("directive_forbidden", 403);
  const row = db.select().from(directives).where(eq(directives.id, id)).get();
  if (!row) throw new UserError("directive_not_found", 404);
  return row;
}

/** Turns a proposed action into one of this section's actions (once). */
export function adoptProposal(services: Services, user: User, directiveId: number, overrides: { startAt?: number; meetingPoint?: string } = {}): ActionRow {
  const { db } = services;
  const directive = getDirective(db, user, directiveId);
  if (directive.outgoing || directive.kind !== "action_proposal" || !directive.proposal) throw new UserError("directive_not_found", 404);
  if (directive.actionId) throw new UserError("proposal_adopted", 409);
  const proposal = JSON.parse(directive.proposal) as ProposalWire;
  const campaign = proposal.campaignUri ? findCampaignByUri(db, proposal.campaignUri) : undefined;
  if (!campaign) throw new UserError("campaign_not_found", 404);
  const startAt = overrides.startAt ?? proposal.startAt;
  if (startAt == null) throw new UserError("action_dates_invalid", 422);
  const action = createAction(services, user, {
    campaignId: campaign.id,
    type: proposal.type,
    title: directive.title,
    startAt,
    meetingPoint: overrides.meetingPoint ?? proposal.meetingPoint,
    notes: directive.body,
    directiveId: directive.id,
  });
  db.update(directives).set({ actionId: action.id }).where(eq(directives.id, directive.id)).run();
  return action;
}
