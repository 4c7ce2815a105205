// What a local thematic group sends (FEP-1b12): it announces its members'
// posts and their changes to every member's server.
//
// - A new post in a **public** group: two Announces to every member's server,
//   as Lemmy does for its communities. First the `Announce` of the author's
//   `Create` (FEP-1b12): Lemmy reads only this one, and checks who did it;
//   Coopol too. Then the `Announce` of the Note's URI (a boost), which is all
//   Mastodon, Pleroma and Misskey read (they ignore an Announce of an
//   activity) and which they show as a boost, as for Lemmy and Guppe groups.
//   Both to Public and the group's followers. A Coopol receiver keeps the post
//   once (inbox/group.ts, inbox/announce.ts).
// - A new post in a **members-only** group, and every edit and deletion:
//   `Announce` of the author's activity itself (Create, Update, Delete),
//   addressed to the group's followers only (to Public as well for a public
//   group's changes). Receivers check it (inbox/group.ts) before applying it.
// - A member's like of a post of the group, and its undo: `Announce` of the
//   `Like` / `Undo` as received, the same way (relayGroupReaction).
import type { Context } from "@fedify/fedify";
import { Announce, Create, PUBLIC_COLLECTION, Undo, type Activity } from "@fedify/vocab";
import { eq, sql } from "drizzle-orm";
import type { Services } from "../services.ts";
import { newId } from "../storage/ids.ts";
import { follows, posts, timelineEntries, users } from "../storage/schema.ts";
import { fanOut, removePost, type PostRow } from "../posts/posts.ts";
import type { GroupRow } from "../groups/groups.ts";
import type { ActorRow } from "./actors.ts";
import { noteFromPost } from "./convert.ts";
import { context, deliver, remoteFollowers } from "./send.ts";
import { activityKey } from "./activity-ids.ts";
import { instant } from "./time.ts";

/** Puts a post in the home timeline of the group's local members. */
export function fanOutToMembers(services: Services, groupActorId: number, postId: number): void {
  services.db.run(sql`
    insert or ignore into ${timelineEntries} (user_id, post_id)
    select ${users.id}, ${postId} from ${follows}
      join ${users} on ${users.actorId} = ${follows.followerId}
      where ${follows.followingId} = ${groupActorId} and ${follows.acceptedAt} is not null`);
}

/** The author's Create, built again for a local post (remote authors' activities are relayed as received). */
function createOf(ctx: Context<Services>, post: PostRow, author: ActorRow): Create {
  const note = noteFromPost(ctx, post, author);
  return new Create({ id: new URL(`${post.uri}/activity`), actor: new URL(author.uri), object: note, tos: note.toIds, ccs: note.ccIds, published: instant(post.publishedAt) });
}

export async function relayGroupPost(services: Services, group: GroupRow, actor: ActorRow, post: PostRow, author: ActorRow, received?: Activity): Promise<void> {
  const { db } = services;
  const ctx = context(services);
  const followers = ctx.getFollowersUri(actor.username);
  const announceUri = `${actor.uri}/announces/${post.id}`;
  const members = remoteFollowers(services, actor.id);
  if (group.visibility === "public") {
    // The boost is kept as a post of the group: local members see it in their
    // home timeline (fanOut reaches the group's followers), like a boost.
    const boost = db.transaction((tx) => {
      const row = tx
        .insert(posts)
        .values({ id: newId(), uri: announceUri, actorId: actor.id, reblogOfId: post.id, visibility: "public", publishedAt: Date.now() })
        .onConflictDoNothing()
        .returning()
        .get();
      if (!row) return null;
      tx.update(posts).set({ reblogsCount: sql`${posts.reblogsCount} + 1` }).where(eq(posts.id, post.id)).run();
      fanOut(tx, row);
      return row;
    });
    if (boost) services.events.emit("post.created", boost);
    // Kept already: this outbox row is being sent again after a crash.
    const announced = boost ?? db.select().from(posts).where(eq(posts.uri, announceUri)).get();
    if (!announced) return;
    await deliver(services, actor, members, new Announce({
      id: new URL(`${announceUri}/activity`),
      actor: new URL(actor.uri),
      object: received ?? createOf(ctx, post, author),
      to: PUBLIC_COLLECTION,
      cc: followers,
      published: instant(announced.publishedAt),
    }));
    await deliver(services, actor, members, new Announce({
      id: new URL(announceUri),
      actor: new URL(actor.uri),
      object: new URL(post.uri),
      to: PUBLIC_COLLECTION,
      cc: followers,
      published: instant(announced.publishedAt),
    }));
    return;
  }
  fanOutToMembers(services, actor.id, post.id);
  await deliver(services, actor, members, new Announce({
    id: new URL(announceUri),
    actor: new URL(actor.uri),
    object: received ?? createOf(ctx, post, author),
    to: followers,
    published: instant(Date.now()),
  }));
}

