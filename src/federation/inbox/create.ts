// Create(Note) or Create(Question): a new post from another server, or a vote
// on one of our polls.
import type { InboxContext } from "@fedify/fedify";
import { Event, Note, Page, Question, type Create } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { storeRemoteNote } from "../notes.ts";
import { isPartyAudience } from "../../party/audiences.ts";
import { sameOrigin, senderOf } from "./common.ts";
import { onEventActivity } from "./event.ts";
import { mayBeTerritoryObject, onTerritoryActivity } from "./territory.ts";
import { receivedVote } from "./vote.ts";
import { onProposalActivity } from "./proposal.ts";
import { addressesLocalGroup, noteOfPage, onGroupPost } from "./group.ts";

export async function onCreate(ctx: InboxContext<Services>, create: Create): Promise<void> {
  let object = await create.getObject();
  if (mayBeTerritoryObject(object)) return (await onProposalActivity(ctx, create)) ? undefined : onTerritoryActivity(ctx, create);
  if (object instanceof Event) return onEventActivity(ctx, create);
  // Lemmy's posts to a community (one of our groups) are Pages with a title.
  if (object instanceof Page && addressesLocalGroup(ctx, object)) object = await noteOfPage(object);
  if (!(object instanceof Note || object instanceof Question)) return;
  // The note must be the sender's: same author, same server.
  if (!sameOrigin(object.id, create.actorId) || object.attributionId?.href !== create.actorId?.href) return;
  const author = await senderOf(ctx, create);
  if (!author || receivedVote(ctx.data, object, author)) return;
  const post = await storeRemoteNote(ctx.data, object, author);
  // Addressed to one of our thematic groups: checked and relayed to its members
  // (never a post for the fédération or the party: the group's members are not its audience).
  if (post && !isPartyAudience(post.visibility)) await onGroupPost(ctx, create, object, post, author);
}
