// Real payloads of other projects (test/fixtures/activitypub/<project>/, their
// sources in its README.md), replayed at a running instance. Each project is
// a small server of its own on 127.0.0.1 (helpers/fake-peer.ts) that serves
// the actors its payloads name and signs them; each payload's effect is written
// beside it (expected.json) and checked where a member sees it: her home
// timeline, notifications, favourites and replies through masto.js, the
// group's discussion, the event's agenda page; or nothing stored at all.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import t, { type Test } from "tap";
import type { mastodon } from "masto";
import { WebSession } from "./helpers/browser-session.ts";
import { startFakePeer, type FakePeer } from "./helpers/fake-peer.ts";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { mastoLogin } from "./helpers/oauth.ts";

const FIXTURES = new URL("./fixtures/activitypub/", import.meta.url).pathname;
/** Projects in the order they are replayed (a later payload may refer to an earlier one's effect). */
const PROJECTS = ["mastodon", "pleroma", "friendica", "lemmy", "peertube", "wordpress", "gnusocial", "mitra", "smithereen", "lotide", "mobilizon", "gancio"];

type Json = Record<string, unknown>;
interface Expectation {
  status?: number;
  signer?: string;
  post?: string;
  in?: "home" | "notifications" | "group" | "replies" | "stored";
  gone?: string;
  favourites?: number;
  likes?: { post: string; count: number };
  follower?: { actor: string; of: string; present: boolean };
  delivered?: string;
  report?: boolean;
  event?: string;
  title?: string;
  capacity?: number | null;
  ignored?: boolean;
}

let coopol: TestInstance;
let client: mastodon.rest.Client;
let web: WebSession;
let postUri = "";
let postId = "";
const peers = new Map<string, FakePeer>();
let third: FakePeer;

/** The payload with its placeholder hosts pointed at the test's servers. */
function adapt(text: string): string {
  let out = text.replaceAll("https://coopol.example/users/alice/posts/POST", postUri).replaceAll("https://coopol.example", coopol.origin).replaceAll("https://third.example", third.origin);
  for (const [project, peer] of peers) out = out.replaceAll(`https://${project}.example`, peer.origin);
  return out;
}

function load(project: string, file: string): Json {
  return JSON.parse(adapt(readFileSync(join(FIXTURES, project, file), "utf8")));
}

/** Every actor a payload names on its own server (actor, attributedTo), served by that server. */
function actorsOf(value: unknown, origin: string, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) actorsOf(v, origin, found);
  else if (value && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      if ((key === "actor" || key === "attributedTo") && typeof v === "string" && v.startsWith(origin)) found.add(v);
      actorsOf(v, origin, found);
    }
  }
  return found;
}

const count = (sql: string, ...params: unknown[]) => coopol.query<{ n: number }>(sql, ...params)[0]!.n;
const totals = () => ["posts", "likes", "follows", "events", "post_flags"].map((table) => count(`select count(*) as n from ${table}`)).join(",");
const favourites = async () => (await client.v1.statuses.$select(postId).fetch()).favouritesCount;

