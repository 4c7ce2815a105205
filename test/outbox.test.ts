// The transactional outbox: what happened is recorded with the change, in one
// transaction, and nothing is lost or delivered twice when the instance dies
// between a change and its delivery (three real instances, one killed with
// SIGKILL in the middle of a burst of posts).
import t from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pino from "pino";
import { openDatabase } from "../src/storage/db.ts";
import { outbox } from "../src/storage/schema.ts";
import { record } from "../src/outbox/outbox.ts";
import { startOutboxWorker } from "../src/federation/outbox-worker.ts";
import { BACKGROUND_KEY_PREFIX } from "../src/federation/queue.ts";
import { LANES } from "../src/federation/send-territory.ts";
import type { Services } from "../src/services.ts";
import { PASSWORD, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";

t.test("a row is recorded in the change's transaction, or not at all", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "coopol-outbox-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, "coopol.sqlite"));
  t.teardown(() => db.$client.close());

  t.throws(() =>
    db.transaction((tx) => {
      record(tx, { kind: "post.created", postId: 1 });
      throw new Error("the change fails after its row was written");
    }),
  );
  t.same(db.select().from(outbox).all(), [], "a failed change leaves no row");

  db.transaction((tx) => record(tx, { kind: "post.deleted", post: { id: 7, uri: "https://example.org/p/7" } as never, mentionedIds: [3], groupIds: [] }));
  const rows = db.select().from(outbox).all();
  t.equal(rows.length, 1, "a committed change has its row");
  t.equal(rows[0]!.kind, "post.deleted");
  t.same(JSON.parse(rows[0]!.payload), { post: { id: 7, uri: "https://example.org/p/7" }, mentionedIds: [3], groupIds: [] }, "a deletion carries what goes with the rows");
});

t.test("a row that cannot be sent is put off, never retried in a loop", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "coopol-outbox-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, "coopol.sqlite"));
  t.teardown(() => db.$client.close());
  // A kind this version does not know: its handler fails before anything is sent.
  db.insert(outbox).values({ id: 1, kind: "no.such.kind", payload: "{}", nextAttemptAt: Date.now() }).run();
  const stop = startOutboxWorker({ db, log: pino({ level: "silent" }) } as unknown as Services);
  t.teardown(stop);
  const failed = await eventually(() => db.select().from(outbox).all().find((r) => r.attempts > 0));
  t.equal(failed.attempts, 1);
  t.match(failed.lastError, /unknown outbox kind/);
  t.ok(failed.nextAttemptAt! >= Date.now() + 3_000, "tried again in about 5 seconds");
  await new Promise((r) => setTimeout(r, 300));
  t.equal(db.select().from(outbox).all()[0]!.attempts, 1, "not tried again meanwhile");
});

