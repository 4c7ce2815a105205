// Interactions between two real instances: locked accounts and follow
// approval, mentions and replies, likes, boosts, edits, and the section's
// Group actor relaying its members' public posts.
import t from "tap";
import { PASSWORD, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";

let a: TestInstance, b: TestInstance;
let alice: WebSession, bob: WebSession, bea: WebSession;

t.before(async () => {
  [a, b] = await Promise.all([startInstance("ia"), startInstance("ib")]);
  a.addMember("alice");
  b.addMember("bob");
  b.addMember("bea");
  alice = new WebSession(a.origin);
  bob = new WebSession(b.origin);
  bea = new WebSession(b.origin);
  await Promise.all([alice.login("alice", PASSWORD), bob.login("bob", PASSWORD), bea.login("bea", PASSWORD)]);
});

t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const one = <T>(rows: T[]) => rows[0];

t.test("a locked account approves follow requests by hand", async (t) => {
  t.equal((await bob.post("/settings", { display_name: "Bob Durand", bio: "Militant #logement", locked: "1" })).status, 303);
  t.equal((await alice.post("/follow", { target: `${b.origin}/users/bob` })).status, 303);
  await eventually(() => b.query("select 1 from follows where accepted_at is null").length === 1, 15_000, "request on B");
  t.equal(a.query("select 1 from follows where accepted_at is not null").length, 0, "not accepted yet");
  const requests = await bob.get("/follow-requests");
  t.match(requests.body, "alice");
  const aliceId = one(b.query<{ id: number }>("select id from actors where uri = ?", `${a.origin}/users/alice`))!.id;
  t.equal((await bob.post(`/follow-requests/${aliceId}/accept`, {})).status, 303);
  await eventually(() => a.query("select 1 from follows where accepted_at is not null").length === 1, 15_000, "Accept reached A");
  // The profile change travelled too (Update of the actor).
  await eventually(() => one(a.query<{ name: string; locked: number }>("select name, locked from actors where username = 'bob'"))?.name === "Bob Durand", 15_000, "Update(Person) on A");
  t.equal(one(a.query<{ locked: number }>("select locked from actors where username = 'bob'"))!.locked, 1);
});

t.test("mentions, replies, likes, boosts and edits cross instances", async (t) => {
  await alice.publish(`Bonjour @bob@127.0.0.1:${b.port}, on parle #logement ?`, "public");
  const onB = await eventually(() => one(b.query<{ id: number; uri: string }>("select id, uri from posts where content like '%on parle%'")), 15_000, "mention on B") as { id: number; uri: string };
  const bobId = one(b.query<{ id: number }>("select id from actors where username = 'bob' and local = 1"))!.id;
  t.equal(b.query("select 1 from mentions where post_id = ? and actor_id = ?", onB.id, bobId).length, 1, "bob is mentioned");
  t.equal(b.query("select 1 from post_tags where post_id = ? and tag = 'logement'", onB.id).length, 1, "hashtag kept");
  t.match((await bob.get("/")).body, "on parle", "the mention shows in bob's timeline");

  await bob.publish("Oui, avec plaisir !", "public", { in_reply_to_id: String(onB.id) });
  const aliceId = one(a.query<{ id: number }>("select id from posts where content like '%on parle%'"))!.id;
  await eventually(() => a.query("select 1 from posts where in_reply_to_id = ?", aliceId).length === 1, 15_000, "reply on A");
  t.equal(one(a.query<{ replies_count: number }>("select replies_count from posts where id = ?", aliceId))!.replies_count, 1);

  t.equal((await bob.post(`/posts/${onB.id}/like`, {})).status, 303);
  await eventually(() => one(a.query<{ n: number }>("select favourites_count as n from posts where id = ?", aliceId))!.n === 1, 15_000, "Like on A");
  t.equal((await bob.post(`/posts/${onB.id}/unlike`, {})).status, 303);
  await eventually(() => one(a.query<{ n: number }>("select favourites_count as n from posts where id = ?", aliceId))!.n === 0, 15_000, "Undo(Like) on A");

  t.equal((await bob.post(`/posts/${onB.id}/boost`, {})).status, 303);
  await eventually(() => one(a.query<{ n: number }>("select reblogs_count as n from posts where id = ?", aliceId))!.n === 1, 15_000, "Announce on A");
  t.equal((await bob.post(`/posts/${onB.id}/unboost`, {})).status, 303);
  await eventually(() => one(a.query<{ n: number }>("select reblogs_count as n from posts where id = ?", aliceId))!.n === 0, 15_000, "Undo(Announce) on A");

  t.equal((await alice.post(`/posts/${aliceId}/edit`, { text: `Bonjour @bob@127.0.0.1:${b.port}, on parle #logement ce soir ?` })).status, 303);
  await eventually(() => b.query("select 1 from posts where content like '%ce soir%' and edited_at is not null").length === 1, 15_000, "Update(Note) on B");
});

t.test("direct messages reach only the people mentioned", async (t) => {
  await alice.publish(`@bob@127.0.0.1:${b.port} message privé pour toi`, "direct");
  await eventually(() => b.query("select 1 from posts where content like '%message privé%' and visibility = 'direct'").length === 1, 15_000, "DM on B");
  t.match((await bob.get("/")).body, "message privé");
  t.notMatch((await bea.get("/")).body, "message privé", "bea, on the same instance, does not see it");
  t.notMatch((await new WebSession(b.origin).get("/")).body, "message privé");
});

t.test("the section's Group actor relays its members' public posts", async (t) => {
  t.equal((await bea.post("/follow", { target: `${a.origin}/users/section_ia` })).status, 303);
  await eventually(() => b.query("select 1 from follows f join actors x on x.id = f.following_id where x.username = 'section_ia' and f.accepted_at is not null").length === 1, 15_000, "the section accepts at once");
  await alice.publish("Réunion de section jeudi", "public");
  await eventually(
    () => b.query("select 1 from posts r join actors x on x.id = r.actor_id where x.username = 'section_ia' and r.reblog_of_id is not null").length === 1,
    15_000,
    "Announce by the section on B",
  );
  t.match((await bea.get("/")).body, "Réunion de section jeudi", "bea sees it through the section");
  await alice.publish("Compte rendu réservé", "section");
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(b.query("select 1 from posts where content like '%Compte rendu réservé%'").length, 0, "section-only posts are never relayed");
});
