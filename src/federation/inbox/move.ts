// Move: a remote account moved to another one (Mastodon's account migration).
// Accepted only from the account itself (Fedify checked its signature), when
// the new account, read again from its own server, names the old one in
// `alsoKnownAs`: a forged or one-sided Move changes nothing. Local members who
// followed it follow the new account; our groups move its membership.
import type { InboxContext } from "@fedify/fedify";
import type { Move } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { followersMoved } from "../../members/transfer.ts";
import { aliasesOf } from "../actors.ts";
import { resolveActor } from "../remote.ts";
import { senderOf } from "./common.ts";

export async function onMove(ctx: InboxContext<Services>, move: Move): Promise<void> {
  const { log } = ctx.data;
  // Only an account moves itself: object and actor are the same.
  if (!move.actorId || !move.objectId || !move.targetId || move.objectId.href !== move.actorId.href) return;
  const old = await senderOf(ctx, move);
  if (!old || old.local || old.deletedAt) return;
  if (move.targetId.href === old.uri) return;
  const target = await resolveActor(ctx, move.targetId, { refresh: true });
  if (!target || target.type !== "Person" || target.deletedAt || !aliasesOf(target).includes(old.uri)) {
    log.info({ from: old.uri, to: move.targetId.href }, "Move refused: the target does not name the account in alsoKnownAs");
    return;
  }
  // Already done (a Move delivered again under another id): nothing more to do.
  if (old.movedToId === target.id) return;
  await followersMoved(ctx.data, old, target);
}
