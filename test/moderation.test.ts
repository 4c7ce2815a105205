// Moderation of thematic groups across two real instances: a member of B
// reports a post in A's group (a Flag from B's instance actor), A's moderators
// see it in their queue, hide the post (gone from the discussion), take
// another out of the group (B drops it from the group too), and the journal
// says who did what and why. A Mastodon-shaped Flag, signed, is stored too.
import t from "tap";
import { memberSession as session, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { postSigned, signerFor } from "./helpers/signing.ts";

let a: TestInstance, b: TestInstance;
const host = (i: TestInstance) => `127.0.0.1:${i.port}`;
const AS = "https://www.w3.org/ns/activitystreams";
let group = "";


const postsLike = (instance: TestInstance, needle: string) => instance.query<{ id: number; uri: string }>("select id, uri from posts where content like ? and reblog_of_id is null", `%${needle}%`);
const inGroup = (instance: TestInstance, needle: string) =>
  instance.query("select 1 from group_posts join posts on posts.id = group_posts.post_id where posts.content like ?", `%${needle}%`).length > 0;

t.before(async () => {
  [a, b] = await Promise.all([startInstance("moda"), startInstance("modb")]);
  a.addMember("alice");
  a.addMember("mod");
  a.addMember("amelie");
  a.addMember("adm", "admin");
  b.addMember("bob");
  b.addMember("bea");
  group = `${a.origin}/users/g_climat`;
});

t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

t.test("a member of B reports a post in A's group; A's moderators handle it", async (t) => {
  const alice = await session(a, "alice");
  t.equal((await alice.post("/groups", { name: "Climat", slug: "climat", policy: "fediverse", visibility: "public" })).status, 303);
  const mod = await session(a, "mod");
  const amelie = await session(a, "amelie");
  t.equal((await mod.post("/groups/climat/join", {})).status, 303);
  t.equal((await amelie.post("/groups/climat/join", {})).status, 303);
  const modActor = a.query<{ id: number }>("select id from actors where username = 'mod' and local = 1")[0]!.id;
  t.equal((await alice.post(`/groups/climat/members/${modActor}`, { action: "moderator" })).status, 303);
  for (const name of ["bob", "bea"]) {
    const s = await session(b, name);
    t.equal((await s.post("/groups/join", { handle: `@g_climat@${host(a)}` })).status, 303);
    await eventually(() => b.query("select 1 from follows f join actors m on m.id = f.follower_id join actors g on g.id = f.following_id where m.username = ? and g.uri = ? and f.accepted_at is not null", name, group).length === 1, 15_000, `${name} accepted`);
  }

  // Amelie opens a thread with an insulting post; it reaches B through the group.
  const opened = await amelie.post("/groups/climat/threads", { title: "Sobriété", text: "Vous êtes tous des INSULTE" });
  t.equal(opened.status, 303);
  const threadPath = opened.location!;
  const onB = await eventually(() => postsLike(b, "INSULTE")[0], 15_000, "the post reached B");
  await eventually(() => inGroup(b, "INSULTE"), 15_000, "in the group's discussion on B");

  // Bob, on B, reports it: stored on B, and a Flag goes to A (the group's server and the author's).
  const bob = await session(b, "bob");
  const flagged = await bob.post(`/moderation/flag/${onB.id}`, { comment: "Insulte envers les membres", back: "/" });
  t.equal(flagged.status, 303, flagged.body.slice(0, 300));
  t.match(flagged.location ?? "", /notice=flagged/);
  const onA = postsLike(a, "INSULTE")[0]!;
  await eventually(() => a.query("select 1 from post_flags where post_id = ?", onA.id).length === 1, 15_000, "A stored the Flag");
  const row = a.query<{ group_id: number; comment: string; reporter: string }>(
    "select post_flags.group_id, comment, actors.uri as reporter from post_flags join actors on actors.id = post_flags.reporter_actor_id where post_id = ?",
    onA.id,
  )[0]!;
  t.equal(row.comment, "Insulte envers les membres");
  t.equal(row.reporter, `${b.origin}/users/instance`, "sent by B's instance actor, not by bob");
  t.ok(row.group_id, "in the group's queue");

  // The moderators' queue: the group's moderator sees it; a plain member does not.
  const queue = await mod.get("/groups/climat/moderation");
  t.equal(queue.status, 200);
  t.match(queue.body, "Insulte envers les membres");
  t.match(queue.body, "INSULTE");
  t.equal((await amelie.get("/groups/climat/moderation")).status, 403, "not for members");
  t.equal((await amelie.post(`/groups/climat/posts/${onA.id}/moderate`, { action: "hide" })).status, 403, "a member cannot hide");

  // Hidden: off the group's page and thread for members, still there for moderators.
  const hidden = await mod.post(`/groups/climat/posts/${onA.id}/moderate`, { action: "hide", reason: "Règle 1 : courtoisie", back: "/groups/climat/moderation" });
  t.equal(hidden.status, 303);
  t.notMatch((await new WebSession(a.origin).get("/groups/climat")).body, "Sobriété", "the thread is gone from the group's page");
  t.equal((await amelie.get(threadPath)).status, 404, "and from the discussion");
  const asMod = await mod.get(threadPath);
  t.match(asMod.body, "INSULTE", "moderators still see it");
  t.match(asMod.body, "masqué");
  t.equal(a.query("select state from post_flags where post_id = ?", onA.id)[0]?.state, "resolved", "hiding resolves its reports");
  const outbox = JSON.parse((await new WebSession(a.origin).get("/users/g_climat/outbox?page=true", { accept: "application/activity+json" })).body);
  t.notMatch(JSON.stringify(outbox), `/announces/${onA.id}`, "not in the group's outbox");

  // Another post is taken out of the group: A undoes its Announce, B drops it from the group.
  const second = await alice.post("/groups/climat/threads", { title: "Hors sujet", text: "Publicité HORSSUJET" });
  t.equal(second.status, 303);
  await eventually(() => inGroup(b, "HORSSUJET"), 15_000, "the second post is in the group on B");
  const offTopic = postsLike(a, "HORSSUJET")[0]!;
  t.equal((await mod.post(`/groups/climat/posts/${offTopic.id}/moderate`, { action: "remove", reason: "Hors sujet" })).status, 303);
  t.notOk(inGroup(a, "HORSSUJET"), "out of the group on A");
  await eventually(() => !inGroup(b, "HORSSUJET"), 15_000, "B dropped it from the group (Undo of the Announce)");
  t.equal(postsLike(a, "HORSSUJET").length, 1, "the author's post itself stays");

  // The log: who did what, and why.
  const log = await mod.get("/groups/climat/moderation/log");
  t.equal(log.status, 200);
  t.match(log.body, "Journal de modération");
  t.match(log.body, "@mod");
  t.match(log.body, "Règle 1 : courtoisie");
  t.match(log.body, "Hors sujet");
  t.match(log.body, "a masqué");
  t.same(
    a.query<{ action: string; username: string }>("select action, users.username from moderation_log join users on users.id = moderation_log.moderator_id order by moderation_log.id").map((r) => `${r.username}:${r.action}`),
    ["mod:hide", "mod:remove"],
  );
  t.equal((await amelie.get("/groups/climat/moderation/log")).status, 403);

  // Shown again: back in the discussion, logged.
  t.equal((await mod.post(`/groups/climat/posts/${onA.id}/moderate`, { action: "unhide", reason: "Excuses présentées" })).status, 303);
  t.equal((await amelie.get(threadPath)).status, 200);
  t.match((await mod.get("/groups/climat/moderation/log")).body, "Excuses présentées");
});

t.test("a Mastodon-shaped Flag, signed, is stored for the instance's admins", async (t) => {
  const alice = await session(a, "alice");
  await alice.publish("Un message hors groupe SIGNALEMOI");
  const post = postsLike(a, "SIGNALEMOI")[0]!;
  // As Mastodon sends it: from an actor of the other server, object = [account, post], content = comment.
  const signer = await signerFor(b, "bea");
  const flag = {
    "@context": AS,
    id: `${b.origin}/flags/mastodon-1`,
    type: "Flag",
    actor: signer.actorUri,
    content: "Spam",
    object: [`${a.origin}/users/alice`, post.uri],
  };
  const res = await postSigned(`${a.origin}/inbox`, flag, signer);
  t.ok(res.status < 300, `accepted (${res.status})`);
  await eventually(() => a.query("select 1 from post_flags where uri = ?", flag.id).length === 1, 15_000, "the Flag is stored");
  t.equal(a.query("select group_id from post_flags where uri = ?", flag.id)[0]?.group_id, null, "not a group's: the instance's queue");
  // Replayed: still one.
  await postSigned(`${a.origin}/inbox`, { ...flag }, signer);
  await new Promise((r) => setTimeout(r, 500));
  t.equal(a.query("select 1 from post_flags where uri like ?", `${flag.id}%`).length, 1);

  const adm = await session(a, "adm");
  const queue = await adm.get("/moderation");
  t.equal(queue.status, 200);
  t.match(queue.body, "SIGNALEMOI");
  t.match(queue.body, "Spam");
  t.equal((await alice.get("/moderation")).status, 403, "members do not see the instance's queue");
  const flagId = a.query<{ id: number }>("select id from post_flags where uri = ?", flag.id)[0]!.id;
  t.equal((await adm.post(`/moderation/flags/${flagId}`, { state: "dismissed", reason: "Pas du spam" })).status, 303);
  t.equal(a.query("select state from post_flags where id = ?", flagId)[0]?.state, "dismissed");
  t.match((await adm.get("/moderation/log")).body, "Pas du spam");

  // A Flag naming nothing we moderate (someone else's post elsewhere) is dropped.
  await postSigned(`${a.origin}/inbox`, { ...flag, id: `${b.origin}/flags/mastodon-2`, object: ["https://elsewhere.example/users/x", "https://elsewhere.example/notes/1"] }, signer);
  await new Promise((r) => setTimeout(r, 800));
  t.equal(a.query("select 1 from post_flags where uri like ?", `${b.origin}/flags/mastodon-2%`).length, 0);
});
