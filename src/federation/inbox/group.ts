// Thematic groups in the inbox (FEP-1b12), both ends:
// - as the group's server: a member's Create, Update or Delete addressed to
//   one of our groups is checked and relayed (discussion.ts, send-groups.ts);
// - as a member's server: a remote group's Announce of an activity (a post,
//   its edit or deletion, a member's like or its undo). The group vouches only
//   for who may read it; that the author really wrote it is checked here,
//   never taken on the group's word (see verifyRelayed, onGroupReaction); and
//   a public group's boost, whose Note gives the thread its title.
import type { InboxContext } from "@fedify/fedify";
import { verifyObject } from "@fedify/fedify";
import { Activity, Create, Delete, Like, Note, Page, Question, Tombstone, Undo, Update, type Announce } from "@fedify/vocab";
import { and, eq, isNotNull } from "drizzle-orm";
import type { Services } from "../../services.ts";
import { actors, follows, mentions, posts, users } from "../../storage/schema.ts";
import { findPostByUri, removePost, type PostRow } from "../../posts/posts.ts";
import { groupOfActor, localGroupOfActor, rememberRemoteGroup, type GroupRow } from "../../groups/groups.ts";
import { groupsAmong, groupsOfPost, postAddressedToGroups, recordGroupPost, unrecordGroupPost, cleanTitle, type GroupLink } from "../../groups/discussion.ts";
import type { ActorRow } from "../actors.ts";
import { fetchNote, storeRemoteNote } from "../notes.ts";
import { actorByUri, resolveActor } from "../remote.ts";
import { fanOutToMembers } from "../send-groups.ts";
import { groupPostChanged } from "../group-relays.ts";
import { senderOf } from "./common.ts";
import { storeLike } from "./like.ts";
import { removeLike } from "./like.ts";

type Json = Record<string, unknown>;

/** Whether an incoming object is addressed to one of our groups (to, cc, audience). */
export function addressesLocalGroup(ctx: InboxContext<Services>, object: { toIds: URL[]; ccIds: URL[]; audienceIds: URL[] }): boolean {
  const { db } = ctx.data;
  return [...object.toIds, ...object.ccIds, ...object.audienceIds].some((uri) => {
    const actor = actorByUri(db, uri.href);
    return !!actor && !!localGroupOfActor(db, actor.id);
  });
}

/** Lemmy posts to a community as a Page with a title: read as a Note with `name`. */
export async function noteOfPage(page: Page): Promise<Note> {
  const tags = [];
  for await (const tag of page.getTags()) tags.push(tag);
  return new Note({
    id: page.id,
    attribution: page.attributionId,
    name: page.name,
    content: page.content,
    summary: page.summary,
    sensitive: page.sensitive,
    tos: page.toIds,
    ccs: page.ccIds,
    audiences: page.audienceIds,
    published: page.published,
    updated: page.updated,
    url: page.url,
    replyTarget: page.replyTargetId,
    tags,
  });
}

/** After a remote post is stored: the local groups it addresses take it (or not) and relay it. */
export async function onGroupPost(ctx: InboxContext<Services>, create: Create, note: Note | Question, post: PostRow, author: ActorRow): Promise<void> {
  const { db } = ctx.data;
  const mentioned = db.select({ id: mentions.actorId }).from(mentions).where(eq(mentions.postId, post.id)).all().map((m) => m.id);
  const audience = note.audienceIds.map((u) => actorByUri(db, u.href)?.id).filter((id): id is number => id != null);
  const targets = groupsAmong(db, [...new Set([...mentioned, ...audience])]).filter((g) => g.local);
  if (targets.length) postAddressedToGroups(ctx.data, post, author, targets, { title: note.name?.toString(), received: await create.toJsonLd() });
}

/** Local groups a post is in, read before a change (a deleted post's links go with it). */
export function localGroupLinks(ctx: InboxContext<Services>, post: PostRow): GroupLink[] {
  return groupsOfPost(ctx.data.db, post.id).filter((l) => l.group.local);
}

/** An edit or deletion by the author of a post our groups relayed: relayed as received. */
export async function onGroupPostChanged(ctx: InboxContext<Services>, links: GroupLink[], post: PostRow, author: ActorRow, change: Activity): Promise<void> {
  if (links.length) await groupPostChanged(ctx.data, links, post, author, change);
}

function hasLocalMember(services: Services, groupActorId: number): boolean {
  return !!services.db
    .select({ id: follows.id })
    .from(follows)
    .innerJoin(actors, eq(actors.id, follows.followerId))
    .where(and(eq(follows.followingId, groupActorId), isNotNull(follows.acceptedAt), eq(actors.local, true)))
    .get();
}

/** A local member of the group, to sign fetches with: the author's server may show a members-only post to a member. */
function localMemberOf(services: Services, groupActorId: number): string | null {
  return (
    services.db
      .select({ username: users.username })
      .from(follows)
      .innerJoin(users, eq(users.actorId, follows.followerId))
      .where(and(eq(follows.followingId, groupActorId), isNotNull(follows.acceptedAt)))
      .get()?.username ?? null
  );
}

