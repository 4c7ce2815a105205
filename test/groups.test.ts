// Thematic groups across instances (FEP-1b12), with three real instances:
// a group on A with members from A, B and C; posts relayed by the group's
// Announce; bans; a members-only group whose posts never reach an instance
// without members; Mastodon- and Lemmy-shaped JSON joining and posting; the
// group as a `group: true` account through masto.js.
import t from "tap";
import { memberSession as session, followState, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { postSigned, signerFor } from "./helpers/signing.ts";
import { mastoLogin } from "./helpers/oauth.ts";

let a: TestInstance, b: TestInstance, c: TestInstance;
const host = (i: TestInstance) => `127.0.0.1:${i.port}`;
const AS = "https://www.w3.org/ns/activitystreams";
const PUBLIC = `${AS}#Public`;


const postsLike = (instance: TestInstance, needle: string) =>
  instance.query<{ id: number; uri: string; visibility: string; content: string }>("select id, uri, visibility, content from posts where content like ?", `%${needle}%`);


/** Whether a text appears anywhere an instance keeps things: posts, Fedify's cache, its queue. */
function holds(instance: TestInstance, text: string): boolean {
  const like = `%${text}%`;
  return (
    instance.query("select 1 from posts where content like ?", like).length > 0 ||
    instance.query("select 1 from fedify_kv where value like ?", like).length > 0 ||
    instance.query("select 1 from fedify_queue where message like ?", like).length > 0
  );
}

let logement = "";
let strategie = "";

t.before(async () => {
  [a, b, c] = await Promise.all([startInstance("a"), startInstance("b", { COOPOL_GROUPS_NEED_APPROVAL: "true" }), startInstance("c")]);
  a.addMember("alice");
  a.addMember("amelie");
  a.addMember("sylvain", "sympathisant");
  b.addMember("bob");
  b.addMember("bruno");
  b.addMember("bsec", "secretary");
  c.addMember("carol");
  c.addMember("dora");
  c.addMember("lem");
  logement = `${a.origin}/users/g_logement`;
  strategie = `${a.origin}/users/g_strategie`;
});

t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
});

t.test("a member proposes a group: it is a Group actor distinct from the section", async (t) => {
  const alice = await session(a, "alice");
  const created = await alice.post("/groups", {
    name: "Logement",
    slug: "logement",
    description: "Loyers, logement social, encadrement.",
    rules: "Restez courtois.",
    themes: "#logement, loyers",
    policy: "fediverse",
    visibility: "public",
  });
  t.equal(created.status, 303, created.body.slice(0, 300));
  t.equal(created.location, "/groups/logement");

  const anon = new WebSession(a.origin);
  const doc = JSON.parse((await anon.get("/users/g_logement", { accept: "application/activity+json" })).body);
  t.equal(doc.type, "Group");
  t.equal(doc.name, "Logement");
  const fields = ([] as Array<{ name: string; value: string }>).concat(doc.attachment ?? []);
  t.ok(fields.some((f) => f.name === "coopol:kind" && f.value === "group"), "the document says it is a thematic group");
  const section = JSON.parse((await anon.get("/users/section_a", { accept: "application/activity+json" })).body);
  t.ok(([] as Array<{ name: string; value: string }>).concat(section.attachment ?? []).some((f) => f.name === "coopol:kind" && f.value === "section"), "the section's node actor says it is the section");
  const finger = JSON.parse((await anon.get(`/.well-known/webfinger?resource=acct:g_logement@${host(a)}`)).body);
  t.equal(finger.links.find((l: { rel: string }) => l.rel === "self").href, logement);

  const page = await anon.get("/groups/logement");
  t.equal(page.status, 200);
  t.match(page.body, "Restez courtois.");
  const directory = await anon.get("/groups?q=loyers");
  t.match(directory.body, "Logement", "found by theme");
  t.notMatch((await anon.get("/groups?q=climat")).body, "/groups/logement");

  // A sympathisant cannot propose a group; nor can a member take a g_ name.
  const sylvain = await session(a, "sylvain");
  t.equal((await sylvain.post("/groups", { name: "Interdit" })).status, 403);
  t.not(a.cli(["member", "add", "--username", "g_logement2", "--password-file", "/dev/null"]).status, 0);
});

