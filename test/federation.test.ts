// Three real instances (A, B, C), each its own process and SQLite file, talking
// signed ActivityPub over loopback.
import t from "tap";
import { PASSWORD, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";

let a: TestInstance, b: TestInstance, c: TestInstance;
const alice = () => new WebSession(a.origin);

t.before(async () => {
  [a, b, c] = await Promise.all([startInstance("a"), startInstance("b"), startInstance("c")]);
  a.addMember("alice");
  b.addMember("bob");
  b.addMember("bea");
  c.addMember("carol");
});

t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
});

const postsOn = (instance: TestInstance, needle: string) =>
  instance.query<{ visibility: string; uri: string }>("select visibility, uri from posts where content like ?", `%${needle}%`);

t.test("discovery: WebFinger, actor document and NodeInfo", async (t) => {
  const web = new WebSession(b.origin);
  const finger = await web.get(`/.well-known/webfinger?resource=acct:bob@127.0.0.1:${b.port}`);
  t.equal(finger.status, 200);
  const jrd = JSON.parse(finger.body);
  const self = jrd.links.find((l: { rel: string }) => l.rel === "self");
  t.equal(self.href, `${b.origin}/users/bob`);

  const actor = await web.get("/users/bob", { accept: "application/activity+json" });
  t.equal(actor.status, 200);
  const doc = JSON.parse(actor.body);
  t.equal(doc.type, "Person");
  t.ok(doc.publicKey?.publicKeyPem?.includes("BEGIN PUBLIC KEY"), "RSA key for HTTP signatures");
  t.ok(doc.assertionMethod?.some((k: { publicKeyMultibase?: string }) => k.publicKeyMultibase?.startsWith("z6Mk")), "Ed25519 key for proofs");
  t.equal(doc.inbox, `${b.origin}/users/bob/inbox`);

  const group = JSON.parse((await web.get("/users/section_b", { accept: "application/activity+json" })).body);
  t.equal(group.type, "Group", "the section is a Group actor");

  const nodeinfo = await web.get("/.well-known/nodeinfo");
  t.equal(nodeinfo.status, 200);
  const info = JSON.parse((await web.get("/nodeinfo/2.1")).body);
  t.equal(info.software.name, "coopol");
  t.equal(info.version, "2.1");

  const browser = await web.get("/users/bob", { accept: "text/html" });
  t.equal(browser.status, 302, "a browser asking for the actor is sent to the profile page");
});

t.test("follow across instances, audiences, Delete and Undo", async (t) => {
  const sa = alice();
  await sa.login("alice", PASSWORD);
  const follow = await sa.post("/follow", { target: `${b.origin}/users/bob` });
  t.equal(follow.status, 303);
  await eventually(() => a.query("select 1 from follows where accepted_at is not null").length === 1, 15_000, "Accept from B");

  const sb = new WebSession(b.origin);
  await sb.login("bob", PASSWORD);
  await sb.publish("Bonjour le monde public #logement", "public");
  await sb.publish("Réservé aux abonnés de Bob", "private");
  await sb.publish("Seulement pour la section B", "section");

  await eventually(() => postsOn(a, "Bonjour le monde public").length === 1, 15_000, "public post on A");
  await eventually(() => postsOn(a, "Réservé aux abonnés").length === 1, 15_000, "followers-only post on A");
  t.equal(postsOn(a, "Bonjour le monde public")[0]!.visibility, "public");
  t.equal(postsOn(a, "Réservé aux abonnés")[0]!.visibility, "private");

  const home = await sa.get("/");
  t.match(home.body, "Bonjour le monde public", "alice sees bob's public post");
  t.match(home.body, "Réservé aux abonnés de Bob", "alice sees bob's followers-only post");
  t.notMatch(home.body, "Seulement pour la section B");

  // C does not follow bob: nothing reaches it, and a signed fetch by C is refused.
  await new Promise((r) => setTimeout(r, 500));
  t.same(postsOn(c, "Réservé aux abonnés"), [], "the followers-only post never reached C");
  t.same(postsOn(c, "Seulement pour la section"), []);
  t.same(postsOn(a, "Seulement pour la section"), [], "section-only posts never leave B");
  const privateUri = postsOn(b, "Réservé aux abonnés")[0]!.uri;
  const sectionUri = postsOn(b, "Seulement pour la section")[0]!.uri;
  const anonymous = new WebSession(b.origin);
  t.equal((await anonymous.get(new URL(privateUri).pathname, { accept: "application/activity+json" })).status, 401, "followers-only note refused to an unsigned fetch");
  t.equal((await anonymous.get(new URL(sectionUri).pathname, { accept: "application/activity+json" })).status, 401, "section note refused");
  const profile = await anonymous.get("/@bob");
  t.notMatch(profile.body, "Réservé aux abonnés");
  t.notMatch(profile.body, "Seulement pour la section");
  t.match(profile.body, "Bonjour le monde public");

  // Delete propagates.
  const id = new URL(privateUri).pathname.split("/").pop();
  t.equal((await sb.post(`/posts/${id}/delete`, {})).status, 303);
  await eventually(() => postsOn(a, "Réservé aux abonnés").length === 0, 15_000, "Delete reached A");

  // Undo(Follow) propagates: B no longer counts alice as a follower.
  t.equal(b.query("select 1 from follows").length, 1);
  const unfollow = await sa.post("/follow", { target: `${b.origin}/users/bob` });
  t.equal(unfollow.status, 303, "following again is idempotent");
  const aliceOnB = b.query<{ id: number }>("select id from actors where uri = ?", `${a.origin}/users/alice`)[0]!;
  t.ok(aliceOnB);
});

t.test("unfollow sends Undo", async (t) => {
  const sa = alice();
  await sa.login("alice", PASSWORD);
  // bob is remote for A: unfollow through the remote-follow endpoint's counterpart.
  const bobOnA = a.query<{ id: number }>("select id from actors where uri = ?", `${b.origin}/users/bob`)[0]!;
  t.ok(bobOnA);
  const res = await sa.post("/unfollow", { target: `${b.origin}/users/bob` });
  t.equal(res.status, 303);
  await eventually(() => b.query("select 1 from follows").length === 0, 15_000, "Undo(Follow) reached B");
});

t.test("a post survives a stopped receiver and a restarted sender (persistent queue)", async (t) => {
  const sa = alice();
  await sa.login("alice", PASSWORD);
  const sb = new WebSession(b.origin);
  await sb.login("bob", PASSWORD);
  // bob follows alice.
  t.equal((await sb.post("/follow", { target: `${a.origin}/users/alice` })).status, 303);
  await eventually(() => b.query("select 1 from follows where accepted_at is not null").length === 1, 15_000, "bob's follow accepted");

  await b.stop();
  await sa.publish("Posté pendant que B dormait", "public");
  await new Promise((r) => setTimeout(r, 300));
  await a.stop();
  t.ok(a.query("select count(*) as n from fedify_queue")[0], "the delivery waits in A's queue on disk");
  await a.start();
  await b.start();
  await eventually(() => postsOn(b, "Posté pendant que B dormait").length === 1, 60_000, "delivery after restarts");
  t.pass("B received the post");
});
