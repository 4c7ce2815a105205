// Contribution figures and their anti-gaming rules (docs/contributions.md),
// computed on a real database file with rows inserted directly.
import t from "tap";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { openDatabase, type OpenDb } from "../src/storage/db.ts";
import { actors, events, groupPosts, groups, hiddenPosts, likes, posts, proposals } from "../src/storage/schema.ts";
import { newId } from "../src/storage/ids.ts";
import { groupContributors, memberContributions, THIN_WEIGHT, type Figures } from "../src/groups/contributions.ts";
import type { GroupRow } from "../src/groups/groups.ts";

const DAY = 86_400_000;
const NOW = Date.now();

function fresh(): OpenDb {
  return openDatabase(join(mkdtempSync(join(tmpdir(), "coopol-contrib-")), "coopol.sqlite"));
}

function person(db: OpenDb, username: string, domain = "a.example", options: { ageDays?: number; posts?: number } = {}): number {
  const id = newId();
  db.insert(actors)
    .values({ id, uri: `https://${domain}/users/${username}`, type: "Person", username, domain, local: domain === "a.example", createdAt: NOW - (options.ageDays ?? 400) * DAY })
    .run();
  // Other activity known here (kept by triggers on posts; set directly for the test).
  db.update(actors).set({ statusesCount: options.posts ?? 10 }).where(eq(actors.id, id)).run();
  return id;
}

function group(db: OpenDb, slug: string): GroupRow {
  const actorId = person(db, `g_${slug}`);
  return db.insert(groups).values({ id: newId(), actorId, local: true, slug, name: slug }).returning().get();
}

function post(db: OpenDb, author: number, options: { group?: GroupRow; replyTo?: number; daysAgo?: number; title?: string } = {}): number {
  const id = newId();
  db.insert(posts)
    .values({ id, uri: `https://x.example/p/${id}`, actorId: author, inReplyToId: options.replyTo ?? null, visibility: "public", publishedAt: NOW - (options.daysAgo ?? 1) * DAY, content: "x" })
    .run();
  if (options.group) {
    const parent = options.replyTo ? db.select().from(groupPosts).where(eq(groupPosts.postId, options.replyTo)).get() : undefined;
    db.insert(groupPosts).values({ groupId: options.group.id, postId: id, title: parent ? null : (options.title ?? "Sujet"), rootId: parent?.rootId ?? id }).run();
  }
  return id;
}

function like(db: OpenDb, actorId: number, postId: number): void {
  db.insert(likes).values({ id: newId(), actorId, postId, uri: `https://x.example/likes/${newId()}` }).run();
}

function figuresOf(db: OpenDb, g: GroupRow, actorId: number, days = 30): Figures | undefined {
  return groupContributors(db, g, days, NOW).find((c) => c.actor.id === actorId)?.figures;
}

t.test("threads and replies count; self-likes and self-replies count nothing", async (t) => {
  const db = fresh();
  const g = group(db, "logement");
  const ana = person(db, "ana");
  const thread = post(db, ana, { group: g });
  const reply = post(db, ana, { group: g, replyTo: thread });
  like(db, ana, thread);
  like(db, ana, reply);
  post(db, ana, { group: g, replyTo: reply });
  const f = figuresOf(db, g, ana)!;
  t.equal(f.threads, 1);
  t.equal(f.answeredReplies, 0, "a reply only the author answered or liked is not 'answered'");
  t.equal(f.endorsement, 0, "own likes and replies bring nothing");
  t.equal(f.score, 1, "one thread");
});

t.test("likes from one instance count less than likes from several", async (t) => {
  const db = fresh();
  const g = group(db, "climat");
  const ana = person(db, "ana");
  const one = post(db, ana, { group: g });
  for (const name of ["x1", "x2", "x3"]) like(db, person(db, name, "x.example"), one);
  t.equal(figuresOf(db, g, ana)!.endorsement, 1.83, "1 + 1/2 + 1/3 from a single instance");

  const bea = person(db, "bea");
  const other = post(db, bea, { group: g });
  for (const domain of ["x.example", "y.example", "z.example"]) like(db, person(db, `l${domain[0]}`, domain), other);
  t.equal(figuresOf(db, g, bea)!.endorsement, 3, "one full point per instance");
});

