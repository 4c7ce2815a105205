// A group's threads as the database keeps them (migrations 0015 and 0016):
// replies counted and last activity per thread, kept by triggers on every
// path (a post added, moved, hidden, shown, taken out, deleted), counted for
// existing threads by the migration; replies that arrive before the post they
// answer; paging by last activity. On real database files, rows inserted directly.
import t from "tap";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import Database from "better-sqlite3";
import { openDatabase, type OpenDb } from "../src/storage/db.ts";
import { actors, groupPosts, groups, hiddenPosts, posts } from "../src/storage/schema.ts";
import { newId } from "../src/storage/ids.ts";
import { groupThreads, recordGroupPost, unrecordGroupPost } from "../src/groups/discussion.ts";
import type { GroupRow } from "../src/groups/groups.ts";
import type { PostRow } from "../src/posts/posts.ts";

const ANON = { kind: "anonymous" } as const;

function fresh(): OpenDb {
  return openDatabase(join(mkdtempSync(join(tmpdir(), "coopol-threads-")), "coopol.sqlite"));
}

function setup(db: OpenDb): { group: GroupRow; author: number } {
  const author = newId();
  const groupActor = newId();
  db.insert(actors).values([
    { id: author, uri: "https://b.example/users/ana", type: "Person", username: "ana", domain: "b.example", local: false },
    { id: groupActor, uri: "https://a.example/users/g_velo", type: "Group", username: "g_velo", domain: "a.example", local: false },
  ]).run();
  const group = db.insert(groups).values({ id: newId(), actorId: groupActor, local: false, name: "Vélo", state: "active" }).returning().get();
  return { group, author };
}

function note(db: OpenDb, author: number, at: number, options: { replyTo?: PostRow; replyToUri?: string } = {}): PostRow {
  const id = newId();
  return db
    .insert(posts)
    .values({ id, uri: `https://b.example/p/${id}`, actorId: author, inReplyToId: options.replyTo?.id ?? null, inReplyToUri: options.replyTo?.uri ?? options.replyToUri ?? null, visibility: "public", publishedAt: at, content: `<p>${id}</p>` })
    .returning()
    .get();
}

const figures = (db: OpenDb, group: GroupRow, postId: number) =>
  db.select({ rootId: groupPosts.rootId, replies: groupPosts.repliesCount, lastAt: groupPosts.lastActivityAt }).from(groupPosts).where(eq(groupPosts.postId, postId)).get();

t.test("the triggers keep a thread's replies and last activity", async (t) => {
  const db = fresh();
  const { group, author } = setup(db);
  const root = note(db, author, 1000);
  recordGroupPost(db, group, root, "Pistes");
  t.same(figures(db, group, root.id), { rootId: root.id, replies: 0, lastAt: 1000 });
  const one = note(db, author, 2000, { replyTo: root });
  const two = note(db, author, 3000, { replyTo: one });
  recordGroupPost(db, group, one, null);
  recordGroupPost(db, group, two, null);
  t.same(figures(db, group, root.id), { rootId: root.id, replies: 2, lastAt: 3000 });
  t.same(figures(db, group, two.id), { rootId: root.id, replies: 0, lastAt: null }, "replies carry no figures");

  db.insert(hiddenPosts).values({ postId: two.id, groupId: group.id }).run();
  t.same(figures(db, group, root.id), { rootId: root.id, replies: 1, lastAt: 2000 }, "a hidden reply is not counted, nor makes the thread active");
  db.delete(hiddenPosts).where(eq(hiddenPosts.postId, two.id)).run();
  t.same(figures(db, group, root.id), { rootId: root.id, replies: 2, lastAt: 3000 }, "shown again");

  db.insert(hiddenPosts).values({ postId: two.id, groupId: group.id }).run();
  db.delete(posts).where(eq(posts.id, two.id)).run();
  t.same(figures(db, group, root.id), { rootId: root.id, replies: 1, lastAt: 2000 }, "a deleted post leaves the count (cascade)");
  t.same(unrecordGroupPost(db, group, one.id), [one.id]);
  t.same(figures(db, group, root.id), { rootId: root.id, replies: 0, lastAt: 1000 }, "taken out of the group");
  t.same(groupThreads(db, ANON, group).map((th) => [th.title, th.replies, th.lastAt]), [["Pistes", 0, 1000]]);
});