t.test("with COOPOL_GROUPS_NEED_APPROVAL, a secretary approves a proposed group", async (t) => {
  const bob = await session(b, "bob");
  const proposed = await bob.post("/groups", { name: "Transports", slug: "transports", policy: "party_only" });
  t.equal(proposed.location, "/groups?notice=proposed");
  t.equal((await new WebSession(b.origin).get("/users/g_transports", { accept: "application/activity+json" })).status, 404, "no actor before approval");
  const id = b.query<{ id: number }>("select id from groups where slug = 'transports'")[0]!.id;
  t.equal((await bob.post(`/groups/review/${id}`, { decision: "approve" })).status, 403, "a member cannot approve");
  const sec = await session(b, "bsec");
  t.equal((await sec.post(`/groups/review/${id}`, { decision: "approve" })).status, 303);
  t.equal((await new WebSession(b.origin).get("/users/g_transports", { accept: "application/activity+json" })).status, 200);
  t.equal(b.query<{ role: string; username: string }>("select role, actors.username from group_roles join actors on actors.id = group_roles.actor_id")[0]?.username, "bob", "the proposer owns it");
});

t.test("members from A, B and C join by Follow; a post from B reaches C through A's Announce", async (t) => {
  const amelie = await session(a, "amelie");
  t.equal((await amelie.post("/groups/logement/join", {})).status, 303);
  for (const [instance, name] of [[b, "bob"], [b, "bruno"], [c, "carol"]] as const) {
    const s = await session(instance, name);
    const joined = await s.post("/groups/join", { handle: `@g_logement@${host(a)}` });
    t.equal(joined.status, 303, joined.body.slice(0, 300));
  }
  for (const [instance, name] of [[b, "bob"], [b, "bruno"], [c, "carol"]] as const) {
    await eventually(() => followState(instance, `${instance.origin}/users/${name}`, logement) === "accepted", 15_000, `${name} accepted`);
  }
  t.equal(followState(a, `${a.origin}/users/amelie`, logement), "accepted");
  t.equal(a.query<{ n: number }>("select followers_count as n from actors where uri = ?", logement)[0]!.n, 5, "owner + 4 members");
  t.ok(c.query("select 1 from groups where actor_id = (select id from actors where uri = ?)", logement).length, "C knows it as a thematic group");

  const bob = await session(b, "bob");
  await bob.publish(`@g_logement@${host(a)} Proposition : encadrer les loyers partout #logement`);
  await eventually(() => a.query("select 1 from group_posts join posts on posts.id = group_posts.post_id where posts.content like '%encadrer les loyers%'").length === 1, 15_000, "A took the post into the group");
  await eventually(() => postsLike(c, "encadrer les loyers").length === 1, 15_000, "the post reached C");
  const onC = postsLike(c, "encadrer les loyers")[0]!;
  t.equal(onC.uri.startsWith(b.origin), true, "C stored B's own Note, fetched from B");
  await eventually(() => c.query("select 1 from posts where reblog_of_id = ? and actor_id = (select id from actors where uri = ?)", onC.id, logement).length === 1, 15_000, "as the group's boost");
  const carolHome = await (await session(c, "carol")).get("/");
  t.match(carolHome.body, "encadrer les loyers", "in carol's home timeline");
  const amelieHome = await amelie.get("/");
  t.match(amelieHome.body, "encadrer les loyers", "in a local member's home timeline on A");
  const groupPage = await new WebSession(a.origin).get("/groups/logement");
  t.match(groupPage.body, "encadrer les loyers", "a thread of the group's discussion");

  // Edited, then deleted on B: C follows through the group's Announce(Update) and Announce(Delete).
  const id = postsLike(b, "encadrer les loyers")[0]!.id;
  t.equal((await bob.post(`/posts/${id}/edit`, { text: `@g_logement@${host(a)} Proposition : encadrer les loyers et les charges #logement` })).status, 303);
  await eventually(() => postsLike(c, "loyers et les charges").length === 1, 15_000, "the edit reached C");
  t.equal((await bob.post(`/posts/${id}/delete`, {})).status, 303);
  await eventually(() => postsLike(c, "loyers et les charges").length === 0, 15_000, "the deletion reached C");
  await eventually(() => postsLike(a, "loyers et les charges").length === 0, 15_000, "and A");
});