t.test("SIGKILL in the middle of a burst: after restart every post reaches each follower's instance exactly once", async (t) => {
  let a: TestInstance, b: TestInstance, c: TestInstance;
  [a, b, c] = await Promise.all([startInstance("oa"), startInstance("ob"), startInstance("oc")]);
  t.teardown(() => Promise.all([a.stop(), b.stop(), c.stop()]));
  a.addMember("alice");
  b.addMember("bob");
  c.addMember("carol");
  for (const [instance, name] of [[b, "bob"], [c, "carol"]] as const) {
    const session = new WebSession(instance.origin);
    await session.login(name, PASSWORD);
    t.equal((await session.post("/follow", { target: `${a.origin}/users/alice` })).status, 303);
  }
  await eventually(() => a.query("select 1 from follows where accepted_at is not null").length === 2, 15_000, "both follows accepted");
  await eventually(() => [b, c].every((i) => i.query("select 1 from follows where accepted_at is not null").length === 1), 15_000, "both Accepts received");

  const TOTAL = 200;
  const texts = Array.from({ length: TOTAL }, (_, i) => `Rafale ${String(i).padStart(3, "0")} du collectif`);
  const alice = new WebSession(a.origin);
  await alice.login("alice", PASSWORD);
  // Eight members' posts at a time; the process is killed once 60 are answered.
  let next = 0;
  let answered = 0;
  let crashed: Promise<void> | null = null;
  const worker = async () => {
    while (next < TOTAL && !crashed) {
      const text = texts[next++]!;
      await alice.publish(text).then(
        () => answered++,
        () => {},
      );
      if (answered >= 60 && !crashed) crashed = a.crash();
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await crashed;
  const pending = a.query<{ n: number }>("select count(*) as n from outbox")[0]!.n;
  const queued = a.query<{ n: number }>("select count(*) as n from fedify_queue")[0]!.n;
  t.comment(`killed after ${answered} answered posts; left: ${pending} outbox rows, ${queued} queue messages`);

  await a.start();
  // The rest of the burst, once: a post whose request was cut may have been stored already.
  const stored = new Set(a.query<{ source: string }>("select source from posts where source like 'Rafale %'").map((r) => r.source));
  const again = new WebSession(a.origin);
  await again.login("alice", PASSWORD);
  for (const text of texts) if (!stored.has(text)) await again.publish(text);

  const uris = a.query<{ uri: string }>("select uri from posts where source like 'Rafale %'").map((r) => r.uri);
  t.equal(uris.length, TOTAL, "every post of the burst is stored once on A");
  for (const instance of [b, c]) {
    await eventually(
      () => instance.query<{ n: number }>("select count(*) as n from posts where content like '%Rafale %'")[0]!.n >= TOTAL,
      60_000,
      `all posts on ${instance.name}`,
    );
    const received = instance.query<{ uri: string; n: number }>("select uri, count(*) as n from posts where content like '%Rafale %' group by uri");
    t.equal(received.length, TOTAL, `${instance.name} has each post`);
    t.ok(received.every((r) => r.n === 1 && uris.includes(r.uri)), `${instance.name} has each post once, with A's URI`);
    const home = instance.query<{ n: number }>("select count(*) as n from timeline_entries join posts on posts.id = timeline_entries.post_id where posts.content like '%Rafale %'")[0]!.n;
    t.equal(home, TOTAL, `each post is once in the follower's home timeline on ${instance.name}`);
  }
  await eventually(() => a.query<{ n: number }>("select count(*) as n from outbox")[0]!.n === 0, 15_000, "A's outbox empty");

  // A crash after the hand-over but before the row was deleted: the row is sent again.
  const first = a.query<{ id: number; uri: string }>("select id, uri from posts where source = ?", texts[0])[0]!;
  await a.stop();
  const file = new Database(join(a.dataDir, "coopol.sqlite"));
  file.prepare("insert into outbox (id, kind, payload, next_attempt_at) values (?, 'post.created', ?, 0)").run(Date.now() * 1024, JSON.stringify({ postId: first.id }));
  file.close();
  await a.start();
  await eventually(() => a.query<{ n: number }>("select count(*) as n from outbox")[0]!.n === 0, 15_000, "the row sent again");
  // The Create has the same id: B's Fedify recognises it (its idempotency cache) and stores nothing twice.
  await eventually(() => a.query<{ n: number }>("select count(*) as n from fedify_queue")[0]!.n === 0, 15_000, "the delivery done");
  for (const instance of [b, c]) {
    t.equal(instance.query<{ n: number }>("select count(*) as n from posts where uri = ?", first.uri)[0]!.n, 1, `still once on ${instance.name}`);
    const seen = instance.query<{ key: string }>("select key from fedify_kv where key like ?", `%activityIdempotence%${first.uri}/activity%`);
    t.ok(seen.length >= 1, `${instance.name} knows the Create's id as processed`);
  }
});

t.test("a fédération's new list of sections waits while the last one is still going out, without counting a failure", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "coopol-outbox-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, "coopol.sqlite"));
  t.teardown(() => db.$client.close());
  // One delivery of the last list, due now in the queue's background lane.
  db.$client.prepare("insert into fedify_queue (message, ordering_key, available_at) values ('{}', ?, ?)").run(`${BACKGROUND_KEY_PREFIX}${LANES.sections}\nhttp://s1.example`, Date.now());
  db.insert(outbox).values({ id: 1, kind: "territory.sections.changed", payload: "{}", nextAttemptAt: Date.now() }).run();
  const stop = startOutboxWorker({ db, log: pino({ level: "silent" }) } as unknown as Services);
  t.teardown(stop);
  const row = await eventually(() => db.select().from(outbox).all().find((r) => r.nextAttemptAt! > Date.now()));
  t.equal(row.attempts, 0, "not a failure");
  t.equal(row.lastError, null);
  t.ok(row.nextAttemptAt! >= Date.now() + 10_000, "asked again in about 15 seconds");
});
