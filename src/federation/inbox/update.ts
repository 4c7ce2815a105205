// Update: an edited Note, a Question with new vote counts, a changed profile,
// or a member's new membership attestation (membership.ts).
import type { InboxContext } from "@fedify/fedify";
import { Event, isActor, Note, Question, type Object as APObject, type Update } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { upsertRemoteActor } from "../remote.ts";
import { storeRemoteNote } from "../notes.ts";
import { isPartyAudience } from "../../party/audiences.ts";
import { sameOrigin, senderOf } from "./common.ts";
import { onEventActivity } from "./event.ts";
import { onProposalActivity } from "./proposal.ts";
import { mayBeTerritoryObject, onTerritoryActivity } from "./territory.ts";
import { localGroupLinks, onGroupPostChanged } from "./group.ts";
import { attestationIn, onMembershipUpdate } from "./membership.ts";

export async function onUpdate(ctx: InboxContext<Services>, update: Update): Promise<void> {
  const object = await update.getObject();
  const attestation = mayBeTerritoryObject(object) ? await attestationIn(object) : null;
  if (attestation !== null) return onMembershipUpdate(ctx, update, object as APObject, attestation);
  if (mayBeTerritoryObject(object)) return (await onProposalActivity(ctx, update)) ? undefined : onTerritoryActivity(ctx, update);
  if (object instanceof Event) return onEventActivity(ctx, update);
  if (!object?.id || !sameOrigin(object.id, update.actorId)) return;
  if (isActor(object)) {
    if (object.id.href === update.actorId?.href) await upsertRemoteActor(ctx.data.db, object);
    return;
  }
  if ((object instanceof Note || object instanceof Question) && object.attributionId?.href === update.actorId?.href) {
    const author = await senderOf(ctx, update);
    // storeRemoteNote refuses to change a post whose author is someone else.
    const post = author ? await storeRemoteNote(ctx.data, object, author) : null;
    // An edit of a post our groups relayed is relayed too.
    if (post && author && !isPartyAudience(post.visibility)) await onGroupPostChanged(ctx, localGroupLinks(ctx, post), post, author, update);
  }
}
