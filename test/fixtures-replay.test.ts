// Real payloads of other projects (test/fixtures/activitypub/<project>/, their
// sources in its README.md), replayed at a running instance. Each project is
// a small server of its own on 127.0.0.1 (helpers/fake-peer.ts) that serves
// the actors its payloads name and signs them; each payload's effect is written
// beside it (expected.json) and checked where a member sees it: her home
// timeline, notifications, favourites and replies through masto.js, the
// group's discussion, the event's agenda page; or nothing stored at all.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import t, { type Test } from "tap";
import type { mastodon } from "masto";
import { WebSession } from "./helpers/browser-session.ts";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { mastoLogin } from "./helpers/oauth.ts";
import { FIXTURES, PROJECTS, startPeerFixtures, type Json, type PeerFixtures } from "./helpers/peer-fixtures.ts";

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
  /** A post the group relays back to its members' servers, as Lemmy and Mastodon each read it. */
  relayed?: string;
  /** A line the server logs about it (for what it ignores). */
  log?: string;
}

let coopol: TestInstance;
let client: mastodon.rest.Client;
let web: WebSession;
let postUri = "";
let postId = "";
let fixtures: PeerFixtures;

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
  fixtures = await startPeerFixtures(coopol.origin, postUri);
});

t.teardown(async () => {
  await coopol?.stop();
  await fixtures?.close();
});

t.test("the fixtures are at least 30, from at least 6 projects", async (t) => {
  const files = PROJECTS.flatMap((p) => fixtures.files(p));
  t.ok(files.length >= 30, `${files.length} payloads`);
  t.ok(PROJECTS.length >= 6);
  const readme = readFileSync(join(FIXTURES, "README.md"), "utf8");
  for (const p of PROJECTS) t.match(readme, `## ${p}`, `${p}'s sources are noted`);
});

