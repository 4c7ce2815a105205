// Outgoing activities. The outbox worker (outbox-worker.ts) calls these for
// what domain code recorded with its change; Fedify signs each delivery and
// puts it in the persistent queue, which retries with back-off while a remote
// server is down.
import { federationFilter } from "../party/modes.ts";
import type { Context } from "@fedify/fedify";
import type { Recipient } from "@fedify/vocab";
import { Accept, Announce, Create, Delete, Follow, Like, Move, PUBLIC_COLLECTION, Reject, Tombstone, Undo, Update } from "@fedify/vocab";
import { and, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import type { Services } from "../services.ts";
import { activityKey } from "./activity-ids.ts";
import { actors, follows, posts } from "../storage/schema.ts";
import type { PostRow } from "../posts/posts.ts";
import { isFederated } from "../posts/visibility.ts";
import { audienceNodeUris, isPartyAudience } from "../party/audiences.ts";
import { actorByUri, resolveActor } from "./remote.ts";
import { forEachAtMost } from "../concurrency.ts";
import type { ActorRow } from "./actors.ts";
import { buildActor } from "./actor-documents.ts";
import { audienceOf as addressingOf, noteFromPost } from "./convert.ts";
import { instant } from "./time.ts";
import { context } from "./context.ts";
import { BACKGROUND_KEY_PREFIX } from "./queue.ts";
import { groupsOfPost } from "../groups/discussion.ts";

export { context };

function recipient(row: DeliveryTarget): Recipient {
  return {
    id: new URL(row.uri),
    inboxId: row.inboxUrl ? new URL(row.inboxUrl) : null,
    endpoints: row.sharedInboxUrl ? { sharedInbox: new URL(row.sharedInboxUrl) } : null,
  };
}

/** Where an activity goes: an actor's inboxes, and its server (for filters). */
export type DeliveryTarget = Pick<ActorRow, "uri" | "inboxUrl" | "sharedInboxUrl" | "domain">;

/**
 * Remote actors that follow `actorId` (accepted follows only), one per shared
 * inbox: deliveries prefer shared inboxes, so a group of 5,000 members on 50
 * servers reads 50 rows, not 5,000 (docs/performance.md). Actors without a
 * shared inbox each count. SQLite takes the other columns from the row whose
 * URI is the `min()`.
 */
export function remoteFollowers(services: Services, actorId: number): DeliveryTarget[] {
  return services.db
    .select({ uri: sql<string>`min(${actors.uri})`, inboxUrl: actors.inboxUrl, sharedInboxUrl: actors.sharedInboxUrl, domain: actors.domain })
    .from(follows)
    .innerJoin(actors, eq(actors.id, follows.followerId))
    .where(and(eq(follows.followingId, actorId), isNotNull(follows.acceptedAt), eq(actors.local, false)))
    .groupBy(sql`coalesce(${actors.sharedInboxUrl}, ${actors.uri})`)
    .all();
}

export function remoteActors(services: Services, ids: number[]): ActorRow[] {
  if (ids.length === 0) return [];
  return services.db
    .select()
    .from(actors)
    .where(and(inArray(actors.id, ids), eq(actors.local, false)))
    .all();
}

/** Who receives a post: never anyone for section posts; followers unless direct; always those mentioned. */
function audienceOf(services: Services, post: PostRow, author: ActorRow, mentionedIds: number[], parent?: PostRow): DeliveryTarget[] {
  // Posts for the fédération or the party go to its nodes only (partyTargets), never to followers or mentions.
  if (!isFederated(post) || isPartyAudience(post.visibility)) return [];
  const byUri = new Map<string, DeliveryTarget>();
  const add = (rows: DeliveryTarget[]) => rows.forEach((r) => byUri.set(r.uri, r));
  if (post.visibility !== "direct") add(remoteFollowers(services, author.id));
  add(remoteActors(services, mentionedIds));
  // Like Mastodon: only public and unlisted replies go to the replied-to author's server.
  if (parent && (post.visibility === "public" || post.visibility === "unlisted")) add(remoteActors(services, [parent.actorId]));
  return [...byUri.values()];
}

/** The post a post replies to, if it is still stored. */
function parentOf(services: Services, post: PostRow): PostRow | undefined {
  return post.inReplyToId ? services.db.select().from(posts).where(eq(posts.id, post.inReplyToId)).get() : undefined;
}

/** The section's own Group actor. */
function sectionActor(services: Services): ActorRow | undefined {
  return services.db
    .select()
    .from(actors)
    .where(and(eq(actors.username, services.config.handle), eq(actors.local, true)))
    .get();
}

/** Whether the section's Group relays (announces) this post to its followers. */
function relayedBySection(post: PostRow, author: ActorRow): boolean {
  return isFederated(post) && post.visibility === "public" && author.type === "Person" && author.local;
}

/** Remote followers of the section that received the Group's Announce of this post. */
function relayAudience(services: Services, post: PostRow, author: ActorRow): DeliveryTarget[] {
  if (!relayedBySection(post, author)) return [];
  const section = sectionActor(services);
  return section ? remoteFollowers(services, section.id) : [];
}

/**
 * Who receives the Update or Delete of a post: every inbox its Create reached
 * (followers, people mentioned, the author of the post replied to) plus the
 * section's followers, who saw it through the Group's Announce. The author's
 * activity itself goes to them, not an Announce of it: Mastodon accepts an
 * Update or Delete from the post's author whoever follows whom, but does not
 * read an Announce whose object is an activity (FEP-1b12 style).
 */
export function changeAudienceOf(services: Services, post: PostRow, author: ActorRow, mentionedIds: number[]): DeliveryTarget[] {
  const byUri = new Map<string, DeliveryTarget>();
  for (const row of audienceOf(services, post, author, mentionedIds, parentOf(services, post))) byUri.set(row.uri, row);
  for (const row of relayAudience(services, post, author)) byUri.set(row.uri, row);
  return [...byUri.values()];
}

/**
 * The node actors of a post's party audience (src/party/audiences.ts), each
 * server's node actor once: looked up here when not known yet (8 at a time),
 * so the work is bounded by the directory's size. Empty for any other post.
 */
async function partyTargets(services: Services, post: PostRow): Promise<DeliveryTarget[]> {
  if (!isPartyAudience(post.visibility) || post.eventId != null) return [];
  const out: DeliveryTarget[] = [];
  await forEachAtMost(audienceNodeUris(services, post.visibility), 8, async (uri) => {
    const actor = actorByUri(services.db, uri) ?? (await resolveActor(context(services), uri).catch(() => null));
    // Only the node actor the directory names, on its own server.
    if (actor && !actor.local && actor.uri === uri) out.push(actor);
  });
  return out;
}

/**
 * Sends `activity` to `to` through Fedify's queue. `background`: a
 * housekeeping notice sent after whatever else is due (federation/queue.ts);
 * its name also keeps that notice's deliveries to one server in order.
 */
export async function deliver(services: Services, sender: ActorRow, to: DeliveryTarget[], activity: Parameters<Context<Services>["sendActivity"]>[2], { background }: { background?: string } = {}) {
  // The federation mode (party/modes.ts): nothing is sent to a server it refuses.
  const allowed = federationFilter(services);
  const targets = to.filter((r) => r.inboxUrl && allowed(new URL(r.inboxUrl).host));
  if (targets.length === 0) return;
  await context(services).sendActivity({ identifier: sender.username }, targets.map(recipient), activity, {
    preferSharedInbox: true,
    ...(background ? { orderingKey: `${BACKGROUND_KEY_PREFIX}${background}` } : {}),
  });
}

export function mentionIdsOf(services: Services, post: PostRow): number[] {
  return services.db.query.mentions.findMany({ where: (m, { eq }) => eq(m.postId, post.id) }).sync().map((m) => m.actorId);
}

export async function postCreated(services: Services, post: PostRow, author: ActorRow, parent?: PostRow): Promise<void> {
  await relayBySection(services, post, author);
  const to = [...audienceOf(services, post, author, mentionIdsOf(services, post), parent), ...(await partyTargets(services, post))];
  if (to.length === 0) return;
  const ctx = context(services);
  const note = noteFromPost(ctx, post, author);
  await deliver(services, author, to, new Create({
    id: new URL(`${post.uri}/activity`),
    actor: new URL(author.uri),
    object: note,
    tos: note.toIds,
    ccs: note.ccIds,
    published: instant(post.publishedAt),
  }));
}

/**
 * The section's Group actor boosts its members' public posts, so that whoever
 * follows the section (its fédération, other sections, sympathisants on any
 * server) sees the section's public activity in one place.
 */
async function relayBySection(services: Services, post: PostRow, author: ActorRow): Promise<void> {
  if (!relayedBySection(post, author)) return;
  const section = sectionActor(services);
  if (!section) return;
  const followers = remoteFollowers(services, section.id);
  if (followers.length === 0) return;
  await deliver(services, section, followers, new Announce({
    id: new URL(`${section.uri}/announces/${post.id}`),
    actor: new URL(section.uri),
    object: new URL(post.uri),
    to: PUBLIC_COLLECTION,
    cc: new URL(`${section.uri}/followers`),
    published: instant(post.publishedAt),
  }));
}

/** The author's Update of a post (also relayed by the groups the post is in). */
export function updateOf(services: Services, post: PostRow, author: ActorRow): Update {
  const note = noteFromPost(context(services), post, author);
  return new Update({
    id: new URL(`${post.uri}#updates/${post.editedAt ?? Date.now()}`),
    actor: new URL(author.uri),
    object: note,
    tos: note.toIds,
    ccs: note.ccIds,
  });
}

export async function postUpdated(services: Services, post: PostRow, author: ActorRow): Promise<void> {
  const to = [...changeAudienceOf(services, post, author, mentionIdsOf(services, post)), ...(await partyTargets(services, post))];
  if (to.length === 0) return;
  await deliver(services, author, to, updateOf(services, post, author));
}

/** `mentionedIds`: read before the post was removed (its mentions go with it). */
export async function postDeleted(services: Services, post: PostRow, author: ActorRow, mentionedIds: number[]): Promise<void> {
  const to = [...changeAudienceOf(services, post, author, mentionedIds), ...(await partyTargets(services, post))];
  if (to.length === 0) return;
  await deliver(services, author, to, deleteOf(services, post, author, mentionedIds));
}

/** The author's Delete of a post (also relayed by the groups the post was in). */
export function deleteOf(services: Services, post: PostRow, author: ActorRow, mentionedIds: number[]): Delete {
  // Addressed like the post itself: a followers-only or direct post's Delete
  // is not made public.
  const mentioned = mentionedIds.length
    ? services.db.select({ uri: actors.uri }).from(actors).where(inArray(actors.id, mentionedIds)).all().map((r) => new URL(r.uri))
    : [];
  const addressing = addressingOf(post.visibility, context(services).getFollowersUri(author.username), mentioned);
  return new Delete({
    id: new URL(`${post.uri}#delete`),
    actor: new URL(author.uri),
    object: new Tombstone({ id: new URL(post.uri) }),
    tos: addressing.to,
    ccs: addressing.cc,
  });
}

/**
 * Who receives a like: the post's remote author, and the servers of the
 * remote groups the post is in, which relay it to their members (FEP-1b12).
 */
function reactionAudience(services: Services, post: PostRow): ActorRow[] {
  const groupActors = groupsOfPost(services.db, post.id)
    .filter((l) => !l.group.local)
    .map((l) => l.group.actorId)
    .filter((id): id is number => id != null);
  return remoteActors(services, [post.actorId, ...groupActors]);
}

/** Returns the Like, which the groups the post is in relay (group-relays.ts). */
export async function liked(services: Services, likeUri: string, actor: ActorRow, post: PostRow): Promise<Like> {
  const like = new Like({ id: new URL(likeUri), actor: new URL(actor.uri), object: new URL(post.uri) });
  await deliver(services, actor, reactionAudience(services, post), like);
  return like;
}

export async function unliked(services: Services, likeUri: string, actor: ActorRow, post: PostRow): Promise<Undo> {
  const undo = new Undo({
    id: new URL(`${likeUri}/undo`),
    actor: new URL(actor.uri),
    object: new Like({ id: new URL(likeUri), actor: new URL(actor.uri), object: new URL(post.uri) }),
  });
  await deliver(services, actor, reactionAudience(services, post), undo);
  return undo;
}

function announceOf(reblog: PostRow, actor: ActorRow, original: PostRow): Announce {
  return new Announce({
    id: new URL(reblog.uri),
    actor: new URL(actor.uri),
    object: new URL(original.uri),
    to: PUBLIC_COLLECTION,
    cc: new URL(`${actor.uri}/followers`),
    published: instant(reblog.publishedAt),
  });
}

function boostAudience(services: Services, actor: ActorRow, original: PostRow): DeliveryTarget[] {
  return [...remoteFollowers(services, actor.id), ...remoteActors(services, [original.actorId])];
}

export async function announced(services: Services, reblog: PostRow, actor: ActorRow, original: PostRow): Promise<void> {
  await deliver(services, actor, boostAudience(services, actor, original), announceOf(reblog, actor, original));
}

export async function unannounced(services: Services, reblog: PostRow, actor: ActorRow, original: PostRow): Promise<void> {
  await deliver(services, actor, boostAudience(services, actor, original), new Undo({
    id: new URL(`${reblog.uri}/undo`),
    actor: new URL(actor.uri),
    object: announceOf(reblog, actor, original),
  }));
}

/** Tells followers' servers that a local actor's profile changed. */
export async function profileUpdated(services: Services, actor: ActorRow): Promise<void> {
  const document = await buildActor(context(services), actor);
  await deliver(services, actor, remoteFollowers(services, actor.id), new Update({
    id: new URL(`${actor.uri}#updates/${activityKey()}`),
    actor: new URL(actor.uri),
    object: document,
    to: PUBLIC_COLLECTION,
  }));
}

export async function followRequested(services: Services, followUri: string, follower: ActorRow, target: ActorRow): Promise<void> {
  await deliver(services, follower, [target], new Follow({ id: new URL(followUri), actor: new URL(follower.uri), object: new URL(target.uri) }));
}

export async function followUndone(services: Services, followUri: string, follower: ActorRow, target: ActorRow): Promise<void> {
  await deliver(services, follower, [target], new Undo({
    id: new URL(`${followUri}/undo`),
    actor: new URL(follower.uri),
    object: new Follow({ id: new URL(followUri), actor: new URL(follower.uri), object: new URL(target.uri) }),
  }));
}

export async function followAnswered(services: Services, accepted: boolean, followUri: string, follower: ActorRow, target: ActorRow): Promise<void> {
  const follow = new Follow({ id: new URL(followUri), actor: new URL(follower.uri), object: new URL(target.uri) });
  // The answer is the target's activity, so its id lives on the target's origin.
  const values = { id: new URL(`${target.uri}#${accepted ? "accepts" : "rejects"}/${activityKey()}`), actor: new URL(target.uri), object: follow };
  await deliver(services, target, [follower], accepted ? new Accept(values) : new Reject(values));
}

/**
 * `Move` of a local account to its new one: to its followers' servers, to the
 * servers of the groups it belongs to (they move the membership) and to the
 * new account's server. Receivers check the new actor's `alsoKnownAs` themselves.
 */
export async function accountMoved(services: Services, actor: ActorRow, target: ActorRow): Promise<void> {
  const groupsFollowed = services.db
    .select({ id: follows.followingId })
    .from(follows)
    .where(eq(follows.followerId, actor.id))
    .all()
    .map((r) => r.id);
  const to = new Map<string, DeliveryTarget>();
  for (const row of [...remoteFollowers(services, actor.id), ...remoteActors(services, groupsFollowed).filter((a) => a.type === "Group"), target]) to.set(row.uri, row);
  await deliver(services, actor, [...to.values()], new Move({
    id: new URL(`${actor.uri}#moves/${activityKey()}`),
    actor: new URL(actor.uri),
    object: new URL(actor.uri),
    target: new URL(target.uri),
    to: new URL(`${actor.uri}/followers`),
  }));
}

/**
 * Every server this instance knows (one inbox each, the shared one when there
 * is one), as Mastodon does for a deleted account: whoever may hold the
 * account's posts, answers or memberships (followers' servers, groups',
 * organisers') is among them, and the follow rows are gone by now.
 */
export function knownServers(services: Services): DeliveryTarget[] {
  return services.db
    .select({ uri: sql<string>`min(${actors.uri})`, inboxUrl: actors.inboxUrl, sharedInboxUrl: actors.sharedInboxUrl, domain: actors.domain })
    .from(actors)
    .where(and(eq(actors.local, false), isNull(actors.deletedAt), isNotNull(actors.inboxUrl)))
    .groupBy(sql`coalesce(${actors.sharedInboxUrl}, ${actors.inboxUrl})`)
    .all();
}

/** `Delete` of an erased local account (object: the actor itself), signed with the keys its tombstone keeps. */
export async function accountDeleted(services: Services, actor: ActorRow): Promise<void> {
  await deliver(services, actor, knownServers(services), new Delete({
    id: new URL(`${actor.uri}#delete`),
    actor: new URL(actor.uri),
    object: new URL(actor.uri),
    to: PUBLIC_COLLECTION,
  }));
}
