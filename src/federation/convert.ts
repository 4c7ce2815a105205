// Conversions between stored posts and ActivityPub Notes, in one place.
import { Collection, Document, Hashtag, Image, Mention, Note, PUBLIC_COLLECTION, Question, type Object as APObject } from "@fedify/vocab";
import { eq, sql } from "drizzle-orm";
import type { Context } from "@fedify/fedify";
import type { Services } from "../services.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { actors, mentions, postTags, type Visibility } from "../storage/schema.ts";
import type { PostRow } from "../posts/posts.ts";
import type { ActorRow } from "./actors.ts";
import { instant } from "./time.ts";
import { inDateRange, MAX_ADDRESSEES, MAX_ATTACHMENTS, MAX_COUNTER, MAX_IMAGE_SIDE, MAX_NAME_LENGTH, MAX_POLL_OPTIONS, MAX_TAGS } from "../bounds.ts";
import { attachmentsOf, mediaUrl } from "../media/media.ts";
import { safeUrl } from "../safe-url.ts";
import { pollsOfPosts, type RemotePoll } from "../polls/polls.ts";
import { titleOfPost } from "../groups/discussion.ts";
import { proposalMarkers } from "./send-proposals.ts";
import { audienceMarkers } from "./party-audience.ts";
import { tagUrl } from "../posts/content.ts";

export const NOTE_PATH = "/users/{identifier}/posts/{id}";

export { tagUrl };

/** Addressing as Mastodon does it, so its users see the same audience. */
export function audienceOf(visibility: Visibility, followersUri: URL, mentioned: URL[]): { to: URL[]; cc: URL[] } {
  switch (visibility) {
    case "public":
      return { to: [PUBLIC_COLLECTION], cc: [followersUri, ...mentioned] };
    case "unlisted":
      return { to: [followersUri], cc: [PUBLIC_COLLECTION, ...mentioned] };
    case "private":
      return { to: [followersUri], cc: mentioned };
    case "direct":
    case "section":
      return { to: mentioned, cc: [] };
    // Who they are for is in a Coopol payload (party-audience.ts); never Public, never followers.
    case "federation":
    case "party":
      return { to: mentioned, cc: [] };
  }
}

/** Reads the audience of an incoming object back into one of Mastodon's visibilities. */
export function visibilityOf(object: APObject, followersUri: string | null): Visibility {
  const to = object.toIds.map((u) => u.href);
  const cc = object.ccIds.map((u) => u.href);
  if (to.includes(PUBLIC_COLLECTION.href)) return "public";
  if (cc.includes(PUBLIC_COLLECTION.href)) return "unlisted";
  if (followersUri && (to.includes(followersUri) || cc.includes(followersUri))) return "private";
  return "direct";
}

/** A post as ActivityPub: a Note, or a Question (Mastodon's shape) when it carries a poll. */
export function noteFromPost(ctx: Context<Services>, post: PostRow, author: ActorRow): Note | Question {
  const db = ctx.data.db;
  const mentioned = db
    .select({ uri: actors.uri, username: actors.username, domain: actors.domain })
    .from(mentions)
    .innerJoin(actors, eq(actors.id, mentions.actorId))
    .where(eq(mentions.postId, post.id))
    .all();
  const tags = db.select({ tag: postTags.tag }).from(postTags).where(eq(postTags.postId, post.id)).all();
  const { to, cc } = audienceOf(
    post.visibility,
    ctx.getFollowersUri(author.username),
    mentioned.map((m) => new URL(m.uri)),
  );
  const attachments = (attachmentsOf(db, [post.id]).get(post.id) ?? []).map(
    (m) =>
      new Document({
        url: new URL(mediaUrl(ctx.data.config.origin, m)),
        mediaType: m.contentType,
        name: m.description || null,
        width: m.width,
        height: m.height,
      }),
  );
  const values = {
    id: new URL(post.uri),
    // A group thread's topic, as Lemmy and other group software read it.
    name: titleOfPost(db, post.id),
    // A proposal's marker rides along with its images (send-proposals.ts).
    attachments: [...attachments, ...proposalMarkers(db, post), ...audienceMarkers(ctx.data, post)],
    attribution: new URL(author.uri),
    url: post.url ? new URL(post.url) : null,
    content: post.content,
    summary: post.summary || null,
    sensitive: post.sensitive,
    replyTarget: post.inReplyToUri ? new URL(post.inReplyToUri) : null,
    published: instant(post.publishedAt),
    updated: post.editedAt ? instant(post.editedAt) : null,
    tos: to,
    ccs: cc,
    tags: [
      ...mentioned.map((m) => new Mention({ href: new URL(m.uri), name: `@${m.username}@${m.domain}` })),
      ...tags.map((t) => new Hashtag({ href: new URL(tagUrl(ctx.data.config.origin, t.tag)), name: `#${t.tag}` })),
    ],
  };
  const poll = pollsOfPosts(db, [post.id], null).get(post.id);
  if (!poll) return new Note(values);
  // Each option is a Note whose replies count its votes; Mastodon reads no other shape.
  const options = poll.options.map((name, i) => new Note({ name, replies: new Collection({ totalItems: poll.counts[i] ?? 0 }) }));
  const end = poll.expiresAt != null ? instant(poll.expiresAt) : null;
  return new Question({
    ...values,
    ...(poll.multiple ? { inclusiveOptions: options } : { exclusiveOptions: options }),
    endTime: end,
    closed: poll.expired ? end : null,
    voters: poll.votersCount,
  });
}

