// Storing Notes that come from other servers (Create, Update, and the objects
// of Announce), with their mentions, hashtags and place in home timelines.
import type { Context } from "@fedify/fedify";
import { Note, Question } from "@fedify/vocab";
import { eq, sql } from "drizzle-orm";
import type { Services } from "../services.ts";
import type { OpenDb } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { mentions, posts, postTags } from "../storage/schema.ts";
import { fanOut, findPostByUri, replaceLinks, type PostRow } from "../posts/posts.ts";
import { sanitizeRemoteHtml } from "../posts/content.ts";
import { safeUrl } from "../safe-url.ts";
import type { ActorRow } from "./actors.ts";
import { attachmentsOfNote, hashtagsOf, mentionedActorIds, pollOfQuestion, visibilityOf } from "./convert.ts";
import { storeRemotePoll } from "../polls/polls.ts";
import { replaceRemoteAttachments } from "../media/media.ts";
import { INSTANCE_ACTOR_USERNAME } from "../members/members.ts";
import { actorByUri, resolveActor } from "./remote.ts";
import { notifyMentions } from "../notifications/notifications.ts";
import { countsAsReply } from "../posts/visibility.ts";
import { rememberProposal } from "../groups/proposals.ts";
import { readPayload } from "./territory.ts";
import { inDateRange, MAX_CONTENT_LENGTH, MAX_NAME_LENGTH } from "../bounds.ts";
import { receivedAudience } from "./party-audience.ts";

// Each incoming Note looks its post (and the post it replies to) up by URI and
// inserts a row: these two queries are built once (see storage/prepared.ts).
const postByUriQuery = preparedOnce((db) => db.select().from(posts).where(eq(posts.uri, sql.placeholder("uri"))).prepare());
const postByUri = (db: OpenDb, uri: string): PostRow | undefined => postByUriQuery(db).get({ uri });
const insertRemotePost = preparedOnce((db) =>
  db
    .insert(posts)
    .values({
      id: sql.placeholder("id"),
      uri: sql.placeholder("uri"),
      actorId: sql.placeholder("actorId"),
      inReplyToId: sql.placeholder("inReplyToId"),
      inReplyToUri: sql.placeholder("inReplyToUri"),
      publishedAt: sql.placeholder("publishedAt"),
      url: sql.placeholder("url"),
      content: sql.placeholder("content"),
      summary: sql.placeholder("summary"),
      sensitive: sql.placeholder("sensitive"),
      language: sql.placeholder("language"),
      visibility: sql.placeholder("visibility"),
    })
    .onConflictDoNothing()
    .returning()
    .prepare(),
);

/** An instant of a remote object, left out when outside 1900–2200 (the caller then uses the time of receipt). */
function ms(instant: { epochMilliseconds: number } | null | undefined): number | null {
  return instant && inDateRange(instant.epochMilliseconds) ? instant.epochMilliseconds : null;
}

