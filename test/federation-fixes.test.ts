// Federation fixes, each checked on real instances (separate processes, each
// with its own SQLite file): edits and deletions reach the servers that only
// follow the section, a Delete keeps its post's audience, Fedify's own log
// reaches the instance's log, the delivery retry policy, expired KV entries
// purged, unknown actors answered 404, and NodeInfo's homepage.
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { Writable } from "node:stream";
import t from "tap";
import Database from "better-sqlite3";
import { getLogger } from "@logtape/logtape";
import pino from "pino";
import { request } from "undici";
import { PASSWORD, eventually, freePort, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { configureFedifyLogging } from "../src/federation/logging.ts";

let fa: TestInstance, fb: TestInstance, fc: TestInstance;
let alice: WebSession, bea: WebSession, carol: WebSession;

t.before(async () => {
  [fa, fb, fc] = await Promise.all([startInstance("fa"), startInstance("fb"), startInstance("fc")]);
  fa.addMember("alice");
  fb.addMember("bea");
  fc.addMember("carol");
  alice = new WebSession(fa.origin);
  bea = new WebSession(fb.origin);
  carol = new WebSession(fc.origin);
  await Promise.all([alice.login("alice", PASSWORD), bea.login("bea", PASSWORD), carol.login("carol", PASSWORD)]);
});

t.teardown(async () => {
  await Promise.all([fa?.stop(), fb?.stop(), fc?.stop()]);
});

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
const list = (value: unknown): string[] => (value == null ? [] : Array.isArray(value) ? value : [value]).map((v) => (typeof v === "string" ? v : String((v as { id?: string }).id)));
const postIdOn = (instance: TestInstance, needle: string) =>
  instance.query<{ id: number }>("select id from posts where content like ? and reblog_of_id is null", `%${needle}%`)[0]?.id;

interface QueuedOutbox {
  type: string;
  attempt: number;
  started: string;
  inbox: string;
  activityId?: string;
  activity: Record<string, unknown>;
  [key: string]: unknown;
}
const queued = (instance: TestInstance) =>
  instance
    .query<{ id: number; message: string }>("select id, message from fedify_queue order by id")
    .map((row) => ({ id: row.id, message: JSON.parse(row.message) as QueuedOutbox }));

t.test("edits and deletions reach servers that only follow the section", async (t) => {
  // bea follows the section's Group, not alice.
  t.equal((await bea.post("/follow", { target: `${fa.origin}/users/section_fa` })).status, 303);
  await eventually(() => fb.query("select 1 from follows f join actors x on x.id = f.following_id where x.username = 'section_fa' and f.accepted_at is not null").length === 1, 15_000, "the section accepts bea");
  t.equal(fb.query("select 1 from follows f join actors x on x.id = f.following_id where x.username = 'alice'").length, 0, "nobody on fb follows alice");

  await alice.publish("Assemblée générale mardi soir", "public");
  await eventually(() => postIdOn(fb, "Assemblée générale mardi"), 15_000, "the relayed post on fb");
  await eventually(() => fb.query("select 1 from posts r join actors x on x.id = r.actor_id where x.username = 'section_fa' and r.reblog_of_id is not null").length === 1, 15_000, "the section's Announce on fb");

  const id = postIdOn(fa, "Assemblée générale mardi")!;
  t.equal((await alice.post(`/posts/${id}/edit`, { text: "Assemblée générale mercredi soir" })).status, 303);
  await eventually(() => fb.query("select 1 from posts where content like '%générale mercredi%' and edited_at is not null").length === 1, 15_000, "Update(Note) reached fb");
  t.match((await bea.get("/")).body, "générale mercredi", "bea sees the edited text");

  t.equal((await alice.post(`/posts/${id}/delete`, {})).status, 303);
  await eventually(() => !postIdOn(fb, "Assemblée générale"), 15_000, "Delete reached fb");
  t.equal(fb.query("select 1 from posts r join actors x on x.id = r.actor_id where x.username = 'section_fa' and r.reblog_of_id is not null").length, 0, "the section's boost is gone too");
  t.notMatch((await bea.get("/")).body, "Assemblée générale");
});

t.test("a Delete is addressed like the post it deletes", async (t) => {
  t.equal((await carol.post("/follow", { target: `${fa.origin}/users/alice` })).status, 303);
  await eventually(() => fc.query("select 1 from follows where accepted_at is not null").length === 1, 15_000, "carol follows alice");
  await alice.publish("Réservé aux abonnés de Alice", "private");
  await alice.publish(`@carol@127.0.0.1:${fc.port} rendez-vous discret`, "direct");
  await eventually(() => postIdOn(fc, "Réservé aux abonnés de Alice") && postIdOn(fc, "rendez-vous discret"), 15_000, "both posts on fc");

  // With fc stopped, the Deletes wait in fa's queue, where their JSON can be read.
  await fc.stop();
  const privateId = postIdOn(fa, "Réservé aux abonnés de Alice")!;
  const directId = postIdOn(fa, "rendez-vous discret")!;
  t.equal((await alice.post(`/posts/${privateId}/delete`, {})).status, 303);
  t.equal((await alice.post(`/posts/${directId}/delete`, {})).status, 303);
  const deleteOf = (postId: number) => queued(fa).find((q) => q.message.type === "outbox" && q.message.activityId === `${fa.origin}/users/alice/posts/${postId}#delete`)?.message.activity;

  const ofPrivate = await eventually(() => deleteOf(privateId), 15_000, "the followers-only post's Delete in the queue");
  t.same(list(ofPrivate.to), [`${fa.origin}/users/alice/followers`], "to: the author's followers");
  t.same(list(ofPrivate.cc), [], "no cc");

  const ofDirect = await eventually(() => deleteOf(directId), 15_000, "the direct post's Delete in the queue");
  t.same(list(ofDirect.to), [`${fc.origin}/users/carol`], "to: the person mentioned");
  t.same(list(ofDirect.cc), [], "no cc");
  for (const activity of [ofPrivate, ofDirect]) {
    const audience = [...list(activity.to), ...list(activity.cc), ...list(activity.bto), ...list(activity.bcc), ...list(activity.audience)];
    t.notOk(audience.some((a) => a === PUBLIC || a === "as:Public" || a === "Public"), "never addressed to the public");
  }
});

t.test("Fedify's own log reaches the instance's log", async (t) => {
  const lines = () => fa.output.join("").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { component?: string; category?: string; msg?: string; level?: number });
  // fc is stopped since the previous test: Fedify logs the failed deliveries.
  const failed = await eventually(() => lines().find((l) => l.component === "fedify" && /Failed to send activity/.test(l.msg ?? "")), 15_000, "a delivery failure logged");
  t.match(failed.category, /^fedify\.federation\.outbox/);
  t.equal(failed.level, 50, "at error level");

  // A refused (missing) signature is logged too.
  const body = JSON.stringify({
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${fb.origin}/users/bea#tests/${randomUUID()}`,
    type: "Like",
    actor: `${fb.origin}/users/bea`,
    object: `${fa.origin}/users/alice`,
  });
  const res = await request(`${fa.origin}/inbox`, { method: "POST", headers: { "content-type": "application/activity+json" }, body });
  await res.body.dump();
  t.equal(res.statusCode, 401);
  await eventually(() => lines().some((l) => l.component === "fedify" && /Failed to verify/.test(l.msg ?? "")), 15_000, "the refused signature logged");
  // Below debug level, Fedify's info lines (one per successful delivery) are left out.
  t.notOk(lines().some((l) => l.component === "fedify" && (l.level ?? 0) < 40), "nothing below warning at LOG_LEVEL=warn");
});

