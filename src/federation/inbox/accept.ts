// Accept(Follow): a remote actor approved one of our members' follow requests
// (or our node's oversight request); Accept of an RSVP; receipt of a report.
import type { InboxContext } from "@fedify/fedify";
import { Follow, type Accept } from "@fedify/vocab";
import { and, eq } from "drizzle-orm";
import type { Services } from "../../services.ts";
import { actors, follows } from "../../storage/schema.ts";
import { answerReceived } from "../../agenda/rsvp.ts";
import { oversightAnswered } from "../../territory/links.ts";
import { afterChildLinked } from "../../territory/sync.ts";
import { reportAcknowledged } from "../../reports/reports.ts";
import { acceptMovedMembership, recentlyTransferredIn } from "../../members/transfer.ts";
import { localActorOf, senderOf } from "./common.ts";

export async function onAccept(ctx: InboxContext<Services>, accept: Accept): Promise<void> {
  const followUri = accept.objectId?.href;
  if (!followUri || !accept.actorId) return;
  const { db } = ctx.data;
  const known = db.select().from(actors).where(eq(actors.uri, accept.actorId.href)).get();
  // Only the followed actor can accept: match both the Follow's id and its object.
  const updated = known
    ? db.update(follows).set({ acceptedAt: Date.now() }).where(and(eq(follows.uri, followUri), eq(follows.followingId, known.id))).run().changes
    : 0;
  // Or a group moved the membership of a member's old account to their account
  // here (members/transfer.ts); the group may be new to us. (Looked at only
  // while a transfer is recent: reading the Accept's object may mean a fetch.)
  if (!updated && recentlyTransferredIn(db)) {
    // The Follow names its id on the old server: embedded by the group that signed the Accept, read as sent (checked below).
    const follow = await accept.getObject({ crossOrigin: "trust" }).catch(() => null);
    const member = follow instanceof Follow && follow.objectId?.href === accept.actorId.href ? localActorOf(ctx, follow.actorId) : undefined;
    if (member && recentlyTransferredIn(db, member.id)) {
      const group = known ?? (await senderOf(ctx, accept));
      if (group && acceptMovedMembership(db, member, group, followUri)) return;
    }
  }
  const target = known;
  if (!target) return;
  // Or the organiser of an event accepted one of our members' Join.
  answerReceived(db, followUri, target.id, true);
  if (oversightAnswered(db, followUri, target, true)) await afterChildLinked(ctx.data, target);
  reportAcknowledged(db, followUri, "Accept", target);
}
