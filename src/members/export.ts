// A member's archive of their own data (GDPR art. 15 and 20), from
// /settings/export: a .tar.gz laid out as Mastodon's own archive (actor.json,
// outbox.json, likes.json, bookmarks.json, media_attachments/…) so the social
// part reads as any Mastodon export does, plus coopol.json for what only
// Coopol has (events, answers, shifts, results, groups, stances, transfers).
import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import type { Readable } from "node:stream";
import { Announce, Create } from "@fedify/vocab";
import { and, asc, eq, gt, isNull, sql } from "drizzle-orm";
import { create } from "tar";
import type { Services } from "../services.ts";
import { actors, media, posts } from "../storage/schema.ts";
import { buildActor } from "../federation/actor-documents.ts";
import { context } from "../federation/context.ts";
import { noteFromPost } from "../federation/convert.ts";
import { instant } from "../federation/time.ts";
import { mediaDir } from "../media/media.ts";
import { actorOf, type User } from "./members.ts";

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";
/** Posts read at a time while the archive is written: memory stays flat however many there are. */
const PAGE = 500;
/** An archive holds at most this many posts and media files (a section member has far fewer). */
export const MAX_EXPORT_POSTS = 100_000;
export const MAX_EXPORT_MEDIA = 5_000;

function collection(items: unknown[]): string {
  return JSON.stringify({ "@context": AS_CONTEXT, id: "", type: "OrderedCollection", totalItems: items.length, orderedItems: items });
}

/**
 * Writes the archive's files into a temporary folder (outbox.json streamed
 * page by page), then returns a gzip tar stream of them; the folder is
 * removed once the stream ends or fails.
 */