/**
 * An Announce whose object is an activity (FEP-1b12) from a group our members
 * belong to. Returns false when the object is not an activity (a plain boost).
 */
export async function onGroupAnnounce(ctx: InboxContext<Services>, announce: Announce): Promise<boolean> {
  const services = ctx.data;
  const raw = (await announce.toJsonLd()) as Json;
  const embedded = raw.object && typeof raw.object === "object" ? (raw.object as Json) : null;
  if (!embedded || !["Create", "Update", "Delete", "Like", "Undo"].includes(String(embedded.type))) return false;
  const sender = await senderOf(ctx, announce);
  // Only from a group some member of ours joined: we asked for these activities.
  if (!sender || sender.type !== "Group" || sender.local || !hasLocalMember(services, sender.id)) {
    services.log.info({ activity: announce.id?.href, actor: announce.actorId?.href }, "group: Announce of an activity, not from a group our members joined, ignored");
    return true;
  }
  const group = groupOfActor(services.db, sender.id) ?? rememberRemoteGroup(services.db, sender);
  if (!group) return true;
  // Parsed without fetching it again (activity ids are rarely served); checked below.
  const inner = await announce.getObject({ crossOrigin: "trust" });
  if (inner instanceof Like || inner instanceof Undo) {
    await onGroupReaction(ctx, inner, raw, embedded, sender, group);
    return true;
  }
  if (!(inner instanceof Create || inner instanceof Update || inner instanceof Delete) || !inner.actorId || !inner.objectId) return true;
  const object = await verifyRelayed(ctx, inner, raw, embedded, sender);
  if (object === undefined) {
    services.log.info({ group: sender.uri, activity: inner.id?.href }, "group: relayed activity not verified, dropped");
    return true;
  }
  if (inner instanceof Delete) {
    const post = findPostByUri(services.db, inner.objectId.href);
    const author = actorByUri(services.db, inner.actorId.href);
    if (post && author && post.actorId === author.id) removePost(services, post);
    return true;
  }
  if (!(object instanceof Note || object instanceof Question) || object.attributionId?.href !== inner.actorId.href) return true;
  const author = await resolveActor(ctx, inner.actorId);
  if (!author) return true;
  const post = await storeRemoteNote(services, object, author);
  if (post && inner instanceof Create) {
    recordGroupPost(services.db, group, post, cleanTitle(object.name?.toString()));
    // A public group also boosts the post (for Mastodon): if that boost came first, the post is in the timelines already.
    if (!boostedBy(services, sender.id, post.id)) fanOutToMembers(services, sender.id, post.id);
  }
  return true;
}

function boostedBy(services: Services, actorId: number, postId: number): boolean {
  return !!services.db.select({ id: posts.id }).from(posts).where(and(eq(posts.actorId, actorId), eq(posts.reblogOfId, postId))).get();
}

/**
 * A remote group's plain boost of another server's post it has already
 * relayed here as an activity (a public group sends both, see
 * send-groups.ts): the post is in the group's discussion and in the members'
 * timelines already, so the boost is kept (the group's reblog, which its
 * `Undo` takes back) but not put in the timelines a second time.
 */
export function relayedByGroupAlready(ctx: InboxContext<Services>, booster: ActorRow, original: PostRow): boolean {
  if (booster.type !== "Group" || booster.local) return false;
  const { db } = ctx.data;
  if (db.select({ local: actors.local }).from(actors).where(eq(actors.id, original.actorId)).get()?.local !== false) return false;
  return groupsOfPost(db, original.id).some((l) => l.group.actorId === booster.id);
}

/**
 * Is the relayed activity the author's? Returns its object (a Note, or null
 * for a Delete) when it is, undefined when it cannot be shown to be:
 * 1. the author is on the group's own server, whose signature we checked;
 * 2. or the activity carries the author's integrity proof (FEP-8b32), and it verifies;
 * 3. or the author's server, asked directly (signed as one of our members of
 *    the group), serves the same Note (Create, Update), or no longer has it (Delete).
 */
async function verifyRelayed(ctx: InboxContext<Services>, inner: Create | Update | Delete, raw: Json, embedded: Json, group: ActorRow): Promise<Note | Question | Page | null | undefined> {
  const actorId = inner.actorId!;
  const objectId = inner.objectId!;
  if (objectId.origin !== actorId.origin) return undefined;
  const read = async () => {
    if (inner instanceof Delete) return null;
    const object = await inner.getObject({ crossOrigin: "trust" });
    if (object instanceof Page) return noteOfPage(object);
    return object instanceof Note || object instanceof Question ? object : undefined;
  };
  const log = (how: string) => ctx.data.log.debug({ activity: inner.id?.href, how }, "group: relayed activity verified");
  if (actorId.origin === new URL(group.uri).origin) {
    log("same origin as the group");
    return read();
  }
  if (await provenByItsAuthor(ctx, inner, raw, embedded)) {
    log("integrity proof");
    return read();
  }
  const member = localMemberOf(ctx.data, group.id);
  const documentLoader = member ? await ctx.getDocumentLoader({ identifier: member }) : ctx.documentLoader;
  const fetched = await ctx.lookupObject(objectId, { documentLoader }).catch(() => null);
  log("fetched from its origin");
  if (inner instanceof Delete) return fetched && !(fetched instanceof Tombstone) ? undefined : null;
  const object = fetched instanceof Page ? await noteOfPage(fetched) : fetched;
  if (!(object instanceof Note || object instanceof Question) || object.id?.href !== objectId.href || object.attributionId?.href !== actorId.href) return undefined;
  return object;
}

