// A member moves, takes their data, leaves (issue 14), with three real
// instances: s1 (the old section), s2 (the new one, which also organises an
// event) and s3 (a follower and a thematic group).
// - Move: alice@s1 → alice2@s2 after s2's secretary accepts the transfer; carol
//   on s3 then follows alice2, the group on s3 counts alice2 as its member, s1
//   keeps the record. A Move whose target does not name the old account, an
//   unsigned one and one signed by someone else change nothing.
// - Export: Mastodon's archive layout plus coopol.json.
// - Erasure: erin@s1's posts, answer to s2's event and membership of s3's
//   group are gone from s2 and s3 once she deletes her account; the field
//   result she entered stays as figures without her.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { x } from "tar";
import { request } from "undici";
import { memberSession as session, followState as follows, PASSWORD, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { postSigned, signerFor } from "./helpers/signing.ts";
import { mastoLogin } from "./helpers/oauth.ts";

let s1: TestInstance, s2: TestInstance, s3: TestInstance;
const host = (i: TestInstance) => `127.0.0.1:${i.port}`;
const uriOf = (i: TestInstance, username: string) => `${i.origin}/users/${username}`;
const AP = { accept: "application/activity+json" };



/** Whether the instance's queue still holds an incoming activity (by a piece of its id). */
const queued = (instance: TestInstance, needle: string) => instance.query("select 1 from fedify_queue where message like ?", `%${needle}%`).length > 0;

let group = "";

t.before(async () => {
  // One after the other: three starting at once on a busy CI machine can miss the start deadline.
  s1 = await startInstance("mv1");
  s2 = await startInstance("mv2");
  s3 = await startInstance("mv3");
  for (const name of ["alice", "bea", "erin"]) s1.addMember(name);
  s1.addMember("sec1", "secretary");
  s2.addMember("alice2");
  s2.addMember("bob");
  s2.addMember("sec2", "secretary");
  s3.addMember("carol");
  s3.addMember("dora");
  const dora = await session(s3, "dora");
  t.equal((await dora.post("/groups", { name: "Logement", slug: "logement", policy: "fediverse", visibility: "public" })).status, 303);
  group = uriOf(s3, "g_logement");

  // Each follow or join is asked again until it is stored: the first look-up of a
  // remote actor can time out on a busy machine (the page then says it was not found).
  const ask = (instance: TestInstance, follower: string, following: string, send: () => Promise<unknown>) =>
    eventually(async () => {
      if (follows(instance, uriOf(instance, follower), following) === "none") await send();
      return follows(instance, uriOf(instance, follower), following) !== "none";
    }, 30_000, `${follower} asks to follow ${following}`);
  const carol = await session(s3, "carol");
  for (const name of ["alice", "bea", "erin"]) await ask(s3, "carol", uriOf(s1, name), () => carol.post("/follow", { target: uriOf(s1, name) }));
  const bob = await session(s2, "bob");
  await ask(s2, "bob", uriOf(s1, "erin"), () => bob.post("/follow", { target: uriOf(s1, "erin") }));
  for (const name of ["alice", "erin"]) {
    const s = await session(s1, name);
    await ask(s1, name, group, () => s.post("/groups/join", { handle: `@g_logement@${host(s3)}` }));
  }
  const erin = await session(s1, "erin");
  await ask(s1, "erin", uriOf(s2, "section_mv2"), () => erin.post("/follow", { target: uriOf(s2, "section_mv2") }));
  for (const name of ["alice", "bea", "erin"]) await eventually(() => follows(s3, uriOf(s3, "carol"), uriOf(s1, name)) === "accepted", 30_000, `carol follows ${name}`);
  await eventually(() => follows(s2, uriOf(s2, "bob"), uriOf(s1, "erin")) === "accepted", 30_000, "bob follows erin");
  for (const name of ["alice", "erin"]) await eventually(() => follows(s1, uriOf(s1, name), group) === "accepted" && follows(s3, uriOf(s1, name), group) === "accepted", 30_000, `${name} in the group`);
  await eventually(() => follows(s1, uriOf(s1, "erin"), uriOf(s2, "section_mv2")) === "accepted", 30_000, "erin follows s2's section");
});

t.teardown(async () => {
  await Promise.all([s1?.stop(), s2?.stop(), s3?.stop()]);
});

t.test("alice moves from s1 to s2: followers and group membership follow, s1 keeps the record", async (t) => {
  const alice = await session(s1, "alice");
  const alice2 = await session(s2, "alice2");
  const newHandle = `@alice2@${host(s2)}`;
  // Her contribution to s3's group, before she moves.
  await alice.publish(`@g_logement@${host(s3)} Une proposition d'Alice pour le logement`);
  await eventually(() => s3.query("select 1 from group_posts join posts on posts.id = group_posts.post_id where posts.content like '%proposition d%Alice%'").length, 30_000, "alice's thread in s3's group");
  // Before s2 accepts, the old section refuses to move the account.
  // (Polled: the first look-up of a new account can time out on a busy machine, a 404.)
  const early = await eventually(async () => {
    const res = await alice.post("/settings/move", { new_account: newHandle, password: PASSWORD });
    return res.status === 404 ? null : res;
  }, 30_000, "s1 finds the new account");
  t.equal(early.status, 422, "refused while the new account does not name the old one");
  t.match(early.body, "pas encore accepté");

  const requested = await eventually(async () => {
    const res = await alice2.post("/settings/transfer", { old_account: `@alice@${host(s1)}` });
    return res.status === 404 ? null : res;
  }, 30_000, "s2 finds the old account");
  t.equal(requested.status, 303);
  t.equal((await alice2.post("/members/transfers/1/accept", {})).status, 403, "a member cannot accept");
  const sec2 = await session(s2, "sec2");
  const list = await sec2.get("/members/transfers");
  t.match(list.body, `@alice@${host(s1)}`, "the secretary sees the request");
  const id = s2.query<{ id: number }>("select id from member_transfers where direction = 'in' and status = 'pending'")[0]!.id;
  t.equal((await sec2.post(`/members/transfers/${id}/accept`, {})).status, 303);
  const doc = JSON.parse((await new WebSession(s2.origin).get("/users/alice2", AP)).body);
  t.same([doc.alsoKnownAs].flat(), [uriOf(s1, "alice")], "the new account names the old one");

  t.equal((await alice.post("/settings/move", { new_account: newHandle, password: "wrong password!" })).status, 403, "the password is asked");
  const moved = await eventually(async () => {
    const res = await alice.post("/settings/move", { new_account: newHandle, password: PASSWORD });
    return res.status === 404 ? null : res;
  }, 30_000, "s1 reads the new account again");
  t.equal(moved.status, 200, moved.body.slice(0, 300));
  t.match(moved.body, newHandle);

  // s1: moved, closed, recorded.
  const oldDoc = JSON.parse((await new WebSession(s1.origin).get("/users/alice", AP)).body);
  t.equal(oldDoc.movedTo, uriOf(s2, "alice2"), "the old actor says where it went");
  const login = await new WebSession(s1.origin).post("/login", { username: "alice", password: PASSWORD });
  t.equal(login.status, 403);
  t.match(login.body, newHandle, "logging in shows where the account went");
  t.equal((await alice.get("/settings")).status, 302, "the old session is closed");
  const sec1 = await session(s1, "sec1");
  t.match((await sec1.get("/members/transfers")).body, newHandle, "the old section's secretary sees the transfer");

  // s3: carol follows the new account; the group's member is the new account.
  await eventually(() => follows(s2, uriOf(s3, "carol"), uriOf(s2, "alice2")) === "accepted", 30_000, "carol follows alice2");
  await eventually(() => follows(s3, uriOf(s3, "carol"), uriOf(s1, "alice")) === "none", 30_000, "and no longer the old account");
  await eventually(() => follows(s3, uriOf(s2, "alice2"), group) === "accepted", 30_000, "the group membership moved");
  t.equal(follows(s3, uriOf(s1, "alice"), group), "none");
  await eventually(() => follows(s2, uriOf(s2, "alice2"), group) === "accepted", 30_000, "s2 learnt the membership from the group's Accept");
  t.equal(s3.query<{ moved: string }>("select t.uri as moved from actors a join actors t on t.id = a.moved_to_id where a.uri = ?", uriOf(s1, "alice"))[0]?.moved, uriOf(s2, "alice2"));
  // A Mastodon app on s3 shows the old account as moved.
  const { client } = await mastoLogin(s3.origin, "carol");
  const old = await client.v1.accounts.lookup({ acct: `alice@${host(s1)}` });
  t.equal(old.moved?.acct, `alice2@${host(s2)}`, "Mastodon's `moved` names the new account");
  // Her contributions count for the new account.
  const groupId = s3.query<{ id: number }>("select id from groups where slug = 'logement'")[0]!.id;
  const contributors = (await new WebSession(s3.origin).get(`/debate/${groupId}/contributors`)).body;
  t.match(contributors, `@alice2@${host(s2)}`, "the group's contributors list the new account");
  t.notMatch(contributors, `@alice@${host(s1)}`, "not the old one");
});

t.test("a Move the target does not confirm, an unsigned one and a forged one change nothing", async (t) => {
  const bea = await signerFor(s1, "bea");
  const move = (id: string) => ({ "@context": "https://www.w3.org/ns/activitystreams", id: `${uriOf(s1, "bea")}#moves/${id}`, type: "Move", actor: uriOf(s1, "bea"), object: uriOf(s1, "bea"), target: uriOf(s2, "bob") });
  // Signed by bea, but bob never named her: refused once processed.
  t.equal((await postSigned(`${s3.origin}/inbox`, move("unconfirmed"), bea)).status, 202);
  await eventually(() => !queued(s3, "moves/unconfirmed"), 30_000, "s3 processed it");
  t.equal(follows(s3, uriOf(s3, "carol"), uriOf(s1, "bea")), "accepted", "carol still follows bea");
  t.equal(follows(s3, uriOf(s3, "carol"), uriOf(s2, "bob")), "none");
  t.same(s3.query("select moved_to_id from actors where uri = ?", uriOf(s1, "bea")), [{ moved_to_id: null }]);

  const unsigned = await request(`${s3.origin}/inbox`, { method: "POST", headers: { "content-type": "application/activity+json" }, body: JSON.stringify(move("unsigned")) });
  await unsigned.body.dump();
  t.equal(unsigned.statusCode, 401, "unsigned");
  const sec1 = await signerFor(s1, "sec1");
  t.equal((await postSigned(`${s3.origin}/inbox`, move("forged"), sec1)).status, 401, "signed by another account");
  t.equal(follows(s3, uriOf(s3, "carol"), uriOf(s1, "bea")), "accepted");
});

let erinPostUri = "";

t.test("erin downloads her data: Mastodon's archive layout and Coopol's part", async (t) => {
  const erin = await session(s1, "erin");
  await erin.publish("Premier message d'Erin, à effacer un jour");
  await erin.publish("Deuxième message d'Erin");
  const bea = await session(s1, "bea");
  await bea.publish("Message de Bea");
  const beaPost = s1.query<{ id: number; uri: string }>("select id, uri from posts where content like '%Message de Bea%'")[0]!;
  t.equal((await erin.post(`/posts/${beaPost.id}/like`, {})).status, 303);
  erinPostUri = s1.query<{ uri: string }>("select uri from posts where content like '%Premier message%'")[0]!.uri;

  const page = await erin.get("/settings/data");
  t.equal(page.status, 200);
  for (const text of ["Télécharger mes données", "Je viens d'une autre section", "Je pars pour une autre section", "Supprimer mon compte"]) t.match(page.body, text.replace("'", "&#39;"));
  const res = await request(`${s1.origin}/settings/export`, { headers: { cookie: [...erin.cookies].map(([k, v]) => `${k}=${v}`).join("; ") } });
  t.equal(res.statusCode, 200);
  t.match(res.headers["content-type"], "application/gzip");
  t.match(res.headers["content-disposition"], /attachment; filename="coopol-erin-.*\.tar\.gz"/);
  const dir = mkdtempSync(join(tmpdir(), "coopol-archive-"));
  writeFileSync(join(dir, "archive.tar.gz"), Buffer.from(await res.body.arrayBuffer()));
  await x({ file: join(dir, "archive.tar.gz"), cwd: dir });
  t.same(readdirSync(dir).sort(), ["actor.json", "archive.tar.gz", "bookmarks.json", "coopol.json", "likes.json", "media_attachments", "outbox.json"]);
  const read = (name: string) => JSON.parse(readFileSync(join(dir, name), "utf8"));
  t.match(read("actor.json"), { type: "Person", id: uriOf(s1, "erin"), preferredUsername: "erin" });
  const outbox = read("outbox.json");
  t.match(outbox, { type: "OrderedCollection", totalItems: 2 });
  t.equal(outbox.orderedItems.length, 2);
  t.match(outbox.orderedItems[0], { type: "Create", actor: uriOf(s1, "erin"), object: { type: "Note", id: erinPostUri } });
  t.match(read("likes.json"), { type: "OrderedCollection", totalItems: 1, orderedItems: [beaPost.uri] });
  t.match(read("bookmarks.json"), { type: "OrderedCollection", totalItems: 0 });
  const coopol = read("coopol.json");
  t.match(coopol, { version: 1, account: { username: "erin", role: "member" } });
  t.ok(coopol.groups.some((g: { group: string }) => g.group === group), "her group membership");
  t.equal((await new WebSession(s1.origin).get("/settings/export")).status, 302, "visitors are sent to the login page");
});

t.test("erin deletes her account: s2 and s3 drop her posts, answer and membership", async (t) => {
  // Her posts reached s2 (bob follows her) and s3 (carol); she answers s2's event; she is in s3's group.
  await eventually(() => s2.query("select 1 from posts where uri = ?", erinPostUri).length && s3.query("select 1 from posts where uri = ?", erinPostUri).length, 30_000, "her post on s2 and s3");
  const sec2 = await session(s2, "sec2");
  const created = await sec2.post("/events", { title: "Réunion d'accueil", start: "2027-05-04T18:30", end: "2027-05-04T20:00", timezone: "Europe/Paris", category: "section_meeting", join_mode: "open", audience: "public", for_section: "1" });
  t.equal(created.status, 303, created.body.slice(0, 300));
  const eventUri = `${s2.origin}/events/${/\/events\/(\d+)/.exec(created.location!)![1]}`;
  const local = await eventually(() => s1.query<{ id: number }>("select id from events where uri = ?", eventUri)[0], 30_000, "the event on s1");
  const erin = await session(s1, "erin");
  t.equal((await erin.post(`/events/${local.id}/rsvp`, { answer: "going" })).status, 303);
  const erinOnS2 = () => s2.query<{ id: number }>("select id from actors where uri = ?", uriOf(s1, "erin"))[0]!.id;
  await eventually(() => s2.query("select 1 from rsvps where actor_id = ?", erinOnS2()).length, 30_000, "her answer on s2");

  // A field result she entered: its figures must outlive her.
  const sec1 = await session(s1, "sec1");
  const campaign = await sec1.post("/campaigns", { title: "Municipales", starts: "2027-01-01" });
  t.equal(campaign.status, 303, campaign.body.slice(0, 300));
  const action = await sec1.post(`${new URL(campaign.location!, s1.origin).pathname}/actions`, { type: "leafleting", title: "Tractage au marché", start: "2027-01-09T10:00", shift_start_1: "10:00", shift_end_1: "12:00" });
  t.equal(action.status, 303, action.body.slice(0, 300));
  const actionPath = new URL(action.location!, s1.origin).pathname;
  const shift = s1.query<{ id: number }>("select id from shifts")[0]!.id;
  t.equal((await erin.post(`${actionPath}/shifts/${shift}/signup`, {})).status, 303, "she signs up for a shift");
  t.equal((await erin.post(`${actionPath}/results`, { leaflets: "120" })).status, 303);
  const result = () => s1.query<{ leaflets: number; recorded_by: number | null }>("select leaflets, recorded_by from action_results")[0];
  t.ok(result()?.recorded_by, "her result, linked to her");
  const totalsBefore = s1.query("select * from result_totals");

  t.equal((await erin.post("/settings/delete", { password: "not her password" })).status, 403, "the password is asked");
  const deleted = await erin.post("/settings/delete", { password: PASSWORD });
  t.equal(deleted.status, 200, deleted.body.slice(0, 300));

  // s1: the account is gone, the actor stays as an empty tombstone whose name is not given again.
  t.same(s1.query("select 1 from users where username = 'erin'"), []);
  t.match(s1.query("select name, deleted_at from actors where uri = ?", uriOf(s1, "erin"))[0], { name: "", deleted_at: Number });
  t.same(s1.query("select 1 from posts where actor_id = (select id from actors where uri = ?)", uriOf(s1, "erin")), []);
  t.equal((await new WebSession(s1.origin).get(`/.well-known/webfinger?resource=acct:erin@${host(s1)}`)).status, 404);
  t.throws(() => s1.addMember("erin"), /déjà pris/, "the name cannot be taken again");
  t.same(result(), { leaflets: 120, recorded_by: null }, "her result keeps its figures, without her");
  t.same(s1.query("select 1 from shift_signups"), [], "her shift sign-up is gone");
  t.same(s1.query("select * from result_totals"), totalsBefore, "the totals are unchanged");

  // s2 and s3: nothing of hers is left.
  const erinOnS3 = () => s3.query<{ id: number }>("select id from actors where uri = ?", uriOf(s1, "erin"))[0]!.id;
  await eventually(() => s2.query("select 1 from posts where actor_id = ?", erinOnS2()).length === 0, 30_000, "her posts gone from s2");
  await eventually(() => s3.query("select 1 from posts where actor_id = ?", erinOnS3()).length === 0, 30_000, "and from s3");
  t.same(s2.query("select 1 from rsvps where actor_id = ?", erinOnS2()), [], "her answer is gone from s2");
  t.same(s2.query("select 1 from follows where follower_id = ? or following_id = ?", erinOnS2(), erinOnS2()), []);
  t.same(s3.query("select 1 from follows where follower_id = ? or following_id = ?", erinOnS3(), erinOnS3()), [], "no longer in s3's group, nor followed");
  t.notMatch((await (await session(s3, "carol")).get("/")).body, "Premier message", "not in carol's timeline");
  t.notMatch((await new WebSession(s3.origin).get("/groups/logement")).body, "erin", "not on the group's page");
  t.equal(s3.query<{ n: number }>("select followers_count as n from actors where uri = ?", group)[0]!.n, 2, "the group: its owner and alice2");
});

t.test("a secretary removes an account for good, typing its name", async (t) => {
  const sec1 = await session(s1, "sec1");
  const wrong = await sec1.post("/members/bea/erase", { confirm: "bob" });
  t.equal(wrong.status, 422, "the name must be typed");
  t.equal(s1.query("select 1 from users where username = 'bea'").length, 1);
  const erased = await sec1.post("/members/bea/erase", { confirm: "bea" });
  t.equal(erased.status, 303);
  t.match((await sec1.get(erased.location!)).body, "Le compte de bea est supprimé.");
  t.same(s1.query("select 1 from users where username = 'bea'"), []);
  await eventually(() => follows(s3, uriOf(s3, "carol"), uriOf(s1, "bea")) === "none", 30_000, "s3 dropped carol's follow of bea");
});
