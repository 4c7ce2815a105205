// The persistent queue (src/federation/queue.ts) on a real SQLite file, with a
// second connection standing for another process (the admin CLI, a backup)
// that holds the write lock longer than the busy timeout.
import t, { type Test } from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openDatabase } from "../src/storage/db.ts";
import { BACKGROUND_KEY_PREFIX, backgroundGoingOut, SqliteMessageQueue } from "../src/federation/queue.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An instance database of its own, removed after the test. */
function freshDatabase(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), "coopol-queue-"));
  const db = openDatabase(join(dir, "coopol.sqlite"));
  t.teardown(() => {
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

t.test("a write lock held by another process longer than the busy timeout delays the queue, never stops it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "coopol-queue-"));
  const file = join(dir, "coopol.sqlite");
  const db = openDatabase(file);
  // 5 s in production; short here so that the lock below outlasts it.
  db.$client.pragma("busy_timeout = 100");
  const other = new Database(file);
  t.teardown(() => {
    other.close();
    db.$client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const queue = new SqliteMessageQueue(db.$client, { pollIntervalMs: 50 });
  const handled: unknown[] = [];
  let holdDuringHandler = false;
  const controller = new AbortController();
  const listening = queue.listen(
    async (message) => {
      handled.push(message);
      // Lock the file while this message is being handled: deleting it afterwards must wait.
      if (holdDuringHandler) other.exec("begin immediate");
    },
    { signal: controller.signal },
  );

  // 1. Locked while the worker looks for work.
  other.exec("begin immediate");
  const queuedWhileLocked = (async () => queue.enqueue({ n: 1 }))().catch((error: Error) => error);
  t.ok((await queuedWhileLocked) instanceof Error, "enqueueing while locked fails with an error the caller sees");
  await sleep(400);
  other.exec("commit");
  await queue.enqueue({ n: 2 });
  await sleep(300);
  t.same(handled, [{ n: 2 }], "once the lock is gone, the next message is handled");

  // 2. Locked when the handled message is to be deleted.
  holdDuringHandler = true;
  await queue.enqueue({ n: 3 });
  await sleep(400);
  t.same(handled, [{ n: 2 }, { n: 3 }], "handled once");
  t.equal((await queue.getDepth()).queued, 1, "still in the queue while the file is locked");
  holdDuringHandler = false;
  other.exec("commit");
  await sleep(300);
  t.equal((await queue.getDepth()).queued, 0, "deleted once the lock is released");
  t.same(handled, [{ n: 2 }, { n: 3 }], "and not handled twice");

  controller.abort();
  await listening;
  t.pass("the worker stopped only when asked");
});

t.test("stopping does not wait for a message that never finishes: it stays held and runs again at the next start", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "coopol-queue-"));
  const db = openDatabase(join(dir, "coopol.sqlite"));
  const queue = new SqliteMessageQueue(db.$client, { pollIntervalMs: 50 });
  let started = false;
  const controller = new AbortController();
  // A delivery to a server that accepts the connection and never answers.
  const listening = queue.listen(
    () => {
      started = true;
      return new Promise<void>(() => {});
    },
    { signal: controller.signal },
  );
  await queue.enqueue({ to: "silent" });
  while (!started) await sleep(20);
  controller.abort();
  await listening;
  t.equal((await queue.getDepth()).queued, 1, "the worker stopped; the message is still in the queue");
  db.$client.close();

  const reopened = openDatabase(join(dir, "coopol.sqlite"));
  t.teardown(() => {
    reopened.$client.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const handled: unknown[] = [];
  const again = new AbortController();
  const next = new SqliteMessageQueue(reopened.$client, { pollIntervalMs: 50 }).listen((message) => void handled.push(message), { signal: again.signal });
  while (handled.length === 0) await sleep(20);
  t.same(handled, [{ to: "silent" }], "released and run at the next start");
  again.abort();
  await next;
});

t.test("housekeeping messages (background ordering keys) go after every other due message", async (t) => {
  const db = freshDatabase(t);
  const queue = new SqliteMessageQueue(db.$client, { pollIntervalMs: 50, concurrency: 1 });
  // A fédération's list of sections to three sections, then a campaign to two.
  for (const origin of ["a", "b", "c"]) await queue.enqueue({ list: origin }, { orderingKey: `${BACKGROUND_KEY_PREFIX}sections\n${origin}` });
  await queue.enqueueMany([{ campaign: "a" }, { campaign: "b" }]);
  await queue.enqueue({ post: 1 }, { orderingKey: "note-1\na" });
  const handled: unknown[] = [];
  const controller = new AbortController();
  const listening = queue.listen(async (message) => void handled.push(message), { signal: controller.signal });
  await sleep(400);
  controller.abort();
  await listening;
  t.same(handled, [{ campaign: "a" }, { campaign: "b" }, { post: 1 }, { list: "a" }, { list: "b" }, { list: "c" }], "the campaign and the post first, then the lists in their order");
});

t.test("a background lane is going out while its deliveries are due or held, not while only later retries wait", async (t) => {
  const db = freshDatabase(t);
  const queue = new SqliteMessageQueue(db.$client);
  t.notOk(backgroundGoingOut(db.$client, "sections"), "an empty queue");
  await queue.enqueue({ list: "a" }, { orderingKey: `${BACKGROUND_KEY_PREFIX}sections\na` });
  await queue.enqueue({ notice: "b" }, { orderingKey: `${BACKGROUND_KEY_PREFIX}directory\nb` });
  t.ok(backgroundGoingOut(db.$client, "sections"), "a list due");
  db.$client.prepare("update fedify_queue set available_at = available_at + 3600000").run();
  t.notOk(backgroundGoingOut(db.$client, "sections"), "a retry in an hour (a dead server) does not hold the lane");
  db.$client.prepare("update fedify_queue set locked_at = 1").run();
  t.ok(backgroundGoingOut(db.$client, "sections"), "a delivery in progress");
  t.ok(backgroundGoingOut(db.$client, "directory"), "each lane on its own");
  t.notOk(backgroundGoingOut(db.$client, "other"), "a lane with nothing queued");
});