t.test("a thread opened on A's group page has a title and replies from other instances", async (t) => {
  const alice = await session(a, "alice");
  const opened = await alice.post("/groups/logement/threads", { title: "Logement étudiant", text: "Quelles propositions pour les étudiants ?" });
  t.equal(opened.status, 303);
  const threadPath = opened.location!;
  await eventually(() => postsLike(c, "propositions pour les étudiants").length === 1, 15_000, "the topic reached C");
  const onB = await eventually(() => postsLike(b, "propositions pour les étudiants")[0], 15_000, "the topic reached B");
  const note = JSON.parse((await new WebSession(a.origin).get(new URL(postsLike(a, "propositions pour les étudiants")[0]!.uri).pathname, { accept: "application/activity+json" })).body);
  t.equal(note.name, "Logement étudiant", "the Note carries the topic as its name");
  // Bob replies on B without naming the group: the reply stays in the group's thread.
  const bob = await session(b, "bob");
  t.equal((await bob.post("/posts", { text: "Des résidences publiques, vite.", visibility: "public", in_reply_to_id: String(onB.id) })).status, 303);
  await eventually(() => postsLike(c, "résidences publiques").length === 1, 15_000, "the reply reached C through the group");
  const thread = await alice.get(threadPath);
  t.match(thread.body, "Logement étudiant");
  t.match(thread.body, "résidences publiques", "the reply shows in the thread on A");
});

t.test("a banned member's posts are not relayed", async (t) => {
  const alice = await session(a, "alice");
  const bruno = a.query<{ id: number }>("select id from actors where uri = ?", `${b.origin}/users/bruno`)[0]!;
  t.equal((await alice.post(`/groups/logement/members/${bruno.id}`, { action: "ban" })).status, 303);
  await eventually(() => followState(b, `${b.origin}/users/bruno`, logement) === "none", 15_000, "B learns bruno was removed (Reject)");
  const brunoWeb = await session(b, "bruno");
  await brunoWeb.publish(`@g_logement@${host(a)} Message de brunoBANNI`);
  await eventually(() => postsLike(a, "brunoBANNI").length === 1, 15_000, "A received the mention");
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(a.query("select 1 from group_posts join posts on posts.id = group_posts.post_id where posts.content like '%brunoBANNI%'").length, 0, "not in the group");
  t.equal(postsLike(c, "brunoBANNI").length, 0, "never reached C");
  // Banning a whole domain removes its members too.
  t.equal((await alice.post("/groups/logement/bans", { target: host(c) })).status, 303);
  await eventually(() => followState(c, `${c.origin}/users/carol`, logement) === "none", 15_000, "carol removed with her instance");
  const dora = await signerFor(c, "dora");
  await postSigned(`${a.origin}/inbox`, { "@context": AS, id: `${dora.actorUri}#follows/banned`, type: "Follow", actor: dora.actorUri, object: logement }, dora);
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(followState(a, dora.actorUri, logement), "none", "a banned domain's Follow is refused");
  const bans = a.query<{ id: number }>("select id from group_bans where domain = ?", host(c));
  t.equal((await alice.post(`/groups/logement/bans/${bans[0]!.id}/delete`, {})).status, 303, "domain ban lifted for what follows");
});

