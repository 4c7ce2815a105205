// Outgoing activities about polls: our Question again with new counts (or
// closed), and our members' votes on other servers' polls.
import { Create, Note, Update } from "@fedify/vocab";
import type { Services } from "../services.ts";
import { activityKey } from "./activity-ids.ts";
import type { PostRow } from "../posts/posts.ts";
import type { ActorRow } from "./actors.ts";
import { noteFromPost } from "./convert.ts";
import { changeAudienceOf, context, deliver, mentionIdsOf } from "./send.ts";

/**
 * The Question with its current counts, to every server that received the
 * post. Each Update has its own id: receivers drop an activity id they have
 * already processed, and the post's edit time does not change with votes.
 */
export async function pollUpdated(services: Services, post: PostRow, author: ActorRow): Promise<void> {
  const to = changeAudienceOf(services, post, author, mentionIdsOf(services, post));
  if (to.length === 0) return;
  const question = noteFromPost(context(services), post, author);
  await deliver(services, author, to, new Update({
    id: new URL(`${post.uri}#poll-updates/${activityKey()}`),
    actor: new URL(author.uri),
    object: question,
    tos: question.toIds,
    ccs: question.ccIds,
  }));
}

/**
 * A member's choices on a remote poll, one Note per choice whose `name` is the
 * option's title, addressed to the poll's author only (as Mastodon sends and
 * expects them): the vote is not a post and nobody else receives it.
 */
export async function votesSent(services: Services, voter: ActorRow, pollAuthor: ActorRow, post: PostRow, votes: Array<{ uri: string; title: string }>): Promise<void> {
  for (const vote of votes) {
    const to = new URL(pollAuthor.uri);
    await deliver(services, voter, [pollAuthor], new Create({
      id: new URL(`${vote.uri}/activity`),
      actor: new URL(voter.uri),
      to,
      object: new Note({ id: new URL(vote.uri), attribution: new URL(voter.uri), name: vote.title, replyTarget: new URL(post.uri), to }),
    }));
  }
}