const notFetched = async (url: string): Promise<never> => {
  throw new Error(`not fetched: ${url}`);
};

/** The poll a remote Question carries (options, counts, end), or null if it has no options. */
export async function pollOfQuestion(question: Question): Promise<RemotePoll | null> {
  const read = async (options: AsyncIterable<unknown>) => {
    const found: Array<{ name: string; votes: number }> = [];
    for await (const option of options) {
      if (found.length >= MAX_POLL_OPTIONS) break;
      if (!(option instanceof Note) || !option.name) continue;
      // Counts are embedded (Mastodon's shape); a bare URL is not fetched.
      const replies = await option.getReplies({ documentLoader: notFetched, suppressError: true });
      found.push({ name: option.name.toString().trim().slice(0, 200), votes: Math.min(Math.max(0, replies?.totalItems ?? 0), MAX_COUNTER) });
    }
    return found;
  };
  const single = await read(question.getExclusiveOptions());
  const multiple = single.length === 0;
  const options = multiple ? await read(question.getInclusiveOptions()) : single;
  if (options.length === 0) return null;
  const closed = question.closed;
  const end = question.endTime ?? (typeof closed === "object" ? closed : null);
  return {
    options: options.map((o) => o.name),
    counts: options.map((o) => o.votes),
    voters: question.voters == null ? null : Math.min(Math.max(0, question.voters), MAX_COUNTER),
    multiple,
    // An end out of range (year 275760…) is left out: the poll stays open, as one without an end.
    expiresAt: end && inDateRange(end.epochMilliseconds) ? end.epochMilliseconds : closed === true ? Date.now() : null,
  };
}

/** Actor rows of the local and known remote actors a Note mentions. */
export async function mentionedActorIds(services: Services, note: Note | Question): Promise<number[]> {
  const hrefs: string[] = [];
  let seen = 0;
  for await (const tag of note.getTags()) {
    if (++seen > MAX_TAGS) break;
    if (tag instanceof Mention && tag.href) hrefs.push(tag.href.href);
  }
  for (const u of [...note.toIds, ...note.ccIds].slice(0, MAX_ADDRESSEES)) hrefs.push(u.href);
  if (hrefs.length === 0) return [];
  return actorIdsByUris(services.db)
    .all({ uris: JSON.stringify([...new Set(hrefs)]) })
    .map((r) => r.id);
}

// Every incoming Note asks this (its audience at least): one statement for any
// number of URIs, passed as a JSON array, built once (see storage/prepared.ts).
const actorIdsByUris = preparedOnce((db) =>
  db
    .select({ id: actors.id })
    .from(actors)
    .where(sql`${actors.uri} in (select value from json_each(${sql.placeholder("uris")}))`)
    .prepare(),
);

export async function hashtagsOf(note: Note | Question): Promise<string[]> {
  const tags = new Set<string>();
  let seen = 0;
  for await (const tag of note.getTags()) {
    if (++seen > MAX_TAGS) break;
    if (tag instanceof Hashtag && tag.name) {
      const name = tag.name.toString().replace(/^#/, "").toLowerCase();
      if (/^[\p{L}\p{N}_]{1,100}$/u.test(name)) tags.add(name);
    }
  }
  return [...tags];
}

export interface RemoteAttachment {
  url: string;
  contentType: string;
  description: string;
  width: number | null;
  height: number | null;
}

/** Images attached to an incoming Note (Document or Image objects with an http(s) URL). */
export async function attachmentsOfNote(note: Note | Question): Promise<RemoteAttachment[]> {
  const found: RemoteAttachment[] = [];
  let seen = 0;
  for await (const item of note.getAttachments()) {
    if (++seen > MAX_ATTACHMENTS) break;
    if (!(item instanceof Document || item instanceof Image)) continue;
    const url = safeUrl(item.url);
    if (!url) continue;
    found.push({
      url,
      contentType: item.mediaType ?? "image/jpeg",
      description: item.name?.toString().slice(0, MAX_NAME_LENGTH) ?? "",
      // Sizes a peer claims are passed on to apps: only plausible ones.
      width: item.width != null && item.width > 0 && item.width <= MAX_IMAGE_SIDE ? item.width : null,
      height: item.height != null && item.height > 0 && item.height <= MAX_IMAGE_SIDE ? item.height : null,
    });
  }
  return found;
}
