// Accept(Follow): a remote actor approved one of our members' follow requests
// (or our node's oversight request); Accept of an RSVP; receipt of a report.
import type { InboxContext } from "@fedify/fedify";
import type { Accept } from "@fedify/vocab";
import { and, eq } from "drizzle-orm";
import type { Services } from "../../services.ts";
import { actors, follows } from "../../storage/schema.ts";
import { answerReceived } from "../../agenda/rsvp.ts";
import { oversightAnswered } from "../../territory/links.ts";
import { afterChildLinked } from "../../territory/sync.ts";
import { reportAcknowledged } from "../../reports/reports.ts";

export async function onAccept(ctx: InboxContext<Services>, accept: Accept): Promise<void> {
  const followUri = accept.objectId?.href;
  if (!followUri || !accept.actorId) return;
  const { db } = ctx.data;
  const target = db.select().from(actors).where(eq(actors.uri, accept.actorId.href)).get();
  if (!target) return;
  // Only the followed actor can accept: match both the Follow's id and its object.
  db.update(follows)
    .set({ acceptedAt: Date.now() })
    .where(and(eq(follows.uri, followUri), eq(follows.followingId, target.id)))
    .run();
  // Or the organiser of an event accepted one of our members' Join.
  answerReceived(db, followUri, target.id, true);
  if (oversightAnswered(db, followUri, target, true)) await afterChildLinked(ctx.data, target);
  reportAcknowledged(db, followUri, "Accept", target);
}
