// Visible contributors ("méritocratie"): what each member brought to a group's
// discussion over the last 30 or 365 days, and a score. The formula and its
// anti-gaming rules are explained in docs/contributions.md; keep the two in step.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { actors, groups } from "../storage/schema.ts";
import type { ActorRow } from "../federation/actors.ts";
import { actorOf, type User } from "../members/members.ts";
import { canModerate, type GroupRow } from "./groups.ts";
import { mayAct } from "./proposals.ts";

const DAY = 86_400_000;
export const WINDOWS = [30, 365] as const;
/** Accounts first seen here less than this many days ago count as new. */
export const NEW_ACCOUNT_DAYS = 30;
/** An endorser with fewer posts than this known here has "no other activity". */
export const MIN_POSTS = 2;
/** What a new or otherwise inactive account's like or reply is worth. */
export const THIN_WEIGHT = 0.25;
export const POINTS = { thread: 1, answeredReply: 1, adopted: 5, event: 3 } as const;
export type Window = (typeof WINDOWS)[number];

/** The window a page or an API call asks for ("30", "365"); the first one when not said, null for anything else. */
export function windowOf(value: unknown): Window | null {
  if (value === undefined || value === null || value === "") return WINDOWS[0];
  return WINDOWS.find((w) => String(w) === String(value)) ?? null;
}

/** Who speaks in a members-only group is for its members (and moderators) to see; a public group's contributors are public. */
export function mayReadContributors(db: Db, group: GroupRow, user: User | null): boolean {
  if (group.visibility !== "members") return true;
  return !!user && (mayAct(db, group, actorOf(db, user)) || canModerate(db, group, user));
}

export interface Figures {
  threads: number;
  /** Replies that someone else replied to or liked. */
  answeredReplies: number;
  /** Weighted likes and replies from others (see endorsementOf). */
  endorsement: number;
  adopted: number;
  events: number;
  score: number;
}

const empty = (): Figures => ({ threads: 0, answeredReplies: 0, endorsement: 0, adopted: 0, events: 0, score: 0 });
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function scoreOf(f: Omit<Figures, "score">): number {
  return round(f.threads * POINTS.thread + f.answeredReplies * POINTS.answeredReply + f.endorsement + f.adopted * POINTS.adopted + f.events * POINTS.event, 1);
}

export interface Endorser {
  actorId: number;
  domain: string;
  createdAt: number;
  statusesCount: number;
}

/**
 * What the likes and replies of others on one post are worth. The author's
 * own count nothing. Each is worth 1, or THIN_WEIGHT from an account that is
 * new here or has almost no posts (alt accounts). From one instance, the k-th
 * endorser counts 1/k of that: many likes from a single instance add up slowly
 * (1 + 1/2 + 1/3 …), while each further instance brings a full point.
 */
export function endorsementOf(authorId: number, endorsers: Endorser[], now: number): number {
  const byDomain = new Map<string, number[]>();
  for (const e of endorsers) {
    if (e.actorId === authorId) continue;
    const thin = e.createdAt > now - NEW_ACCOUNT_DAYS * DAY || e.statusesCount < MIN_POSTS;
    const list = byDomain.get(e.domain) ?? [];
    list.push(thin ? THIN_WEIGHT : 1);
    byDomain.set(e.domain, list);
  }
  let total = 0;
  for (const weights of byDomain.values()) {
    weights.sort((a, b) => b - a);
    weights.forEach((w, i) => (total += w / (i + 1)));
  }
  return total;
}

interface Scope {
  groupId?: number;
  actorId?: number;
}

