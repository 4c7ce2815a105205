// Polls (Mastodon polls, ActivityPub Questions) on real instance processes:
// through masto.js and megalodon, the web pages, between Coopol instances, and
// with a Question written the way Mastodon sends one.
import t from "tap";
import { join } from "node:path";
import Database from "better-sqlite3";
import type { mastodon } from "masto";
import { request } from "undici";
import { PASSWORD, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { mastoLogin, megalodonLogin } from "./helpers/oauth.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { postSigned, signerFor } from "./helpers/signing.ts";

let a: TestInstance, b: TestInstance, c: TestInstance;
let alice: mastodon.rest.Client, aliceToken: string;
let bob: mastodon.rest.Client;
let bobMegalodon: Awaited<ReturnType<typeof megalodonLogin>>;

t.before(async () => {
  [a, b, c] = await Promise.all([startInstance("pa"), startInstance("pb"), startInstance("pc")]);
  a.addMember("alice");
  a.addMember("bob");
  b.addMember("carol");
  c.addMember("masto");
  ({ client: alice, token: aliceToken } = await mastoLogin(a.origin, "alice"));
  bob = (await mastoLogin(a.origin, "bob")).client;
  bobMegalodon = await megalodonLogin(a.origin, "bob");
});
t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
});

/** The JSON error of a refused request (masto.js and megalodon throw differently). */
function refusal(error: unknown): { status?: number; message: string } {
  const e = error as { statusCode?: number; message?: string; response?: { status: number; data?: { error?: string } } };
  return { status: e.statusCode ?? e.response?.status, message: e.response?.data?.error ?? e.message ?? "" };
}

/** Moves a poll's end into the past, as if its time had run out. */
function expire(instance: TestInstance, pollId: string | number): void {
  const db = new Database(join(instance.dataDir, "coopol.sqlite"));
  try {
    db.prepare("update polls set expires_at = ? where id = ?").run(Date.now() - 1000, Number(pollId));
  } finally {
    db.close();
  }
}

t.test("the API: a poll is created, voted on, and its results are right", async (t) => {
  const instance = await alice.v2.instance.fetch();
  t.same(instance.configuration.polls, { maxOptions: 4, maxCharactersPerOption: 50, minExpiration: 300, maxExpiration: 2_629_746 });

  const status = await alice.v1.statuses.create({ status: "Quelle date pour l'AG ?", poll: { options: ["Mardi", "Jeudi", "Samedi"], expiresIn: 3600 } });
  const poll = status.poll!;
  t.ok(poll, "the status carries its poll");
  t.same(poll.options.map((o) => o.title), ["Mardi", "Jeudi", "Samedi"]);
  t.same(poll.options.map((o) => o.votesCount), [0, 0, 0]);
  t.equal(poll.multiple, false);
  t.equal(poll.expired, false);
  t.ok(Math.abs(new Date(poll.expiresAt!).getTime() - Date.now() - 3_600_000) < 60_000, "ends in an hour");
  t.same(poll.ownVotes, []);
  t.equal(poll.voted, false);

  // Bob votes through megalodon, alice (the author) through masto.js.
  // megalodon passes Mastodon's JSON through; its type lacks own_votes.
  const afterBob = (await bobMegalodon.votePoll(poll.id, [1])).data as unknown as { own_votes: number[]; voted: boolean; votes_count: number };
  t.same(afterBob.own_votes, [1]);
  t.equal(afterBob.voted, true);
  t.equal(afterBob.votes_count, 1);
  const afterAlice = await alice.v1.polls.$select(poll.id).votes.create({ choices: [2] });
  t.same(afterAlice.ownVotes, [2]);
  t.same(afterAlice.options.map((o) => o.votesCount), [0, 1, 1]);
  t.equal(afterAlice.votersCount, 2);

  const seenByBob = await bob.v1.polls.$select(poll.id).fetch();
  t.same(seenByBob.ownVotes, [1], "own_votes are the viewer's");
  t.same((await bob.v1.statuses.$select(status.id).fetch()).poll!.options.map((o) => o.votesCount), [0, 1, 1], "the status shows the counts");
  const anonymous = (await (await request(`${a.origin}/api/v1/polls/${poll.id}`)).body.json()) as Record<string, unknown>;
  t.equal(anonymous.votes_count, 2);
  t.notOk("own_votes" in anonymous, "no own_votes without a viewer");
  // A timeline renders polls too (in one batch with the other statuses).
  const home = await alice.v1.timelines.home.list();
  t.same(home.find((s) => s.id === status.id)?.poll?.votesCount, 2);

  // Refusals, each a 422 with a plain sentence.
  const again = await bobMegalodon.votePoll(poll.id, [0]).catch((e) => e);
  t.match(refusal(again), { status: 422, message: /déjà voté/ });
  const fresh = await alice.v1.statuses.create({ status: "Un seul choix", poll: { options: ["A", "B"], expiresIn: 600 } });
  t.match(refusal(await bob.v1.polls.$select(fresh.poll!.id).votes.create({ choices: [0, 1] }).catch((e) => e)), { status: 422, message: /seul choix/ });
  t.match(refusal(await bob.v1.polls.$select(fresh.poll!.id).votes.create({ choices: [7] }).catch((e) => e)), { status: 422, message: /réponses proposées/ });
  t.match(refusal(await bob.v1.polls.$select(fresh.poll!.id).votes.create({ choices: [] }).catch((e) => e)), { status: 422 });
  t.match(refusal(await bob.v1.polls.$select("999999").fetch().catch((e) => e)), { status: 404 });
  const tooMany = await alice.v1.statuses.create({ status: "Trop", poll: { options: ["1", "2", "3", "4", "5"], expiresIn: 600 } }).catch((e) => e);
  t.match(refusal(tooMany), { status: 422, message: /2 à 4 choix/ });
  const tooLong = await alice.v1.statuses.create({ status: "Long", poll: { options: ["x".repeat(51), "y"], expiresIn: 600 } }).catch((e) => e);
  t.match(refusal(tooLong), { status: 422, message: /50 caractères/ });
  const tooShort = await alice.v1.statuses.create({ status: "Court", poll: { options: ["a", "b"], expiresIn: 60 } }).catch((e) => e);
  t.match(refusal(tooShort), { status: 422, message: /5 minutes/ });

  // An ended poll takes no vote.
  expire(a, fresh.poll!.id);
  t.match(refusal(await bob.v1.polls.$select(fresh.poll!.id).votes.create({ choices: [0] }).catch((e) => e)), { status: 422, message: /terminé/ });
  t.equal((await bob.v1.polls.$select(fresh.poll!.id).fetch()).expired, true);
});

