// Which local groups relay a change or a like of a post they hold (the
// activities themselves are in send-groups.ts). Called by the outbox worker
// for our members' posts and by the inbox for other servers' activities.
import { Update, type Activity } from "@fedify/vocab";
import type { Services } from "../services.ts";
import type { PostRow } from "../posts/posts.ts";
import { groupsOfPost, isHidden } from "../groups/discussion.ts";
import { groupActor, isBanned, isMember, roleOf, type GroupRow } from "../groups/groups.ts";
import type { ActorRow } from "./actors.ts";
import { relayGroupChange, relayGroupReaction } from "./send-groups.ts";

/** An edit or deletion of a post that local groups relayed: they relay the change too. */
export async function groupPostChanged(services: Services, links: Array<{ group: GroupRow }>, post: PostRow, author: ActorRow, change: Activity): Promise<void> {
  for (const { group } of links) {
    if (!group.local || group.state !== "active") continue;
    // A hidden post's edits are not relayed; its deletion still is.
    if (change instanceof Update && isHidden(services.db, group, post.id)) continue;
    const actor = groupActor(services.db, group);
    if (actor) await relayGroupChange(services, group, actor, post, author, change);
  }
}

/**
 * A like of a post in local groups (or its undo), by a local member or received
 * from another server: each local group relays it to its members' servers if
 * the liker is a member (or owner, moderator) and not banned, and the post is
 * not hidden. An undo is relayed whoever sends it: it only ever removes that
 * actor's own like.
 */
export async function groupPostReacted(services: Services, post: PostRow, liker: ActorRow, activity: Activity, undo = false): Promise<void> {
  const { db } = services;
  for (const { group } of groupsOfPost(db, post.id)) {
    if (!group.local || group.state !== "active" || isHidden(db, group, post.id)) continue;
    if (!undo && (isBanned(db, group, liker) || (!isMember(db, group, liker.id) && !roleOf(db, group, liker.id)))) continue;
    const actor = groupActor(db, group);
    if (actor) await relayGroupReaction(services, group, actor, liker, activity);
  }
}