t.test("new accounts and accounts with no other activity count less", async (t) => {
  const db = fresh();
  const g = group(db, "sante");
  const ana = person(db, "ana");
  const p1 = post(db, ana, { group: g });
  like(db, person(db, "newbie", "n.example", { ageDays: 3 }), p1);
  t.equal(figuresOf(db, g, ana)!.endorsement, THIN_WEIGHT, "an account first seen 3 days ago");

  const bea = person(db, "bea");
  const p2 = post(db, bea, { group: g });
  like(db, person(db, "silent", "s.example", { posts: 0 }), p2);
  t.equal(figuresOf(db, g, bea)!.endorsement, THIN_WEIGHT, "an old account that never posted");

  // On one instance, established accounts are counted first: the alt does not dilute them.
  const cyd = person(db, "cyd");
  const p3 = post(db, cyd, { group: g });
  like(db, person(db, "alt", "m.example", { ageDays: 1 }), p3);
  like(db, person(db, "real", "m.example"), p3);
  t.equal(figuresOf(db, g, cyd)!.endorsement, 1.13, "1 + 0.25/2, rounded");
});

t.test("a reply that others answered or liked; a like and a reply by the same person count once", async (t) => {
  const db = fresh();
  const g = group(db, "ecole");
  const ana = person(db, "ana");
  const bob = person(db, "bob", "b.example");
  const thread = post(db, bob, { group: g });
  const reply = post(db, ana, { group: g, replyTo: thread });
  post(db, bob, { group: g, replyTo: reply });
  like(db, bob, reply);
  const f = figuresOf(db, g, ana)!;
  t.equal(f.answeredReplies, 1);
  t.equal(f.endorsement, 1);
  t.equal(f.score, 2);
  t.equal(figuresOf(db, g, bob)!.endorsement, 1, "bob's thread got ana's reply");
});

t.test("30 and 365 days; hidden posts; adopted proposals and events", async (t) => {
  const db = fresh();
  const g = group(db, "energie");
  const ana = person(db, "ana");
  post(db, ana, { group: g, daysAgo: 100 });
  const recent = post(db, ana, { group: g, daysAgo: 2 });
  const hidden = post(db, ana, { group: g, daysAgo: 2 });
  db.insert(hiddenPosts).values({ postId: hidden, groupId: g.id }).run();
  db.insert(proposals).values({ postId: recent, groupId: g.id, state: "adopted", decidedAt: NOW - DAY }).run();
  const event = (daysAgo: number, status: "confirmed" | "cancelled") =>
    db.insert(events).values({ id: newId(), uri: `https://a.example/events/${newId()}`, actorId: ana, title: "Réunion", startAt: NOW + DAY, status, createdAt: NOW - daysAgo * DAY }).run();
  event(5, "confirmed");
  event(5, "cancelled");
  event(200, "confirmed");

  const month = figuresOf(db, g, ana, 30)!;
  t.equal(month.threads, 1, "the hidden thread and the old one are left out");
  t.equal(month.adopted, 1);
  t.equal(month.events, 1, "cancelled events count nothing");
  t.equal(month.score, 1 + 5 + 3);
  const year = figuresOf(db, g, ana, 365)!;
  t.equal(year.threads, 2);
  t.equal(year.events, 2);

  const other = group(db, "transports");
  post(db, ana, { group: other });
  const mine = memberContributions(db, ana, 30, { now: NOW });
  t.same(mine.groups.map((x) => x.group.slug).sort(), ["energie", "transports"]);
  t.equal(mine.events, 1);
  t.equal(mine.score, 6 + 1 + 3, "groups' scores plus events, counted once");
});