t.test("the API: form fields, several choices, hidden totals, edits", async (t) => {
  // poll[options][] as a urlencoded form, as some clients send it.
  const form = new URLSearchParams([["status", "Quels thèmes ?"], ["poll[options][]", "Logement"], ["poll[options][]", "Transports"], ["poll[options][]", "Écoles"], ["poll[expires_in]", "86400"], ["poll[multiple]", "true"], ["poll[hide_totals]", "true"]]);
  const res = await request(`${a.origin}/api/v1/statuses`, { method: "POST", headers: { authorization: `Bearer ${aliceToken}`, "content-type": "application/x-www-form-urlencoded" }, body: form.toString() });
  const status = (await res.body.json()) as { id: string; poll: { id: string; multiple: boolean; options: Array<{ title: string; votes_count: number | null }> } };
  t.equal(res.statusCode, 200);
  t.equal(status.poll.multiple, true);
  t.same(status.poll.options.map((o) => o.title), ["Logement", "Transports", "Écoles"]);
  const voted = await bob.v1.polls.$select(status.poll.id).votes.create({ choices: [0, 2] });
  t.same(voted.ownVotes, [0, 2]);
  t.same(voted.options.map((o) => o.votesCount), [null, null, null], "totals hidden until the end");
  t.equal(voted.votesCount, 2);
  t.equal(voted.votersCount, 1);

  // Editing the text keeps the poll and its votes; changing the options resets the votes.
  const edited = await alice.v1.statuses.$select(status.id).update({ status: "Quels thèmes pour la campagne ?" });
  t.equal(edited.poll?.votesCount, 2, "votes kept");
  const changed = await alice.v1.statuses.$select(status.id).update({ status: "Quels thèmes ?", poll: { options: ["Logement", "Santé"], expiresIn: 3600 } });
  t.same(changed.poll!.options.map((o) => o.title), ["Logement", "Santé"]);
  t.equal(changed.poll!.votesCount, 0, "votes reset");
  t.same((await bob.v1.polls.$select(changed.poll!.id).fetch()).ownVotes, []);
});

