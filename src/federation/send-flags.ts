// Reports (`Flag`) sent to other servers, shaped as Mastodon sends them: from
// the instance's actor (so the reporting member is not named to another
// server), `object` = [the reported account, the reported post], `content` =
// the comment. It goes to the author's server and to the servers of the
// remote groups the post is in; a group's server reads it as a report to the
// group's moderators (to: the group, as Lemmy addresses its reports).
import { Flag } from "@fedify/vocab";
import type { Services } from "../services.ts";
import { INSTANCE_ACTOR_USERNAME } from "../members/members.ts";
import type { PostRow } from "../posts/posts.ts";
import { findLocalActor, type ActorRow } from "./actors.ts";
import { deliver } from "./send.ts";

export async function sendFlag(services: Services, input: { uri: string; author: ActorRow; post: PostRow; comment: string; groups: ActorRow[] }): Promise<void> {
  const to = [...input.groups, ...(input.author.local ? [] : [input.author])].filter((a) => !a.local);
  const instance = findLocalActor(services.db, INSTANCE_ACTOR_USERNAME);
  if (to.length === 0 || !instance) return;
  await deliver(services, instance, to, new Flag({
    id: new URL(input.uri),
    actor: new URL(instance.uri),
    objects: [new URL(input.author.uri), new URL(input.post.uri)],
    content: input.comment,
    tos: input.groups.map((g) => new URL(g.uri)),
  }));
}