export async function exportArchive(services: Services, user: User): Promise<Readable> {
  const { db } = services;
  const ctx = context(services);
  const me = actorOf(db, user);
  const dir = mkdtempSync(join(tmpdir(), "coopol-export-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const actorDoc = (await (await buildActor(ctx, me)).toJsonLd({ format: "compact", contextLoader: ctx.contextLoader })) as Record<string, unknown>;
    writeFileSync(join(dir, "actor.json"), JSON.stringify(actorDoc));

    // outbox.json: Create for each post, Announce for each boost, oldest first (as Mastodon writes it).
    const total = Math.min(db.select({ n: sql<number>`count(*)` }).from(posts).where(eq(posts.actorId, me.id)).get()?.n ?? 0, MAX_EXPORT_POSTS);
    const out = createWriteStream(join(dir, "outbox.json"));
    out.write(`{"@context":${JSON.stringify(AS_CONTEXT)},"id":"outbox.json","type":"OrderedCollection","totalItems":${total},"orderedItems":[`);
    let after = 0;
    let written = 0;
    while (written < total) {
      const page = db.select().from(posts).where(and(eq(posts.actorId, me.id), gt(posts.id, after))).orderBy(asc(posts.id)).limit(Math.min(PAGE, total - written)).all();
      if (page.length === 0) break;
      for (const post of page) {
        const activity = post.reblogOfId ? announceOf(services, post, me) : createOf(ctx, post, me);
        const json = await activity?.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
        if (!json) continue;
        if (!out.write(`${written ? "," : ""}${JSON.stringify(json)}`)) await once(out, "drain");
        written++;
      }
      after = page.at(-1)!.id;
    }
    out.end("]}");
    await once(out, "finish");

    const likeRows = db.all<{ uri: string }>(sql`select p.uri as uri from likes l join posts p on p.id = l.post_id where l.actor_id = ${me.id} order by l.id limit ${MAX_EXPORT_POSTS}`);
    writeFileSync(join(dir, "likes.json"), collection(likeRows.map((r) => r.uri)));
    const bookmarkRows = db.all<{ uri: string }>(sql`select p.uri as uri from bookmarks b join posts p on p.id = b.post_id where b.user_id = ${user.id} order by b.created_at limit ${MAX_EXPORT_POSTS}`);
    writeFileSync(join(dir, "bookmarks.json"), collection(bookmarkRows.map((r) => r.uri)));

    // The member's own uploaded files, under the names the outbox's attachments end with.
    const files = db.select({ fileName: media.fileName }).from(media).where(and(eq(media.actorId, me.id), isNull(media.remoteUrl))).limit(MAX_EXPORT_MEDIA).all();
    const mediaOut = join(dir, "media_attachments", "files");
    mkdirSync(mediaOut, { recursive: true });
    for (const { fileName } of files) {
      if (!fileName || !/^[\w.-]+$/.test(fileName)) continue;
      const source = join(mediaDir(services), fileName);
      if (existsSync(source)) copyFileSync(source, join(mediaOut, fileName));
    }

    writeFileSync(join(dir, "coopol.json"), JSON.stringify(coopolPart(services, user, me.id), null, 1));
  } catch (error) {
    cleanup();
    throw error;
  }
  const stream = create({ gzip: true, cwd: dir, portable: true }, ["actor.json", "outbox.json", "likes.json", "bookmarks.json", "coopol.json", "media_attachments"]) as unknown as Readable;
  stream.once("end", cleanup);
  stream.once("error", cleanup);
  stream.once("close", cleanup);
  return stream;
}

function createOf(ctx: ReturnType<typeof context>, post: typeof posts.$inferSelect, me: typeof actors.$inferSelect): Create {
  const note = noteFromPost(ctx, post, me);
  return new Create({ id: new URL(`${post.uri}/activity`), actor: new URL(me.uri), object: note, tos: note.toIds, ccs: note.ccIds, published: instant(post.publishedAt) });
}

function announceOf(services: Services, post: typeof posts.$inferSelect, me: typeof actors.$inferSelect): Announce | null {
  const original = services.db.select({ uri: posts.uri }).from(posts).where(eq(posts.id, post.reblogOfId!)).get();
  return original ? new Announce({ id: new URL(post.uri), actor: new URL(me.uri), object: new URL(original.uri), published: instant(post.publishedAt) }) : null;
}

/** What only Coopol keeps about the member, in plain JSON (dates in ISO 8601). */
function coopolPart(services: Services, user: User, actorId: number): Record<string, unknown> {
  const { db } = services;
  const date = (ms: number | null) => (ms == null ? null : new Date(ms).toISOString());
  const all = <T>(query: ReturnType<typeof sql>) => db.all<T>(query);
  return {
    version: 1,
    account: { username: user.username, role: user.role, email: user.email, createdAt: date(user.createdAt), lastLoginAt: date(user.lastLoginAt) },
    eventsOrganised: all<{ uri: string; title: string; startAt: number; status: string }>(sql`select uri, title, start_at as startAt, status from events where actor_id = ${actorId} order by start_at`).map((e) => ({ ...e, startAt: date(e.startAt) })),
    eventAnswers: all<{ uri: string; title: string; status: string; attended: number }>(sql`select e.uri, e.title, r.status, r.attended from rsvps r join events e on e.id = r.event_id where r.actor_id = ${actorId} order by e.start_at`).map((r) => ({ ...r, attended: !!r.attended })),
    shifts: all<{ action: string; startAt: number; endAt: number }>(sql`select a.title as action, s.start_at as startAt, s.end_at as endAt from shift_signups x join shifts s on s.id = x.shift_id join field_actions a on a.id = s.action_id where x.user_id = ${user.id} order by s.start_at`).map((s) => ({ ...s, startAt: date(s.startAt), endAt: date(s.endAt) })),
    resultsEntered: all<Record<string, unknown>>(sql`select uri, campaign_uri as campaignUri, action_type as actionType, action_date as actionDate, doors, conversations, leaflets, calls, posters, contacts, comment from action_results where recorded_by = ${user.id} and deleted_at is null order by action_date`),
    groups: all<{ group: string; name: string; accepted: number }>(sql`select a.uri as "group", a.name as name, f.accepted_at is not null as accepted from follows f join actors a on a.id = f.following_id where f.follower_id = ${actorId} and a.type = 'Group' and exists (select 1 from groups g where g.actor_id = a.id)`).map((g) => ({ ...g, accepted: !!g.accepted })),
    groupPosts: all<{ post: string; group: string; title: string | null }>(sql`select p.uri as post, a.uri as "group", gp.title as title from group_posts gp join posts p on p.id = gp.post_id join groups g on g.id = gp.group_id join actors a on a.id = g.actor_id where p.actor_id = ${actorId} order by p.id`),
    stances: all<{ proposal: string; stance: string }>(sql`select p.uri as proposal, v.stance as stance from proposal_votes v join proposals pr on pr.id = v.proposal_id join posts p on p.id = pr.post_id where v.actor_id = ${actorId}`),
    transfers: all<{ direction: string; status: string; other: string; at: number }>(sql`select t.direction, t.status, a.uri as other, t.created_at as at from member_transfers t join actors a on a.id = t.other_actor_id where t.actor_id = ${actorId}`).map((t) => ({ ...t, at: date(t.at) })),
  };
}