t.test("a members-only group: posts only reach members' instances, never C", async (t) => {
  const alice = await session(a, "alice");
  t.equal((await alice.post("/groups", { name: "Stratégie", slug: "strategie", policy: "approval", visibility: "members" })).status, 303);
  const bob = await session(b, "bob");
  t.equal((await bob.post("/groups/join", { handle: `@g_strategie@${host(a)}` })).status, 303);
  const bobOnA = await eventually(() => a.query<{ id: number }>("select follower_id as id from follows where following_id = (select id from actors where uri = ?) and accepted_at is null", strategie)[0], 15_000, "bob's request on A");
  t.equal(followState(b, `${b.origin}/users/bob`, strategie), "pending", "waits for a moderator");
  t.match((await alice.get("/groups/strategie")).body, "Gérer le groupe (1 demande(s))", "the group's page tells its moderator of the request");
  const page = await alice.get("/groups/strategie/manage");
  t.match(page.body, "bob@", "the moderator sees the request");
  t.equal((await (await session(a, "amelie")).get("/groups/strategie/manage")).status, 403, "a member who does not moderate cannot open it");
  t.equal((await alice.post(`/groups/strategie/requests/${bobOnA.id}`, { decision: "accept" })).status, 303);
  await eventually(() => followState(b, `${b.origin}/users/bob`, strategie) === "accepted", 15_000, "bob accepted");
  t.equal(b.query<{ visibility: string }>("select groups.visibility from groups join actors on actors.id = groups.actor_id where actors.uri = ?", strategie)[0]?.visibility, "members", "B knows the group is members-only");

  // Bob chooses "public": a post to a members-only group is never public.
  await bob.publish(`@g_strategie@${host(a)} Note confidentielle SECRETB`, "public");
  const onB = postsLike(b, "SECRETB")[0]!;
  t.equal(onB.visibility, "direct");
  await eventually(() => a.query("select 1 from group_posts join posts on posts.id = group_posts.post_id where posts.content like '%SECRETB%'").length === 1, 15_000, "A took it into the group");
  t.match((await alice.get("/groups/strategie")).body, "SECRETB", "members on A read it");
  t.notMatch((await (await session(a, "amelie")).get("/groups/strategie")).body, "SECRETB", "a non-member on A does not");
  t.notMatch((await new WebSession(a.origin).get("/groups/strategie")).body, "SECRETB", "nor a visitor");

  // A member of A opens a thread: it reaches B (a member's instance), never C.
  t.equal((await alice.post("/groups/strategie/threads", { title: "Plan", text: "Plan de campagne SECRETA" })).status, 303);
  await eventually(() => postsLike(b, "SECRETA").length === 1, 15_000, "A's thread reached B");
  t.match((await bob.get("/")).body, "SECRETA", "bob reads it on B");
  t.notMatch((await (await session(b, "bruno")).get("/")).body, "SECRETA", "bruno (not a member) does not");
  await new Promise((r) => setTimeout(r, 1500));
  t.notOk(holds(c, "SECRETA"), "C has nothing of A's members-only thread");
  t.notOk(holds(c, "SECRETB"), "C has nothing of B's members-only post");

  // Outboxes: the public group's shows its posts; the members-only group's shows nothing.
  const anon = new WebSession(a.origin);
  const outbox = JSON.parse((await anon.get("/users/g_strategie/outbox", { accept: "application/activity+json" })).body);
  t.equal(outbox.totalItems, 0);
  const publicOutbox = JSON.parse((await anon.get("/users/g_logement/outbox", { accept: "application/activity+json" })).body);
  t.ok(publicOutbox.totalItems > 0);
  // And the Note itself is refused to anyone who is not a member.
  t.equal((await new WebSession(b.origin).get(new URL(onB.uri).pathname, { accept: "application/activity+json" })).status, 401);
});