/**
 * Whether a relayed activity carries its actor's FEP-8b32 integrity proof and
 * it verifies: on the embedded copy as it arrived (in the group's context),
 * then as its author's Fedify wrote it.
 */
async function provenByItsAuthor(ctx: InboxContext<Services>, inner: Activity, raw: Json, embedded: Json): Promise<boolean> {
  if (!embedded.proof || !inner.actorId) return false;
  // Parsed as its own class (Create, Update, Delete, Like, Undo): another would refuse its type.
  const cls = inner.constructor as typeof Activity;
  const options = { documentLoader: ctx.documentLoader, contextLoader: ctx.contextLoader };
  const candidates = [{ "@context": raw["@context"], ...embedded }, await inner.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader }).catch(() => null)];
  for (const candidate of candidates) {
    if (!candidate) continue;
    const verified = await verifyObject(cls, candidate, options).catch(() => null);
    if (verified && verified.actorId?.href === inner.actorId.href) return true;
  }
  return false;
}

/**
 * A member's `Like` of a post of the group, or its `Undo`, relayed by the
 * group: counted on our copy of the post. Taken only if the liker is on the
 * group's own server or the activity carries the liker's integrity proof
 * (a like cannot be fetched back from its origin), and only for a post that
 * is in that group's discussion here.
 */
async function onGroupReaction(ctx: InboxContext<Services>, inner: Like | Undo, raw: Json, embedded: Json, groupActorRow: ActorRow, group: GroupRow): Promise<void> {
  const services = ctx.data;
  const actorId = inner.actorId;
  const like = inner instanceof Undo ? await inner.getObject({ crossOrigin: "trust" }) : inner;
  if (!actorId || !(like instanceof Like) || !like.id || !like.objectId || like.actorId?.href !== actorId.href) return;
  if (like.id.origin !== actorId.origin || (inner.id && inner.id.origin !== actorId.origin)) return;
  const verified = actorId.origin === new URL(groupActorRow.uri).origin || (await provenByItsAuthor(ctx, inner, raw, embedded));
  if (!verified) {
    services.log.info({ group: groupActorRow.uri, activity: inner.id?.href }, "group: relayed like not verified, dropped");
    return;
  }
  const post = findPostByUri(services.db, like.objectId.href);
  if (!post || !groupsOfPost(services.db, post.id).some((l) => l.group.id === group.id)) return;
  if (inner instanceof Undo) {
    const liker = actorByUri(services.db, actorId.href);
    if (liker) removeLike(services.db, liker.id, like.id.href);
    return;
  }
  const liker = await resolveActor(ctx, actorId);
  if (liker && !liker.local) storeLike(services, liker, post, like.id.href);
}

/**
 * A plain boost by a remote group we know: its post joins that group's
 * discussion here, with the thread's title, which travels as the Note's
 * `name` (the boost itself carries none). `note` is the Note as its server
 * served it, if it was fetched for this boost; a Note known before (received
 * directly from its author, who does not keep titles of remote groups) is
 * fetched again for a thread's first post.
 */
export async function afterGroupBoost(ctx: InboxContext<Services>, booster: ActorRow, original: PostRow, note: Note | Question | null): Promise<void> {
  if (booster.type !== "Group" || booster.local) return;
  const { db } = ctx.data;
  const group: GroupRow | undefined = groupOfActor(db, booster.id);
  // Already in that group here (our own member's post, or a second boost).
  if (!group || groupsOfPost(db, original.id).some((l) => l.group.id === group.id)) return;
  const inThread = original.inReplyToId != null && groupsOfPost(db, original.inReplyToId).some((l) => l.group.id === group.id);
  if (!note && !inThread) note = await fetchNote(ctx, new URL(original.uri));
  const title = note?.id?.href === original.uri ? cleanTitle(note.name?.toString()) : null;
  recordGroupPost(db, group, original, title);
}

/** A remote group took back its Announce of a post: the post leaves that group's discussion here. */
export function afterGroupUnannounce(ctx: InboxContext<Services>, groupActorRow: ActorRow, objectUri: string): void {
  if (groupActorRow.type !== "Group" || groupActorRow.local) return;
  const group = groupOfActor(ctx.data.db, groupActorRow.id);
  const post = findPostByUri(ctx.data.db, objectUri);
  if (group && post) unrecordGroupPost(ctx.data.db, group, post.id);
}
