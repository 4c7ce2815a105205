// Join, TentativeAccept and Leave of one of our events: a remote person
// answers "je viens", "peut-être" or "je ne viens plus".
import type { InboxContext } from "@fedify/fedify";
import type { Join, Leave, TentativeAccept } from "@fedify/vocab";
import { eq } from "drizzle-orm";
import { UserError } from "../../errors.ts";
import type { Services } from "../../services.ts";
import { actors, events } from "../../storage/schema.ts";
import { answerLocalEvent, type Answer } from "../../agenda/rsvp.ts";
import { mayAnswerFromAfar } from "../../agenda/audiences.ts";
import { joinAnswered } from "../send-events.ts";
import { senderOf } from "./common.ts";

async function answer(ctx: InboxContext<Services>, activity: Join | Leave | TentativeAccept, kind: Answer): Promise<void> {
  const { db } = ctx.data;
  if (!activity.objectId || !activity.id) return;
  const event = db.select().from(events).where(eq(events.uri, activity.objectId.href)).get();
  // Only our own events that leave the instance can be joined from outside.
  if (!event || event.audience === "section") return;
  const organiser = db.select().from(actors).where(eq(actors.id, event.actorId)).get();
  if (!organiser?.local) return;
  const actor = await senderOf(ctx, activity);
  if (!actor) return;
  // An event for groups: their members only; fédération-wide: members of the fédération's sections only.
  if (!mayAnswerFromAfar(ctx.data, event, actor)) {
    ctx.data.log.info({ actor: actor.uri, event: event.uri }, "answer refused: not in the event's audience");
    if (kind !== "not_going") await joinAnswered(ctx.data, event, actor, activity.id.href, false);
    return;
  }
  try {
    await answerLocalEvent(ctx.data, event, actor, kind, kind === "not_going" ? null : activity.id.href);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    // Cancelled or invitation-only: say no, so the other side does not wait forever.
    await joinAnswered(ctx.data, event, actor, activity.id.href, false);
  }
}

export const onJoin = (ctx: InboxContext<Services>, join: Join) => answer(ctx, join, "going");
export const onTentativeAccept = (ctx: InboxContext<Services>, tentative: TentativeAccept) => answer(ctx, tentative, "maybe");
export const onLeave = (ctx: InboxContext<Services>, leave: Leave) => answer(ctx, leave, "not_going");