t.test("Mastodon-shaped and Lemmy-shaped JSON: an outside user follows a public group and posts to it", async (t) => {
  // Written from Mastodon's documented ActivityPub (docs.joinmastodon.org/spec/activitypub) and
  // Lemmy's (join-lemmy.org/docs/contributors/05-federation.html); signed with real keys of C's accounts.
  const dora = await signerFor(c, "dora");
  const mastoContext = [AS, "https://w3id.org/security/v1", { ostatus: "http://ostatus.org#", atomUri: "ostatus:atomUri", inReplyToAtomUri: "ostatus:inReplyToAtomUri", conversation: "ostatus:conversation", sensitive: "as:sensitive", toot: "http://joinmastodon.org/ns#", votersCount: "toot:votersCount", Hashtag: "as:Hashtag" }];
  const follow = await postSigned(`${a.origin}/inbox`, { "@context": AS, id: `${c.origin}/9f0b4e2a-follow-dora`, type: "Follow", actor: dora.actorUri, object: logement }, dora);
  t.equal(follow.status, 202, follow.body);
  await eventually(() => followState(a, dora.actorUri, logement) === "accepted", 15_000, "Mastodon-shaped Follow accepted");
  const noteId = `${c.origin}/users/dora/statuses/113000000000000001`;
  const create = await postSigned(
    `${a.origin}/inbox`,
    {
      "@context": mastoContext,
      id: `${noteId}/activity`,
      type: "Create",
      actor: dora.actorUri,
      published: new Date().toISOString(),
      to: [PUBLIC],
      cc: [`${dora.actorUri}/followers`, logement],
      object: {
        id: noteId,
        type: "Note",
        summary: null,
        inReplyTo: null,
        published: new Date().toISOString(),
        url: `${c.origin}/@dora/113000000000000001`,
        attributedTo: dora.actorUri,
        to: [PUBLIC],
        cc: [`${dora.actorUri}/followers`, logement],
        sensitive: false,
        atomUri: noteId,
        conversation: `tag:${host(c)},2026-01-01:objectId=1:objectType=Conversation`,
        content: `<p><span class="h-card"><a href="${a.origin}/groups/logement" class="u-url mention">@<span>g_logement</span></a></span> Depuis Mastodon MASTOPOST</p>`,
        contentMap: { fr: `<p>Depuis Mastodon MASTOPOST</p>` },
        attachment: [],
        tag: [{ type: "Mention", href: logement, name: `@g_logement@${host(a)}` }],
        replies: { id: `${noteId}/replies`, type: "Collection", first: { type: "CollectionPage", next: `${noteId}/replies?page=true`, partOf: `${noteId}/replies`, items: [] } },
      },
    },
    dora,
  );
  t.equal(create.status, 202, create.body);
  await eventually(() => a.query("select 1 from group_posts join posts on posts.id = group_posts.post_id where posts.content like '%MASTOPOST%'").length === 1, 15_000, "Mastodon user's post taken into the group");
  // The group's boost is written just after the post is taken into the group.
  await eventually(() => a.query("select 1 from posts where reblog_of_id = (select id from posts where uri = ?) and actor_id = (select id from actors where uri = ?)", noteId, logement).length > 0, 15_000, "the group's Announce");
  t.pass("and announced by the group");

  const lem = await signerFor(c, "lem");
  const lemmyFollow = { "@context": [AS, "https://w3id.org/security/v1"], actor: lem.actorUri, object: logement, type: "Follow", id: `${c.origin}/activities/follow/6e3c4d6b-2a58-4ab4-8a38-1f6e9a6a7b01` };
  t.equal((await postSigned(`${a.origin}/inbox`, lemmyFollow, lem)).status, 202);
  await eventually(() => followState(a, lem.actorUri, logement) === "accepted", 15_000, "Lemmy-shaped Follow accepted");
  const pageId = `${c.origin}/post/4242`;
  const lemmyCreate = {
    "@context": [AS, "https://w3id.org/security/v1", { lemmy: "https://join-lemmy.org/ns#", sensitive: "as:sensitive", stickied: "lemmy:stickied", moderators: { "@type": "@id", "@id": "lemmy:moderators" } }],
    actor: lem.actorUri,
    to: [PUBLIC],
    cc: [logement],
    audience: logement,
    type: "Create",
    id: `${c.origin}/activities/create/0b7e1c52-8f5e-4f3c-9d0a-6c3c1e5d2a11`,
    object: {
      type: "Page",
      id: pageId,
      attributedTo: lem.actorUri,
      to: [logement, PUBLIC],
      cc: [],
      audience: logement,
      name: "Titre depuis Lemmy",
      content: "<p>Un fil ouvert depuis Lemmy LEMMYPOST</p>",
      mediaType: "text/html",
      source: { content: "Un fil ouvert depuis Lemmy LEMMYPOST", mediaType: "text/markdown" },
      sensitive: false,
      stickied: false,
      published: new Date().toISOString(),
    },
  };
  t.equal((await postSigned(`${a.origin}/inbox`, lemmyCreate, lem)).status, 202);
  const row = await eventually(() => a.query<{ title: string }>("select group_posts.title from group_posts join posts on posts.id = group_posts.post_id where posts.uri = ?", pageId)[0], 15_000, "Lemmy post taken into the group");
  t.equal(row.title, "Titre depuis Lemmy", "the Page's name is the thread's title");
  // The group's boost is written just after the post is taken into the group.
  await eventually(() => a.query("select 1 from posts where reblog_of_id = (select id from posts where uri = ?) and actor_id = (select id from actors where uri = ?)", pageId, logement).length > 0, 15_000, "the group's Announce");
  t.pass("and announced by the group");
  t.match((await new WebSession(a.origin).get("/groups/logement")).body, "Titre depuis Lemmy");
});