/** Figures per (group, author) for the posts of a scope, over `days` days. */
function collect(db: Db, scope: Scope, days: number, now: number): Map<string, { groupId: number; actorId: number; figures: Figures }> {
  const since = now - days * DAY;
  // A moved account's contributions count for the account it moved to (members/transfer.ts).
  const byAuthor = sql`(p.actor_id = ${scope.actorId} or a.moved_to_id = ${scope.actorId})`;
  const where = scope.groupId != null ? sql`gp.group_id = ${scope.groupId}` : byAuthor;
  // Hidden posts (moderated) bring nothing.
  const rows = db.all<{ groupId: number; postId: number; rootId: number; actorId: number }>(sql`
    select gp.group_id as groupId, gp.post_id as postId, gp.root_id as rootId, coalesce(a.moved_to_id, p.actor_id) as actorId
    from group_posts gp join posts p on p.id = gp.post_id join actors a on a.id = p.actor_id
    where ${where} and p.published_at >= ${since} and p.reblog_of_id is null
      and not exists (select 1 from hidden_posts h where h.group_id = gp.group_id and h.post_id = gp.post_id)`);
  const ids = JSON.stringify([...new Set(rows.map((r) => r.postId))]);
  // Likes and replies on those posts, one row per (post, person): a like and a reply by the same person count once.
  const endorsements = db.all<Endorser & { postId: number }>(sql`
    select x.post_id as postId, a.id as actorId, a.domain as domain, a.created_at as createdAt, a.statuses_count as statusesCount
    from (
      select post_id, actor_id from likes where post_id in (select value from json_each(${ids}))
      union
      select in_reply_to_id, actor_id from posts where in_reply_to_id in (select value from json_each(${ids})) and reblog_of_id is null
    ) x join actors a on a.id = x.actor_id`);
  const byPost = new Map<number, Endorser[]>();
  for (const e of endorsements) byPost.set(e.postId, [...(byPost.get(e.postId) ?? []), e]);

  const out = new Map<string, { groupId: number; actorId: number; figures: Figures }>();
  const entry = (groupId: number, actorId: number) => {
    const key = `${groupId}:${actorId}`;
    let found = out.get(key);
    if (!found) out.set(key, (found = { groupId, actorId, figures: empty() }));
    return found.figures;
  };
  for (const r of rows) {
    const f = entry(r.groupId, r.actorId);
    const points = endorsementOf(r.actorId, byPost.get(r.postId) ?? [], now);
    if (r.rootId === r.postId) f.threads++;
    else if (points > 0) f.answeredReplies++;
    f.endorsement += points;
  }
  const adopted = db.all<{ groupId: number; actorId: number; n: number }>(sql`
    select pr.group_id as groupId, coalesce(a.moved_to_id, p.actor_id) as actorId, count(*) as n
    from proposals pr join posts p on p.id = pr.post_id join actors a on a.id = p.actor_id
    where pr.state = 'adopted' and pr.decided_at >= ${since} and ${scope.groupId != null ? sql`pr.group_id = ${scope.groupId}` : byAuthor}
    group by pr.group_id, coalesce(a.moved_to_id, p.actor_id)`);
  for (const a of adopted) entry(a.groupId, a.actorId).adopted += a.n;
  for (const { figures } of out.values()) figures.endorsement = round(figures.endorsement);
  return out;
}

/** Events an actor organised (created) in the window, cancelled ones left out. Events are not tied to groups. */
function eventsOf(db: Db, actorIds: number[], days: number, now: number): Map<number, number> {
  if (actorIds.length === 0) return new Map();
  const rows = db.all<{ actorId: number; n: number }>(sql`
    select actor_id as actorId, count(*) as n from events
    where actor_id in (select value from json_each(${JSON.stringify(actorIds)})) and created_at >= ${now - days * DAY} and status <> 'cancelled'
    group by actor_id`);
  return new Map(rows.map((r) => [r.actorId, r.n]));
}

export interface Contributor {
  actor: ActorRow;
  figures: Figures;
}

/** A group's contributors over `days` days, best score first. Events counted are each contributor's own (any). */
export function groupContributors(db: Db, group: GroupRow, days: number, now = Date.now()): Contributor[] {
  const found = [...collect(db, { groupId: group.id }, days, now).values()];
  const events = eventsOf(db, found.map((f) => f.actorId), days, now);
  const rows = found.length ? db.select().from(actors).where(inArray(actors.id, found.map((f) => f.actorId))).all() : [];
  const byId = new Map(rows.map((a) => [a.id, a]));
  return found
    .map(({ actorId, figures }) => {
      const f = { ...figures, events: events.get(actorId) ?? 0 };
      return { actor: byId.get(actorId)!, figures: { ...f, score: scoreOf(f) } };
    })
    .filter((c) => c.actor)
    .sort((a, b) => b.figures.score - a.figures.score || a.actor.id - b.actor.id);
}

export interface MemberContributions {
  groups: Array<{ group: GroupRow; figures: Figures }>;
  events: number;
  /** Over every group, events included. */
  score: number;
}

/** One member's contributions across groups over `days` days (the public profile section). */
export function memberContributions(db: Db, actorId: number, days: number, options: { now?: number; publicOnly?: boolean } = {}): MemberContributions {
  const now = options.now ?? Date.now();
  const found = [...collect(db, { actorId }, days, now).values()];
  // A public profile does not tell who speaks in members-only groups.
  const groupRows = found.length
    ? db.select().from(groups).where(and(inArray(groups.id, found.map((f) => f.groupId)), options.publicOnly ? eq(groups.visibility, "public") : undefined)).all()
    : [];
  const byId = new Map(groupRows.map((g) => [g.id, g]));
  const list = found
    .map(({ groupId, figures }) => ({ group: byId.get(groupId)!, figures: { ...figures, score: scoreOf(figures) } }))
    .filter((g) => g.group)
    .sort((a, b) => b.figures.score - a.figures.score);
  const events = eventsOf(db, [actorId], days, now).get(actorId) ?? 0;
  const score = round(list.reduce((s, g) => s + g.figures.score, 0) + events * POINTS.event, 1);
  return { groups: list, events, score };
}