t.test("replies that arrive before the post they answer join its thread when it comes", async (t) => {
  const db = fresh();
  const { group, author } = setup(db);
  // The root is not stored yet: the first reply only knows its URI.
  const rootUri = "https://b.example/p/root";
  const early = note(db, author, 2000, { replyToUri: rootUri });
  const later = note(db, author, 3000, { replyTo: early });
  recordGroupPost(db, group, early, null);
  recordGroupPost(db, group, later, null);
  t.equal(groupThreads(db, ANON, group).length, 1, "a thread of its own meanwhile");
  const root = db.insert(posts).values({ id: newId(), uri: rootUri, actorId: author, visibility: "public", publishedAt: 1000, content: "<p>root</p>" }).returning().get();
  recordGroupPost(db, group, root, "Stationnement");
  t.same(figures(db, group, early.id), { rootId: root.id, replies: 0, lastAt: null });
  t.same(figures(db, group, later.id), { rootId: root.id, replies: 0, lastAt: null });
  t.same(groupThreads(db, ANON, group).map((th) => [th.root.id, th.title, th.replies, th.lastAt]), [[root.id, "Stationnement", 2, 3000]]);
});

t.test("threads page by last activity, ties by id, a thread moved up leaving the pages after it", async (t) => {
  const db = fresh();
  const { group, author } = setup(db);
  const roots = Array.from({ length: 7 }, (_, n) => note(db, author, n < 4 ? 5000 : 6000 + n));
  for (const [n, r] of roots.entries()) recordGroupPost(db, group, r, `T${n}`);
  const titles = (list: Array<{ title: string | null }>) => list.map((th) => th.title);
  const first = groupThreads(db, ANON, group, 3);
  t.same(titles(first), ["T6", "T5", "T4"]);
  const second = groupThreads(db, ANON, group, 3, { maxId: first.at(-1)!.root.id });
  t.same(titles(second), ["T3", "T2", "T1"], "equal activity: newest id first");
  t.same(titles(groupThreads(db, ANON, group, 3, { maxId: second.at(-1)!.root.id })), ["T0"]);
  t.same(groupThreads(db, ANON, group, 3, { maxId: 12345 }), [], "an unknown thread continues nothing");
  recordGroupPost(db, group, note(db, author, 9000, { replyTo: roots[0] }), null);
  t.same(titles(groupThreads(db, ANON, group, 3)), ["T0", "T6", "T5"], "a reply brings its thread to the top");
});

t.test("the migration counts the threads a database already had", async (t) => {
  // A database at migration 0014, with a thread, a reply and a hidden reply; then the newer migrations.
  const dir = mkdtempSync(join(tmpdir(), "coopol-threads-migration-"));
  const folder = join(dir, "migrations");
  cpSync(new URL("../schema/migrations", import.meta.url).pathname, folder, { recursive: true });
  const journal = JSON.parse(readFileSync(join(folder, "meta/_journal.json"), "utf8")) as { entries: Array<{ idx: number; tag: string }> };
  for (const e of journal.entries.filter((e) => e.idx > 14)) rmSync(join(folder, `${e.tag}.sql`));
  journal.entries = journal.entries.filter((e) => e.idx <= 14);
  writeFileSync(join(folder, "meta/_journal.json"), JSON.stringify(journal));
  const file = join(dir, "coopol.sqlite");
  const old = new Database(file);
  migrate(drizzle(old), { migrationsFolder: folder });
  old.exec(`
    insert into actors (id, uri, type, username, domain, local) values (1, 'https://b.example/users/ana', 'Person', 'ana', 'b.example', 0), (2, 'https://a.example/users/g_velo', 'Group', 'g_velo', 'a.example', 0);
    insert into groups (id, actor_id, local, name, state) values (10, 2, 0, 'Vélo', 'active');
    insert into posts (id, uri, actor_id, content, visibility, published_at) values (100, 'p100', 1, 'x', 'public', 1000), (101, 'p101', 1, 'x', 'public', 2000), (102, 'p102', 1, 'x', 'public', 3000);
    insert into group_posts (group_id, post_id, root_id, title) values (10, 100, 100, 'Pistes'), (10, 101, 100, null), (10, 102, 100, null);
    insert into hidden_posts (post_id, group_id) values (102, 10);`);
  old.close();
  const db = openDatabase(file);
  const group = db.select().from(groups).where(eq(groups.id, 10)).get()!;
  t.same(figures(db, group, 100), { rootId: 100, replies: 1, lastAt: 2000 });
  t.same(figures(db, group, 101), { rootId: 100, replies: 0, lastAt: null });
});