t.before(async () => {
  coopol = await startInstance("replay", { LOG_LEVEL: "info" });
  coopol.addMember("alice");
  web = new WebSession(coopol.origin);
  await web.login("alice", PASSWORD);
  const group = await web.post("/groups", { name: "Vélo", slug: "velo", policy: "fediverse", visibility: "public" });
  if (group.status !== 303) throw new Error(`group: ${group.status}`);
  ({ client } = await mastoLogin(coopol.origin, "alice"));
  const status = await client.v1.statuses.create({ status: "Bonjour le fédivers !", visibility: "public" });
  postUri = status.uri;
  postId = status.id;
  third = await startFakePeer();
  for (const project of PROJECTS) peers.set(project, await startFakePeer());
  for (const [project, peer] of peers) {
    for (const file of readdirSync(join(FIXTURES, project)).filter((f) => f.endsWith(".json") && f !== "expected.json")) {
      for (const actor of actorsOf(load(project, file), peer.origin)) peer.addActor(actor, /\/(c|communities|video-channels)\//.test(actor) ? "Group" : "Person");
    }
  }
});

t.teardown(async () => {
  await coopol?.stop();
  await Promise.all([...peers.values(), third].filter(Boolean).map((p) => p.close()));
});

t.test("the fixtures are at least 30, from at least 6 projects", async (t) => {
  const files = PROJECTS.flatMap((p) => readdirSync(join(FIXTURES, p)).filter((f) => f.endsWith(".json") && f !== "expected.json"));
  t.ok(files.length >= 30, `${files.length} payloads`);
  t.ok(PROJECTS.length >= 6);
  const readme = readFileSync(join(FIXTURES, "README.md"), "utf8");
  for (const p of PROJECTS) t.match(readme, `## ${p}`, `${p}'s sources are noted`);
});

for (const project of PROJECTS) {
  t.test(project, async (t) => {
    const peer = peers.get(project)!;
    const spec = JSON.parse(adapt(readFileSync(join(FIXTURES, project, "expected.json"), "utf8"))) as { aliceFollows?: string[]; fixtures: Array<{ file: string; expect: Expectation }> };
    for (const actor of spec.aliceFollows ?? []) {
      const found = await client.v2.search.list({ q: actor, resolve: true, type: "accounts" });
      const account = found.accounts.find((a) => a.url === actor || a.acct.startsWith(actor.split("/").pop()!));
      t.ok(account, `alice finds ${actor}`);
      await client.v1.accounts.$select(account!.id).follow();
      await eventually(() => count("select count(*) as n from follows f join actors a on a.id = f.following_id where a.uri = ? and f.accepted_at is not null", actor), 15_000, `alice follows ${actor}`);
    }
    for (const { file, expect } of spec.fixtures) {
      const activity = load(project, file);
      const before = { totals: totals(), favourites: expect.favourites !== undefined ? await favourites() : 0, log: coopol.output.length };
      const signer = expect.signer ?? String(typeof activity.actor === "string" ? activity.actor : (activity.actor as Json)?.id);
      const res = await peer.send(`${coopol.origin}/inbox`, activity, signer);
      t.equal(res.status, expect.status ?? 202, `${project}/${file}: answered ${expect.status ?? 202} (${res.body.slice(0, 120)})`);
      await check(t, project, file, activity, expect, before);
    }
  });
}

async function check(t: Test, project: string, file: string, activity: Json, expect: Expectation, before: { totals: string; favourites: number; log: number }) {
  const what = `${project}/${file}`;
  if (expect.post) {
    const uri = expect.post;
    await eventually(() => count("select count(*) as n from posts where uri = ?", uri), 15_000, `${what} stored`);
    if (expect.in === "home") {
      const found = await eventually(async () => (await client.v1.timelines.home.list({ limit: 40 })).find((s) => s.uri === uri), 15_000, `${what} in alice's home`);
      t.ok(found, `${what}: in alice's home timeline`);
    } else if (expect.in === "notifications") {
      const found = await eventually(async () => (await client.v1.notifications.list({ limit: 40 })).find((n) => n.status?.uri === uri), 15_000, `${what} in alice's notifications`);
      t.ok(found, `${what}: in alice's notifications (${found.type})`);
    } else if (expect.in === "replies") {
      const found = await eventually(async () => (await client.v1.statuses.$select(postId).context.fetch()).descendants.find((s) => s.uri === uri), 15_000, `${what} under alice's post`);
      t.ok(found, `${what}: a reply under alice's post`);
    } else if (expect.in === "group") {
      await eventually(() => count("select count(*) as n from group_posts gp join posts p on p.id = gp.post_id join groups g on g.id = gp.group_id where p.uri = ? and g.slug = 'velo'", uri), 15_000, `${what} in the group`);
      const page = await web.get("/groups/velo");
      t.equal(page.status, 200);
      t.pass(`${what}: in the group's discussion`);
    } else t.pass(`${what}: stored`);
  }
  if (expect.gone) {
    const uri = expect.gone;
    await eventually(() => count("select count(*) as n from posts where uri = ?", uri) === 0, 15_000, `${what} deleted`);
    const home = await client.v1.timelines.home.list({ limit: 40 });
    t.notOk(home.some((s) => s.uri === uri), `${what}: gone from alice's home timeline`);
  }
  if (expect.favourites !== undefined) {
    const wanted = before.favourites + expect.favourites;
    await eventually(async () => (await favourites()) === wanted, 15_000, `${what} favourites ${wanted}`);
    t.pass(`${what}: alice's post has ${wanted} favourites`);
  }
  if (expect.likes) {
    const { post, count: n } = expect.likes;
    await eventually(() => count("select count(*) as n from likes l join posts p on p.id = l.post_id where p.uri = ?", post) === n, 15_000, `${what} likes ${n}`);
    t.pass(`${what}: ${n} like(s) on ${post}`);
  }
  if (expect.follower) {
    const { actor, of, present } = expect.follower;
    const n = () => count("select count(*) as n from follows f join actors a on a.id = f.follower_id join actors l on l.id = f.following_id where a.uri = ? and l.username = ? and l.local = 1 and f.accepted_at is not null", actor, of);
    await eventually(() => (n() > 0) === present, 15_000, `${what} follower`);
    if (of === "alice") t.equal((await client.v1.accounts.verifyCredentials()).followersCount, count("select count(*) as n from follows f join actors l on l.id = f.following_id where l.username = 'alice' and l.local = 1 and f.accepted_at is not null"), `${what}: alice's followers count says so`);
    t.pass(`${what}: ${actor} ${present ? "follows" : "no longer follows"} ${of}`);
  }
  if (expect.delivered) {
    const type = expect.delivered;
    const peer = [...peers.values()].find((p) => String(activity.actor).startsWith(p.origin))!;
    await eventually(() => peer.received.some((r) => r.type === type && JSON.stringify(r.object).includes(String(activity.id))), 15_000, `${what}: ${type} sent back`);
    t.pass(`${what}: ${type} sent back to its server`);
  }
  if (expect.report) {
    await eventually(() => count("select count(*) as n from post_flags where uri = ?", String(activity.id)), 15_000, `${what} report`);
    t.pass(`${what}: kept as a report`);
  }
  if (expect.event) {
    const uri = expect.event;
    const row = await eventually(() => coopol.query<{ id: number; capacity: number | null }>("select id, capacity from events where uri = ?", uri)[0], 15_000, `${what} event`);
    const page = await web.get(`/events/${row.id}`);
    t.equal(page.status, 200, `${what}: the event has its agenda page`);
    t.ok(page.body.includes(expect.title!), `${what}: titled "${expect.title}"`);
    if ("capacity" in expect) t.equal(row.capacity, expect.capacity, `${what}: capacity ${expect.capacity}`);
  }
  if (expect.ignored) {
    // Long enough for the queue to have run anything it accepted.
    await new Promise((r) => setTimeout(r, 1000));
    t.equal(totals(), before.totals, `${what}: ignored, nothing stored`);
  }
}