t.test("the web page shows a poll, takes a vote, and the compose form makes one", async (t) => {
  const aliceWeb = new WebSession(a.origin);
  const bobWeb = new WebSession(a.origin);
  await Promise.all([aliceWeb.login("alice", PASSWORD), bobWeb.login("bob", PASSWORD)]);
  const res = await aliceWeb.post("/posts", { text: "Pizza ou couscous ?", visibility: "public", poll_options: "Pizza", poll_expires_in: "3600" });
  t.equal(res.status, 422, "one choice is not a poll");
  t.match(res.body, "2 à 4 choix");
  const form = new URLSearchParams([["text", "Pizza ou couscous ?"], ["visibility", "public"], ["poll_options", "Pizza"], ["poll_options", "Couscous"], ["poll_options", ""], ["poll_options", ""], ["poll_expires_in", "3600"], ["_csrf", aliceWeb.cookies.get("coopol_csrf") ?? ""]]);
  const posted = await request(`${a.origin}/posts`, { method: "POST", headers: { cookie: [...aliceWeb.cookies].map(([k, v]) => `${k}=${v}`).join("; "), "content-type": "application/x-www-form-urlencoded" }, body: form.toString() });
  await posted.body.dump();
  t.equal(posted.statusCode, 303);
  const row = a.query<{ id: number; post_id: number; options: string }>("select polls.id, polls.post_id, polls.options from polls join posts on posts.id = polls.post_id where posts.content like '%Pizza ou couscous%'")[0]!;
  t.same(JSON.parse(row.options), ["Pizza", "Couscous"]);

  const page = await bobWeb.get(`/@alice/${row.post_id}`);
  t.match(page.body, `action="/polls/${row.id}/vote"`, "a vote form for bob");
  t.match(page.body, 'type="radio" name="choices" value="1"');
  t.match((await bobWeb.get("/@alice")).body, "Couscous", "the profile's list shows the poll");
  t.equal((await bobWeb.post(`/polls/${row.id}/vote`, { choices: "1" })).status, 303);
  const after = await bobWeb.get(`/@alice/${row.post_id}`);
  t.notMatch(after.body, `action="/polls/${row.id}/vote"`, "no second vote form");
  t.match(after.body, "votre choix");
  t.match(after.body, /Couscous ✓.*— 1 \(100 %\)/s);
  const twice = await bobWeb.post(`/polls/${row.id}/vote`, { choices: "0" });
  t.equal(twice.status, 422);
  t.match(twice.body, "déjà voté");
  const anonymous = await new WebSession(a.origin).get(`/@alice/${row.post_id}`);
  t.match(anonymous.body, "Couscous");
  t.notMatch(anonymous.body, "/vote", "no form for visitors");
});

t.test("when a poll ends, its author and its voters are told once", async (t) => {
  const status = await alice.v1.statuses.create({ status: "Fin proche", poll: { options: ["Oui", "Non"], expiresIn: 300 } });
  await bob.v1.polls.$select(status.poll!.id).votes.create({ choices: [0] });
  expire(a, status.poll!.id);
  // The job runs at start and every minute: a restart runs it now.
  await a.stop();
  await a.start();
  const told = (username: string) => a.query("select 1 from notifications n join users u on u.id = n.user_id where u.username = ? and n.type = 'poll' and n.post_id = ?", username, Number(status.id)).length;
  await eventually(() => told("alice") === 1 && told("bob") === 1, 15_000, "poll notifications");
  const list = await bob.v1.notifications.list({ types: ["poll"] });
  t.equal(list[0]?.status?.id, status.id);
  t.equal(list[0]?.status?.poll?.expired, true);
  await a.stop();
  await a.start();
  await new Promise((r) => setTimeout(r, 500));
  t.equal(told("alice") + told("bob"), 2, "only once");
});