for (const project of PROJECTS) {
  t.test(project, async (t) => {
    const peer = fixtures.peers.get(project)!;
    const spec = JSON.parse(fixtures.adapt(readFileSync(join(FIXTURES, project, "expected.json"), "utf8"))) as { aliceFollows?: string[]; fixtures: Array<{ file: string; expect: Expectation }> };
    for (const actor of spec.aliceFollows ?? []) {
      const found = await client.v2.search.list({ q: actor, resolve: true, type: "accounts" });
      const account = found.accounts.find((a) => a.url === actor || a.acct.startsWith(actor.split("/").pop()!));
      t.ok(account, `alice finds ${actor}`);
      await client.v1.accounts.$select(account!.id).follow();
      await eventually(() => count("select count(*) as n from follows f join actors a on a.id = f.following_id where a.uri = ? and f.accepted_at is not null", actor), 15_000, `alice follows ${actor}`);
    }
    for (const { file, expect } of spec.fixtures) {
      const activity = fixtures.load(project, file);
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
    const peer = fixtures.peerOf(activity)!;
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
  if (expect.relayed) {
    const uri = expect.relayed;
    const peer = fixtures.peerOf(activity)!;
    const objectOf = (r: Json) => r.object as Json | string | undefined;
    const isPublic = (r: Json) => ([] as unknown[]).concat(r.to, r.cc).includes("https://www.w3.org/ns/activitystreams#Public");
    const ofActivity = await eventually(() => peer.received.find((r) => r.type === "Announce" && typeof objectOf(r) === "object" && (objectOf(r) as Json).type === "Create" && JSON.stringify((objectOf(r) as Json).object).includes(uri)), 15_000, `${what}: Announce(Create)`);
    t.ok(isPublic(ofActivity), `${what}: the group relays the Create in an Announce (FEP-1b12, Lemmy), to Public in full`);
    const boost = await eventually(() => peer.received.find((r) => r.type === "Announce" && objectOf(r) === uri), 15_000, `${what}: Announce(URI)`);
    t.ok(isPublic(boost), `${what}: and boosts the post's URI (Mastodon), to Public in full`);
  }
  if (expect.log) {
    const line = expect.log;
    await eventually(() => coopol.output.slice(before.log).join("").includes(line), 15_000, `${what}: log "${line}"`);
    t.pass(`${what}: logged "${line}"`);
  }
}

// Shortfalls found while replaying peers' payloads, each checked on its own.
// These documents are written here (not captured from a server): each has one
// trait of a real one.
t.test("what a peer's document names or says is never a 5xx", async (t) => {
  const peer = fixtures.peers.get("mastodon")!;
  const actor = `${peer.origin}/users/felix`;
  let n = 0;
  const note = (context: unknown) => {
    const id = `${actor}/statuses/ctx-${++n}`;
    return { "@context": context, id: `${id}/activity`, type: "Create", actor, to: ["https://www.w3.org/ns/activitystreams#Public"], object: { id, type: "Note", attributedTo: actor, content: `<p>contexte ${n}</p>`, to: ["https://www.w3.org/ns/activitystreams#Public"] } };
  };
  for (const [what, context] of [
    ["a context its server serves", ["https://www.w3.org/ns/activitystreams", `${peer.origin}/contexts/mood.jsonld`]],
    ["a context too large to be read", ["https://www.w3.org/ns/activitystreams", `${peer.origin}/contexts/huge.jsonld`]],
    ["a context its server does not serve (404)", ["https://www.w3.org/ns/activitystreams", `${peer.origin}/schemas/unknown.jsonld`]],
    ["a context on a server that does not answer", ["https://www.w3.org/ns/activitystreams", "http://127.0.0.1:9/context.jsonld"]],
    ["litepub's context on another host", ["https://www.w3.org/ns/activitystreams", "https://pleroma.invalid/schemas/litepub-0.1.jsonld", { "@language": "und" }]],
  ] as const) {
    const activity = note(context);
    const res = await peer.send(`${coopol.origin}/inbox`, activity, actor);
    t.equal(res.status, 202, `${what}: 202`);
    await eventually(() => count("select count(*) as n from posts where uri = ?", activity.object.id), 15_000, `${what}: stored`);
  }
  for (const [what, context] of [
    ["a context that is a number", 42],
    ["a context that redefines a keyword", { "@context": { id: "@type" } }],
  ] as const) {
    const res = await peer.send(`${coopol.origin}/inbox`, note(context), actor);
    t.ok(res.status >= 200 && res.status < 500, `${what}: ${res.status}, not a 5xx (${res.body.slice(0, 100)})`);
  }
});

t.test("Mobilizon's online meeting is its Link named Website, its other links are kept, 0 places is no limit", async (t) => {
  const peer = fixtures.peers.get("mobilizon")!;
  const actor = `${peer.origin}/@Alicia`;
  const id = `${peer.origin}/events/links-and-capacity`;
  const activity = {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://litepub.social/litepub/context.jsonld", { sc: "http://schema.org#", mz: "https://joinmobilizon.org/ns#", maximumAttendeeCapacity: "sc:maximumAttendeeCapacity", isOnline: { "@id": "mz:isOnline", "@type": "sc:Boolean" } }],
    id: `${id}/activity`,
    type: "Create",
    actor,
    to: ["https://www.w3.org/ns/activitystreams#Public"],
    object: {
      id,
      type: "Event",
      name: "Réunion publique en ligne",
      attributedTo: actor,
      startTime: "2030-03-01T18:00:00Z",
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      isOnline: true,
      maximumAttendeeCapacity: 0,
      attachment: [
        { type: "Link", name: "Billetterie", href: "https://tickets.example.org/reunion", mediaType: "text/html" },
        { type: "Link", name: "Website", href: "https://visio.example.org/reunion", mediaType: "text/html" },
        { type: "Link", name: "Dangereux", href: "javascript:alert(1)", mediaType: "text/html" },
      ],
    },
  };
  t.equal((await peer.send(`${coopol.origin}/inbox`, activity, actor)).status, 202);
  const row = await eventually(() => coopol.query<{ id: number; online_url: string | null; capacity: number | null }>("select id, online_url, capacity from events where uri = ?", id)[0], 15_000, "event stored");
  t.equal(row.online_url, "https://visio.example.org/reunion", "the online meeting is the Website link");
  t.equal(row.capacity, null, "no attendee limit");
  const links = coopol.query<{ remote_url: string; description: string }>("select remote_url, description from media where event_id = ? order by position", row.id);
  t.same(links, [{ remote_url: "https://tickets.example.org/reunion", description: "Billetterie" }], "the other safe link is kept as an attachment");
  const page = await web.get(`/events/${row.id}`);
  t.ok(page.body.includes("https://visio.example.org/reunion") && page.body.includes("https://tickets.example.org/reunion"), "both show on the event's page");
});

t.test("other peer-facing endpoints: odd requests get a 4xx at worst, Public is written in full", async (t) => {
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${coopol.origin}${path}`, { headers, redirect: "manual" });
    return { status: res.status, body: await res.text() };
  };
  const instance = await get("/api/v1/instance/");
  t.equal(instance.status, 200, "GET /api/v1/instance/ (trailing slash) as Mastodon answers it");
  t.equal(JSON.parse(instance.body).uri, new URL(coopol.origin).host);
  t.equal((await get("/api/v2/instance/")).status, 200);
  for (const [path, accept] of [
    ["/nodeinfo/2.1", "application/x-bogus, */*;q=0"],
    ["/nodeinfo/2.1?x=%ff", "application/json"],
    ["/.well-known/nodeinfo", "text/html"],
    ["/.well-known/webfinger?resource=%E0%A4%A", "application/jrd+json"],
    ["/.well-known/webfinger?resource=acct:", "application/jrd+json"],
    ["/.well-known/webfinger?resource=acct:alice@", "application/jrd+json"],
    ["/.well-known/webfinger", "*/*"],
    ["/users/alice", "application/activity+json; profile=\"x\", application/ld+json;;"],
    ["/users/alice/posts/abc", "application/activity+json"],
    ["/users/%00/outbox?cursor=%ff", "application/activity+json"],
    ["/users/alice/followers?cursor=-1", "application/ld+json"],
  ] as const) {
    const res = await get(path, { accept });
    t.ok(res.status < 500, `${path} (Accept: ${accept}): ${res.status}`);
  }
  const note = await get(new URL(postUri).pathname, { accept: "application/activity+json" });
  t.equal(note.status, 200);
  const doc = JSON.parse(note.body) as Json;
  t.ok(([] as unknown[]).concat(doc.to).includes("https://www.w3.org/ns/activitystreams#Public"), "the Note at its id says Public in full");
  t.notOk(note.body.includes('"as:Public"'), "never as:Public");
  const health = await get("/healthz");
  t.equal(health.status, 200);
});