t.test("configuring the Fedify log twice in one process", async (t) => {
  const captured = (into: string[]) =>
    pino({ level: "warn" }, new Writable({ write(chunk, _encoding, done) { into.push(chunk.toString()); done(); } }));
  const first: string[] = [];
  const second: string[] = [];
  configureFedifyLogging(captured(first), "warn");
  t.doesNotThrow(() => configureFedifyLogging(captured(second), "warn"), "the second configuration replaces the first");
  getLogger(["fedify", "test"]).warn("probe {n}", { n: 1 });
  getLogger(["fedify", "test"]).info("not kept at warn");
  t.equal(first.length, 0);
  t.equal(second.length, 1);
  t.match(JSON.parse(second[0]!), { component: "fedify", category: "fedify.test", msg: "probe 1", n: 1 });
});

t.test("deliveries are retried for two days, then given up", async (t) => {
  // Take a real signed delivery from fa's queue (to fc, still stopped), and
  // put back two copies aimed at closed ports: one started an hour ago and
  // already tried 12 times, one started three days ago.
  const sample = queued(fa).find((q) => q.message.type === "outbox")?.message;
  t.ok(sample, "a delivery waits in the queue");
  await fa.stop();
  const [recentPort, oldPort] = [await freePort(), await freePort()];
  const recentInbox = `http://127.0.0.1:${recentPort}/inbox`;
  const oldInbox = `http://127.0.0.1:${oldPort}/inbox`;
  const { circuitHeld: _held, circuitHeldSince: _since, ...base } = sample!;
  const db = new Database(join(fa.dataDir, "coopol.sqlite"));
  const insert = db.prepare("insert into fedify_queue (message, ordering_key, available_at) values (?, null, ?)");
  const ids = [
    insert.run(JSON.stringify({ ...base, inbox: recentInbox, sharedInbox: false, attempt: 12, started: new Date(Date.now() - 3_600_000).toISOString() }), Date.now()).lastInsertRowid,
    insert.run(JSON.stringify({ ...base, inbox: oldInbox, sharedInbox: false, attempt: 1, started: new Date(Date.now() - 72 * 3_600_000).toISOString() }), Date.now()).lastInsertRowid,
  ].map(Number);
  db.close();
  await fa.start();

  await eventually(() => fa.query(`select 1 from fedify_queue where id in (${ids.join(",")})`).length === 0, 15_000, "both tried");
  await new Promise((r) => setTimeout(r, 200));
  const retried = queued(fa).filter((q) => q.message.inbox === recentInbox);
  t.equal(retried.length, 1, "a delivery one hour old is retried even after 13 attempts");
  t.equal(retried[0]?.message.attempt, 13);
  t.equal(queued(fa).filter((q) => q.message.inbox === oldInbox).length, 0, "a delivery three days old is given up");
  // The log line may come a moment after the queue row is gone.
  t.ok(await eventually(() => fa.output.join("").includes("giving up"), 10_000, "the log line"), "and the instance's log says so");
});