t.test("a poll on A is voted on from B, and B sees the new counts", async (t) => {
  const carol = (await mastoLogin(b.origin, "carol")).client;
  const found = await carol.v2.search.list({ q: `@alice@${new URL(a.origin).host}`, resolve: true, type: "accounts" });
  await carol.v1.accounts.$select(found.accounts[0]!.id).follow();
  await eventually(() => a.query("select 1 from follows f join actors x on x.id = f.follower_id where x.username = 'carol' and f.accepted_at is not null").length === 1, 15_000, "carol follows alice");

  const status = await alice.v1.statuses.create({ status: "On tracte samedi ?", poll: { options: ["Oui", "Non"], expiresIn: 86_400 } });
  const onB = await eventually(() => b.query<{ id: number }>("select id from posts where uri = ?", status.uri)[0], 15_000, "the Question on B");
  const remote = await carol.v1.statuses.$select(String(onB.id)).fetch();
  t.same(remote.poll!.options.map((o) => o.title), ["Oui", "Non"]);
  t.equal(remote.poll!.multiple, false);

  const voted = await carol.v1.polls.$select(remote.poll!.id).votes.create({ choices: [0] });
  t.same(voted.ownVotes, [0]);
  t.same(voted.options.map((o) => o.votesCount), [1, 0], "counted at once on B");
  const pollOnA = Number(status.poll!.id);
  await eventually(() => a.query("select 1 from poll_votes v join actors x on x.id = v.actor_id where v.poll_id = ? and x.username = 'carol' and v.choice = 0", pollOnA).length === 1, 15_000, "carol's vote on A");
  t.same(a.query("select id from posts where content = '' and in_reply_to_id = ?", Number(status.id)), [], "the vote is not a post on A");
  t.same((await alice.v1.polls.$select(status.poll!.id).fetch()).options.map((o) => o.votesCount), [1, 0]);

  // Bob votes on A: B learns the new counts only from A's Update(Question).
  await bob.v1.polls.$select(status.poll!.id).votes.create({ choices: [1] });
  await eventually(async () => {
    const seen = await carol.v1.polls.$select(remote.poll!.id).fetch();
    return seen.options[1]!.votesCount === 1 && seen.votersCount === 2;
  }, 20_000, "the Update(Question) on B");
  const seen = await carol.v1.statuses.$select(String(onB.id)).fetch();
  t.same(seen.poll!.ownVotes, [0], "carol's own vote is still hers");
  t.equal(seen.editedAt, null, "new counts are not an edit");
  t.match(refusal(await carol.v1.polls.$select(remote.poll!.id).votes.create({ choices: [1] }).catch((e) => e)), { status: 422 });

  // A section-only poll never leaves A.
  const secret = await alice.v1.statuses.create({ status: "Vote interne : qui tient le stand ?", visibility: "section" as "private", poll: { options: ["Alice", "Bob"], expiresIn: 3600 } });
  t.ok(secret.poll);
  await alice.v1.statuses.create({ status: "Message public après le sondage interne" });
  await eventually(() => b.query("select 1 from posts where content like '%après le sondage interne%'").length === 1, 15_000, "the later public post on B");
  t.same(b.query("select id from posts where uri = ?", secret.uri), [], "B never received the section poll");
  const fetched = await request(secret.uri, { headers: { accept: "application/activity+json" } });
  await fetched.body.dump();
  t.not(fetched.statusCode, 200, "nor can anyone fetch it");
  await bob.v1.polls.$select(secret.poll!.id).votes.create({ choices: [0] });
  await new Promise((r) => setTimeout(r, 4000));
  t.same(b.query("select id from posts where uri = ?", secret.uri), [], "its votes send nothing either");

  // The public poll as other servers read it: Mastodon's Question shape.
  const question = (await (await request(status.uri, { headers: { accept: "application/activity+json" } })).body.json()) as Record<string, unknown>;
  t.match(question, { type: "Question", votersCount: 2, endTime: String, oneOf: [{ type: "Note", name: "Oui", replies: { type: "Collection", totalItems: 1 } }, { type: "Note", name: "Non", replies: { totalItems: 1 } }] });
});