t.test("party_only: an instance this one is not linked with is refused", async (t) => {
  const alice = await session(a, "alice");
  t.equal((await alice.post("/groups", { name: "Parti seulement", slug: "parti", policy: "party_only" })).status, 303);
  const carol = await session(c, "carol");
  await carol.post("/groups/join", { handle: `@g_parti@${host(a)}` });
  await eventually(() => followState(c, `${c.origin}/users/carol`, `${a.origin}/users/g_parti`) === "none", 15_000, "Reject reached C");
  t.equal(followState(a, `${c.origin}/users/carol`, `${a.origin}/users/g_parti`), "none");
  // A local sympathisant is refused too; a card-holder is accepted.
  const sylvain = await session(a, "sylvain");
  t.equal((await sylvain.post("/groups/parti/join", {})).status, 403);
  const amelie = await session(a, "amelie");
  t.equal((await amelie.post("/groups/parti/join", {})).status, 303);
  t.equal(followState(a, `${a.origin}/users/amelie`, `${a.origin}/users/g_parti`), "accepted");
});

t.test("in Mastodon apps a group is a `group: true` account; following joins, mentioning posts", async (t) => {
  const { client } = await mastoLogin(a.origin, "amelie");
  const account = await client.v1.accounts.lookup({ acct: "g_strategie" });
  t.equal(account.group, true);
  const relationship = await client.v1.accounts.$select(account.id).follow();
  t.equal(relationship.following || relationship.requested, true);
  t.equal(followState(a, `${a.origin}/users/amelie`, strategie), "pending", "the approval policy applies to app follows too");
  const { client: bobClient } = await mastoLogin(b.origin, "bob");
  const found = await bobClient.v2.search.list({ q: `@g_logement@${host(a)}`, resolve: true, type: "accounts" });
  t.equal(found.accounts[0]?.group, true, "a remote group is a group account too");
  const section = await client.v1.accounts.lookup({ acct: "section_a" });
  t.equal(section.group, true, "the section's node actor stays a group account");
  const status = await client.v1.statuses.create({ status: "@g_logement Depuis une appli APPPOST", visibility: "public" });
  t.ok(status.id);
  t.equal(a.query("select 1 from group_posts join posts on posts.id = group_posts.post_id where posts.content like '%APPPOST%'").length, 1, "posted to the group by mentioning it");
});