t.test("expired KV entries are purged", async (t) => {
  await fb.stop();
  const db = new Database(join(fb.dataDir, "coopol.sqlite"));
  const set = db.prepare("insert into fedify_kv (key, value, expires_at) values (?, '1', ?)");
  set.run('["coopol","test","expired"]', Date.now() - 1000);
  set.run('["coopol","test","alive"]', Date.now() + 3_600_000);
  set.run('["coopol","test","forever"]', null);
  db.close();
  await fb.start();
  await eventually(() => fb.query("select 1 from fedify_kv where key = '[\"coopol\",\"test\",\"expired\"]'").length === 0, 5_000, "expired row deleted");
  t.same(fb.query<{ key: string }>("select key from fedify_kv where key like '[\"coopol\",\"test\",%' order by key").map((r) => r.key), ['["coopol","test","alive"]', '["coopol","test","forever"]'], "live rows kept");
});

t.test("an unknown actor asked for as ActivityPub is a 404", async (t) => {
  const web = new WebSession(fb.origin);
  const unknown = await web.get("/users/nobody", { accept: "application/activity+json" });
  t.equal(unknown.status, 404);
  t.same(JSON.parse(unknown.body), { error: "Not found" });
  const ld = await web.get("/users/nobody", { accept: 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"' });
  t.equal(ld.status, 404);
  t.equal((await web.get("/users/nobody/outbox", { accept: "application/activity+json" })).status, 404);
  t.equal((await web.get("/users/bea", { accept: "application/activity+json" })).status, 200, "a known actor is served");
  const browser = await web.get("/users/bea", { accept: "text/html" });
  t.equal(browser.status, 302, "browsers are still sent to the profile page");
  t.equal(browser.location, "/@bea");
});

t.test("NodeInfo's homepage is the instance's about page", async (t) => {
  const info = JSON.parse((await new WebSession(fb.origin).get("/nodeinfo/2.1")).body);
  t.equal(info.software.homepage, `${fb.origin}/about`);
});