t.test("a Question as Mastodon sends it is stored, voted on, and refreshed", async (t) => {
  const masto = await signerFor(c, "masto");
  const endTime = new Date(Date.now() + 86_400_000).toISOString();
  const questionId = `${c.origin}/users/masto/statuses/110000000000000001`;
  const context = ["https://www.w3.org/ns/activitystreams", { ostatus: "http://ostatus.org#", toot: "http://joinmastodon.org/ns#", votersCount: "toot:votersCount", sensitive: "as:sensitive", Hashtag: "as:Hashtag" }];
  // Mastodon's format (docs.joinmastodon.org/spec/activitypub/#Question).
  const question = (counts: number[], voters: number) => ({
    id: questionId,
    type: "Question",
    summary: null,
    inReplyTo: null,
    published: new Date().toISOString(),
    url: `${c.origin}/@masto/110000000000000001`,
    attributedTo: masto.actorUri,
    to: ["https://www.w3.org/ns/activitystreams#Public"],
    cc: [`${masto.actorUri}/followers`],
    sensitive: false,
    content: "<p>Votre transport pour venir ?</p>",
    contentMap: { fr: "<p>Votre transport pour venir ?</p>" },
    attachment: [],
    tag: [],
    endTime,
    votersCount: voters,
    anyOf: [
      { type: "Note", name: "Vélo", replies: { type: "Collection", totalItems: counts[0] } },
      { type: "Note", name: "Bus", replies: { type: "Collection", totalItems: counts[1] } },
      { type: "Note", name: "Voiture", replies: { type: "Collection", totalItems: counts[2] } },
    ],
  });
  const create = { "@context": context, id: `${questionId}/activity`, type: "Create", actor: masto.actorUri, published: new Date().toISOString(), to: ["https://www.w3.org/ns/activitystreams#Public"], cc: [`${masto.actorUri}/followers`], object: question([4, 2, 1], 5) };
  t.equal((await postSigned(`${a.origin}/inbox`, create, masto)).status, 202);
  const stored = await eventually(() => a.query<{ id: number }>("select id from posts where uri = ?", questionId)[0], 15_000, "the Question on A");
  const status = await alice.v1.statuses.$select(String(stored.id)).fetch();
  t.match(status.content, "Votre transport");
  t.same(status.poll!.options.map((o) => [o.title, o.votesCount]), [["Vélo", 4], ["Bus", 2], ["Voiture", 1]]);
  t.equal(status.poll!.multiple, true, "anyOf: several choices");
  t.equal(status.poll!.votersCount, 5);
  t.equal(new Date(status.poll!.expiresAt!).toISOString(), endTime);

  // Alice votes for two options: each goes to the poll's author as a Note.
  const voted = await alice.v1.polls.$select(status.poll!.id).votes.create({ choices: [0, 1] });
  t.same(voted.ownVotes, [0, 1]);
  t.same(voted.options.map((o) => o.votesCount), [5, 3, 1]);
  const votes = a.query<{ uri: string }>("select uri from poll_votes where poll_id = ?", Number(status.poll!.id));
  t.equal(votes.length, 2);
  for (const vote of votes) {
    await eventually(() => c.query("select 1 from fedify_kv where key like ?", `%${vote.uri}/activity%`).length > 0, 15_000, "the vote delivered to the poll's server");
  }
  t.same(c.query("select id from posts where content = ''"), [], "a vote-shaped Note never becomes a post");

  // Mastodon then sends the Question again with its counts.
  const update = { "@context": context, id: `${questionId}#updates/1`, type: "Update", actor: masto.actorUri, to: ["https://www.w3.org/ns/activitystreams#Public"], object: question([9, 3, 1], 8) };
  t.equal((await postSigned(`${a.origin}/inbox`, update, masto)).status, 202);
  await eventually(async () => (await alice.v1.polls.$select(status.poll!.id).fetch()).votersCount === 8, 15_000, "the Update(Question) on A");
  const refreshed = await alice.v1.polls.$select(status.poll!.id).fetch();
  t.same(refreshed.options.map((o) => o.votesCount), [9, 3, 1]);
  t.same(refreshed.ownVotes, [0, 1]);
});

t.test("a vote from a Mastodon server on our poll is counted when it is valid", async (t) => {
  const masto = await signerFor(c, "masto");
  const status = await alice.v1.statuses.create({ status: "Réunion en ligne ou sur place ?", poll: { options: ["En ligne", "Sur place"], expiresIn: 3600 } });
  const voteOf = (n: number, name: string, target = status.uri) => ({
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${masto.actorUri}#votes/${n}/activity`,
    type: "Create",
    actor: masto.actorUri,
    to: `${a.origin}/users/alice`,
    object: { id: `${masto.actorUri}#votes/${n}`, type: "Note", name, attributedTo: masto.actorUri, inReplyTo: target, to: `${a.origin}/users/alice` },
  });
  t.equal((await postSigned(`${a.origin}/users/alice/inbox`, voteOf(1, "Sur place"), masto)).status, 202);
  await eventually(async () => (await alice.v1.polls.$select(status.poll!.id).fetch()).options[1]!.votesCount === 1, 15_000, "the remote vote");
  // A second vote on a one-choice poll, an unknown option: dropped, and never posts.
  await postSigned(`${a.origin}/users/alice/inbox`, voteOf(2, "En ligne"), masto);
  await postSigned(`${a.origin}/users/alice/inbox`, voteOf(3, "Peut-être"), masto);
  const secret = await alice.v1.statuses.create({ status: "Sondage interne", visibility: "section" as "private", poll: { options: ["Oui", "Non"], expiresIn: 3600 } });
  await postSigned(`${a.origin}/users/alice/inbox`, voteOf(4, "Oui", secret.uri), masto);
  await new Promise((r) => setTimeout(r, 2000));
  t.same((await alice.v1.polls.$select(status.poll!.id).fetch()).options.map((o) => o.votesCount), [0, 1]);
  t.same((await alice.v1.polls.$select(secret.poll!.id).fetch()).votesCount, 0, "no remote vote on a section poll");
  t.same(a.query("select id from posts where content = ''"), [], "no vote became a post");
});