/** Relays an Update or Delete of a post the group relayed, to the same members' servers. */
export async function relayGroupChange(services: Services, group: GroupRow, actor: ActorRow, _post: PostRow, author: ActorRow, change: Activity): Promise<void> {
  const followers = context(services).getFollowersUri(actor.username);
  const members = remoteFollowers(services, actor.id);
  // Mastodon does not read an Announce of an activity: the author's own Update
  // or Delete also goes to the members' servers, as the section relay does.
  if (author.local && group.visibility === "public") await deliver(services, author, members, change);
  await deliver(services, actor, members, new Announce({
    id: new URL(`${actor.uri}/announces/${activityKey(actor.id)}`),
    actor: new URL(actor.uri),
    object: change,
    ...(group.visibility === "public" ? { to: PUBLIC_COLLECTION, cc: followers } : { to: followers }),
    published: instant(Date.now()),
  }));
}

/**
 * Relays a member's reaction to a post of the group (its `Like`, or the `Undo`
 * of it) as FEP-1b12 has it (Lemmy does the same for votes): `Announce` of the
 * activity itself, to the servers of the group's remote members, so that
 * every copy of the post counts it. The liker's own server already has it.
 */
export async function relayGroupReaction(services: Services, group: GroupRow, actor: ActorRow, liker: ActorRow, activity: Activity): Promise<void> {
  const followers = context(services).getFollowersUri(actor.username);
  const members = remoteFollowers(services, actor.id).filter((m) => m.domain !== liker.domain);
  await deliver(services, actor, members, new Announce({
    id: new URL(`${actor.uri}/announces/${activityKey(actor.id)}`),
    actor: new URL(actor.uri),
    object: activity,
    ...(group.visibility === "public" ? { to: PUBLIC_COLLECTION, cc: followers } : { to: followers }),
    published: instant(Date.now()),
  }));
}

/**
 * A moderator took a post out of the group: the group takes back its
 * Announce (`Undo`), which Mastodon reads as an un-boost and Coopol as "no
 * longer in the group" (inbox/undo.ts). Same id as the Announce it undoes.
 */
export async function unrelayGroupPost(services: Services, group: GroupRow, actor: ActorRow, post: PostRow): Promise<void> {
  const { db } = services;
  const announceUri = `${actor.uri}/announces/${post.id}`;
  const boost = db.select().from(posts).where(eq(posts.uri, announceUri)).get();
  if (boost) removePost(services, boost);
  const followers = context(services).getFollowersUri(actor.username);
  await deliver(services, actor, remoteFollowers(services, actor.id), new Undo({
    id: new URL(`${announceUri}/undo`),
    actor: new URL(actor.uri),
    object: new Announce({
      id: new URL(announceUri),
      actor: new URL(actor.uri),
      object: new URL(post.uri),
      ...(group.visibility === "public" ? { to: PUBLIC_COLLECTION, cc: followers } : { to: followers }),
    }),
    ...(group.visibility === "public" ? { to: PUBLIC_COLLECTION, cc: followers } : { to: followers }),
  }));
}