/** Stores a remote Note (or Question: a post with a poll) by `author`, or refreshes it if known. */
export async function storeRemoteNote(services: Services, note: Note | Question, author: ActorRow): Promise<PostRow | null> {
  if (!note.id) return null;
  const { db } = services;
  const existing = postByUri(db, note.id.href);
  // Our own posts come back through groups' relays (FEP-1b12 Announce of their Create):
  // the copy never overwrites the original (its poll would turn into a remote one).
  if (author.local) return existing?.actorId === author.id ? existing : null;
  // A post for the fédération or the party is kept only from a server of that audience.
  const audience = await receivedAudience(services, note, author);
  if (audience === "refused") {
    services.log.warn({ note: note.id.href, author: author.uri }, "remote post dropped: its party audience does not include its sender");
    return null;
  }
  const parent = note.replyTargetId ? postByUri(db, note.replyTargetId.href) : undefined;
  const mentionIds = await mentionedActorIds(services, note);
  const tags = await hashtagsOf(note);
  const attachments = await attachmentsOfNote(note);
  const poll = note instanceof Question ? await pollOfQuestion(note) : null;
  const fields = {
    url: safeUrl(note.url),
    content: sanitizeRemoteHtml(note.content?.toString().slice(0, MAX_CONTENT_LENGTH) ?? ""),
    summary: note.summary?.toString().slice(0, MAX_NAME_LENGTH) ?? "",
    sensitive: note.sensitive ?? false,
    language: note.contents.map((c) => (typeof c === "string" ? null : c.locale?.baseName)).find(Boolean) ?? null,
    visibility: audience ?? visibilityOf(note, author.followersUrl),
  };
  if (existing) {
    if (existing.actorId !== author.id) return null;
    // A Question sent again with new vote counts is not an edit.
    const countsOnly = note instanceof Question && !note.updated && fields.content === existing.content && fields.summary === existing.summary;
    db.transaction((tx) => {
      tx.update(posts).set({ ...fields, editedAt: countsOnly ? existing.editedAt : (ms(note.updated) ?? Date.now()) }).where(eq(posts.id, existing.id)).run();
      replaceLinks(tx, existing.id, mentionIds, tags);
      replaceRemoteAttachments(tx, existing.id, author.id, attachments);
      storeRemotePoll(tx, existing.id, poll);
    });
    const updated = findPostByUri(db, note.id.href)!;
    services.events.emit("post.updated", updated);
    await proposalOfNote(services, note, updated);
    return updated;
  }
  const id = newId();
  const created = db.transaction((tx) => {
    // Prepared on the database itself: the same connection, so inside this transaction.
    const row = insertRemotePost(db).get({
      id,
      uri: note.id!.href,
      actorId: author.id,
      inReplyToId: parent?.id ?? null,
      inReplyToUri: note.replyTargetId?.href ?? null,
      publishedAt: ms(note.published) ?? Date.now(),
      ...fields,
    });
    if (!row) return null;
    // A new post has no links or attachments to replace yet.
    if (mentionIds.length || tags.length) replaceLinks(tx, id, mentionIds, tags);
    if (attachments.length) replaceRemoteAttachments(tx, id, author.id, attachments);
    if (poll) storeRemotePoll(tx, id, poll);
    if (parent && countsAsReply(row)) tx.update(posts).set({ repliesCount: sql`${posts.repliesCount} + 1` }).where(eq(posts.id, parent.id)).run();
    fanOut(tx, row);
    return row;
  });
  // Stored meanwhile by a concurrent delivery of the same note.
  if (!created) return postByUri(db, note.id.href) ?? null;
  notifyMentions(services, created, mentionIds);
  services.events.emit("post.created", created);
  // A proposal of a group we know (its marker travels in the Note).
  await proposalOfNote(services, note, created);
  return created;
}

/**
 * A post by URI: from the database, or fetched from its server (signed by the
 * instance actor) when someone boosts or replies to a post we have not seen.
 */
export async function resolveNote(ctx: Context<Services>, uri: URL): Promise<PostRow | null> {
  return (await resolveNoteObject(ctx, uri))?.post ?? null;
}

/** resolveNote, with the Note as its server sent it when it had to be fetched (null when it was known). */
export async function resolveNoteObject(ctx: Context<Services>, uri: URL): Promise<{ post: PostRow; note: Note | Question | null } | null> {
  const known = postByUri(ctx.data.db, uri.href);
  if (known) return { post: known, note: null };
  const object = await fetchNote(ctx, uri);
  if (!object?.attributionId) return null;
  const author = await resolveActor(ctx, object.attributionId);
  const post = author ? await storeRemoteNote(ctx.data, object, author) : null;
  return post ? { post, note: object } : null;
}

/** A Note (or Question) fetched from its own server, signed as the instance actor; null unless it is its author's. */
export async function fetchNote(ctx: Context<Services>, uri: URL): Promise<Note | Question | null> {
  const documentLoader = await ctx.getDocumentLoader({ identifier: INSTANCE_ACTOR_USERNAME });
  const object = await ctx.lookupObject(uri, { documentLoader }).catch(() => null);
  if (!(object instanceof Note || object instanceof Question) || !object.id || !object.attributionId) return null;
  // The Note must come from its author's server.
  if (object.id.origin !== object.attributionId.origin) return null;
  return object;
}

/** After a remote Note is stored: its proposal marker, if any. */
async function proposalOfNote(services: Services, note: Note | Question, post: PostRow): Promise<void> {
  const payload = await readPayload(note).catch(() => null);
  if (payload?.type !== "Proposal") return;
  const group = typeof payload.group === "string" && payload.group ? actorByUri(services.db, payload.group) : undefined;
  const amends = typeof payload.amends === "string" && payload.amends ? payload.amends : null;
  if (group?.type === "Group") rememberProposal(services.db, post, group.id, amends);
}
