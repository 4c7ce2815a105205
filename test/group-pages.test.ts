// A group's discussion pages on a member's own instance (issue 5), with three
// real instances: groups on A, members on A, B and C. A group hosted
// elsewhere has its page here (/groups/remote/<id>): its threads as this
// instance knows them, thread pages, starting a thread and replying (the post
// goes to the group's actor, and the group relays it, title included),
// joining and leaving with the pending state; a members-only group's threads
// are for this instance's members of it. Threads are paged (50 a page) on the
// pages and in the API, ordered by the last activity the database keeps per
// thread (replies hidden by a moderator not counted). And the pages pass the
// accessibility check in Chromium.
import t from "tap";
import Database from "better-sqlite3";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { memberSession as session, PASSWORD, eventually, followState as followStateOf, freePort, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { apiToken } from "./helpers/oauth.ts";
import { accessibilityProblems, launchChromium } from "./helpers/chromium.ts";

let a: TestInstance, b: TestInstance, c: TestInstance;
let browser: Browser | undefined;
const host = (i: TestInstance) => `127.0.0.1:${i.port}`;
const groupUri = (slug: string) => `${a.origin}/users/g_${slug}`;


/** The id of a group (by its actor's URI) on an instance. */
const groupIdOn = (instance: TestInstance, uri: string) =>
  instance.query<{ id: number }>("select groups.id from groups join actors on actors.id = groups.actor_id where actors.uri = ?", uri)[0]?.id;

/** A post of a group's discussion on an instance, found by a word of its text. */
const groupPost = (instance: TestInstance, groupId: number, needle: string) =>
  instance.query<{ id: number; root_id: number; title: string | null; replies_count: number; last_activity_at: number | null }>(
    "select posts.id, group_posts.root_id, group_posts.title, group_posts.replies_count, group_posts.last_activity_at from group_posts join posts on posts.id = group_posts.post_id where group_posts.group_id = ? and posts.content like ? and posts.reblog_of_id is null",
    groupId,
    `%${needle}%`,
  )[0];

/** A local member's follow of a group on an instance. */
const followState = (instance: TestInstance, username: string, group: string) => followStateOf(instance, `${instance.origin}/users/${username}`, group);

async function joinByHandle(instance: TestInstance, username: string, slug: string, state: "accepted" | "pending" = "accepted"): Promise<void> {
  const member = await session(instance, username);
  // The first look-up of a remote actor can time out on a loaded machine ("no such group"): asked again.
  let res = await member.post("/groups/join", { handle: `@g_${slug}@${host(a)}` });
  for (let i = 0; i < 5 && (res.status === 404 || res.status === 502); i++) {
    await new Promise((r) => setTimeout(r, 1_000));
    res = await member.post("/groups/join", { handle: `@g_${slug}@${host(a)}` });
  }
  if (res.status !== 303) throw new Error(`join ${username}: ${res.status} ${res.body.slice(0, 300)}`);
  await eventually(() => followState(instance, username, groupUri(slug)) === state, 15_000, `${username} ${state} in ${slug}`);
}

/** Threads listed on a group page, in order: their links' titles. */
function listed(body: string, base: string): string[] {
  const list = /<ul class="threads">([\s\S]*?)<\/ul>/.exec(body)?.[1] ?? "";
  return [...list.matchAll(new RegExp(`<a href="${base}/threads/\\d+"><strong>([^<]*)</strong></a>`, "g"))].map((m) => m[1]!);
}

const olderLink = (body: string, base: string) => new RegExp(`href="(${base}\\?max_id=\\d+)#threads"`).exec(body)?.[1];

let veloB = 0, veloC = 0, interneB = 0, interneC = 0;

t.before(async () => {
  [a, b, c] = await Promise.all([startInstance("pa"), startInstance("pb"), startInstance("pc")]);
  a.addMember("alice");
  a.addMember("amelie");
  b.addMember("bob");
  b.addMember("bruno");
  c.addMember("carol");
  const alice = await session(a, "alice");
  for (const [name, slug, policy, visibility] of [
    ["Vélo", "velo", "fediverse", "public"],
    ["Interne", "interne", "fediverse", "members"],
    ["Atelier", "atelier", "approval", "public"],
    ["Archives", "archives", "fediverse", "public"],
  ] as const) {
    const res = await alice.post("/groups", { name, slug, policy, visibility, description: `Le groupe ${name}, pour débattre entre sections.`, themes: "mobilité, débat" });
    if (res.status !== 303) throw new Error(`group ${slug}: ${res.status} ${res.body.slice(0, 300)}`);
  }
  await (await session(a, "amelie")).post("/groups/velo/join", {});
  for (const slug of ["velo", "interne"]) {
    await joinByHandle(b, "bob", slug);
    await joinByHandle(c, "carol", slug);
  }
  veloB = groupIdOn(b, groupUri("velo"))!;
  veloC = groupIdOn(c, groupUri("velo"))!;
  interneB = groupIdOn(b, groupUri("interne"))!;
  interneC = groupIdOn(c, groupUri("interne"))!;
});

t.teardown(async () => {
  await browser?.close();
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
});

t.test("a member's groups and the directory link to a remote group's page here, with what this instance knows of it", async (t) => {
  const bob = await session(b, "bob");
  const directory = await bob.get("/groups");
  t.match(directory.body, `href="/groups/remote/${veloB}"`, "Mes groupes and the directory link to the page on B");
  t.notMatch(directory.body, `href="${a.origin}/groups/velo"`, "not to A's page any more");
  const page = await bob.get(`/groups/remote/${veloB}`);
  t.equal(page.status, 200);
  t.match(page.body, "<h1>Vélo</h1>");
  t.match(page.body, "Le groupe Vélo, pour débattre entre sections.", "its description");
  t.match(page.body, "#mobilité", "its themes");
  t.match(page.body, `@g_velo@${host(a)}`, "its handle");
  t.match(page.body, `href="${a.origin}/groups/velo"`, "a link to its page on its own server");
  t.match(page.body, "Vous êtes membre.");
  t.match(page.body, `action="/groups/remote/${veloB}/leave"`);
  t.match(page.body, `action="/groups/remote/${veloB}/threads"`, "the form to start a thread");
  t.match(page.body, `href="/debate/${veloB}"`, "its proposals");
  t.equal((await bob.get(`/debate/${veloB}`)).body.includes(`href="/groups/remote/${veloB}"`), true, "the debate pages link back to it");

  t.equal((await bob.get("/groups/remote/999")).status, 404);
  t.equal((await bob.get("/groups/remote/abc")).status, 404);
  const localId = groupIdOn(a, groupUri("velo"))!;
  t.equal((await new WebSession(a.origin).get(`/groups/remote/${localId}`)).status, 404, "a group hosted here has its own address");
  t.equal((await (await session(a, "alice")).post("/groups", { name: "Remote", slug: "remote" })).status, 409, "the address remote is taken by the pages");
});

t.test("A's threads on B's page and thread pages, as B received them", async (t) => {
  const alice = await session(a, "alice");
  const opened = await alice.post("/groups/velo/threads", { title: "Pistes cyclables", text: "Où manque-t-il des pistes PISTES ?" });
  t.equal(opened.status, 303);
  const rootA = Number(/threads\/(\d+)/.exec(opened.location!)![1]);
  const amelie = await session(a, "amelie");
  t.equal((await amelie.post("/groups/velo/threads", { in_reply_to_id: String(rootA), text: "Rue de la Paix REPONSE1" })).status, 303);
  // The group's two Announces may reach B in either order: the reply joins the thread all the same.
  const root = await eventually(() => groupPost(b, veloB, "REPONSE1") && groupPost(b, veloB, "PISTES"), 15_000, "the thread and its reply on B");
  t.equal(root.title, "Pistes cyclables");
  t.equal(groupPost(b, veloB, "REPONSE1")!.root_id, root.id, "the reply is in the thread");
  t.equal(root.replies_count, 1, "B keeps the thread's figures");

  const bob = await session(b, "bob");
  const page = await bob.get(`/groups/remote/${veloB}`);
  t.same(listed(page.body, `/groups/remote/${veloB}`), ["Pistes cyclables"]);
  t.match(page.body, "1 réponse(s)");
  const thread = await bob.get(`/groups/remote/${veloB}/threads/${root.id}`);
  t.equal(thread.status, 200);
  t.match(thread.body, "<h1>Pistes cyclables</h1>");
  t.match(thread.body, "REPONSE1");
  t.match(thread.body, `href="/groups/remote/${veloB}"`, "back to the group's page");
  t.match(thread.body, `action="/groups/remote/${veloB}/threads"`, "the reply form");
  t.equal((await new WebSession(b.origin).get(`/groups/remote/${veloB}`)).body.includes("Pistes cyclables"), true, "a public group's threads are public");
});

t.test("bob starts a thread from B's page: A relays it, title included, to C; replies go both ways", async (t) => {
  const bob = await session(b, "bob");
  const base = `/groups/remote/${veloB}`;
  const opened = await bob.post(`${base}/threads`, { title: "Stationnement en gare", text: "Des arceaux en gare GARE" });
  t.equal(opened.status, 303, opened.body.slice(0, 300));
  t.match(opened.location, new RegExp(`^${base}/threads/\\d+$`));
  const rootB = Number(opened.location!.split("/").at(-1));
  t.equal(groupPost(b, veloB, "GARE")?.title, "Stationnement en gare", "B keeps it in the group with its title");
  const veloA = groupIdOn(a, groupUri("velo"))!;
  const onA = await eventually(() => groupPost(a, veloA, "GARE"), 15_000, "A took bob's thread into the group");
  t.equal(onA.title, "Stationnement en gare", "with its title");
  t.match((await new WebSession(a.origin).get("/groups/velo")).body, "Stationnement en gare", "on the group's page on A");
  const onC = await eventually(() => groupPost(c, veloC, "GARE"), 15_000, "A relayed it to C");
  t.equal(onC.title, "Stationnement en gare", "C has the title");

  t.equal((await bob.post(`${base}/threads`, { in_reply_to_id: String(rootB), text: "Et des abris ABRIS" })).status, 303);
  const replyA = await eventually(() => groupPost(a, veloA, "ABRIS"), 15_000, "bob's reply on A");
  t.equal(replyA.root_id, onA.id, "in the thread on A");
  t.equal((await eventually(() => groupPost(c, veloC, "ABRIS"), 15_000, "bob's reply on C")).root_id, onC.id, "and on C");

  // Carol answers from C's page: B gets it through A.
  const carol = await session(c, "carol");
  t.equal((await carol.post(`/groups/remote/${veloC}/threads`, { in_reply_to_id: String(onC.id), text: "Oui, et vite CAROLREP" })).status, 303);
  const carolOnB = await eventually(() => groupPost(b, veloB, "CAROLREP"), 15_000, "carol's reply on B");
  t.equal(carolOnB.root_id, rootB);
  await eventually(() => groupPost(b, veloB, "GARE")?.replies_count === 2, 15_000, "two replies counted on B");
  const thread = await bob.get(`${base}/threads/${rootB}`);
  t.match(thread.body, "ABRIS");
  t.match(thread.body, "CAROLREP");
  const page = await bob.get(base);
  t.same(listed(page.body, base), ["Stationnement en gare", "Pistes cyclables"], "most recently active first");
  t.match(page.body, "2 réponse(s)");

  t.equal((await (await session(b, "bruno")).post(`${base}/threads`, { title: "Intrus", text: "pas membre" })).status, 403, "a non-member cannot post");
});

t.test("joining and leaving from a remote group's page, with the pending state", async (t) => {
  const bruno = await session(b, "bruno");
  const base = `/groups/remote/${veloB}`;
  let page = await bruno.get(base);
  t.match(page.body, `action="${base}/join"`);
  t.notMatch(page.body, `action="${base}/threads"`, "no thread form before joining");
  t.equal((await bruno.post(`${base}/join`, {})).status, 303);
  await eventually(() => followState(b, "bruno", groupUri("velo")) === "accepted", 15_000, "bruno accepted by A");
  page = await bruno.get(base);
  t.match(page.body, "Vous êtes membre.");
  t.match(page.body, `action="${base}/threads"`);
  t.equal((await bruno.post(`${base}/leave`, {})).status, 303);
  t.equal(followState(b, "bruno", groupUri("velo")), "none");
  await eventually(() => a.query("select 1 from follows join actors on actors.id = follows.follower_id where actors.uri = ?", `${b.origin}/users/bruno`).length === 0, 15_000, "A heard of it");

  // A group that approves each member: the request waits.
  await joinByHandle(b, "bob", "atelier", "pending");
  const atelierB = groupIdOn(b, groupUri("atelier"))!;
  const abase = `/groups/remote/${atelierB}`;
  t.equal((await bruno.post(`${abase}/join`, {})).status, 303);
  t.equal(followState(b, "bruno", groupUri("atelier")), "pending");
  page = await bruno.get(abase);
  t.match(page.body, "Demande envoyée : en attente");
  t.notMatch(page.body, `action="${abase}/threads"`);
  t.match((await bruno.get("/groups")).body, new RegExp(`href="${abase}">Atelier</a> <span class="badge">demande en attente`), "Mes groupes shows the pending request");
  const brunoOnA = await eventually(() => a.query<{ id: number }>("select id from actors where uri = ?", `${b.origin}/users/bruno`)[0]?.id, 15_000, "A knows bruno");
  await eventually(() => a.query("select 1 from follows where follower_id = ? and accepted_at is null", brunoOnA).length === 1, 15_000, "the request on A");
  t.equal((await (await session(a, "alice")).post(`/groups/atelier/requests/${brunoOnA}`, { decision: "accept" })).status, 303);
  await eventually(() => followState(b, "bruno", groupUri("atelier")) === "accepted", 15_000, "accepted on B");
  t.match((await bruno.get(abase)).body, "Vous êtes membre.");
});

t.test("joining by handle: the page says whether the server did not answer, the group does not exist, or the account is not a group", async (t) => {
  const bruno = await session(b, "bruno");
  // Nothing listens on that port: the lookup gets no answer at all.
  const silent = `127.0.0.1:${await freePort()}`;
  let res = await bruno.post("/groups/join", { handle: `@g_velo@${silent}` });
  t.equal(res.status, 502);
  t.match(res.body, `Le serveur ${silent} ne répond pas pour l&#39;instant`);
  res = await bruno.post("/groups/join", { handle: `@g_nulle_part@${host(a)}` });
  t.equal(res.status, 404);
  t.match(res.body, "Ce groupe n&#39;existe pas.");
  res = await bruno.post("/groups/join", { handle: `@alice@${host(a)}` });
  t.equal(res.status, 422);
  t.match(res.body, "Ce compte existe, mais ce n&#39;est pas un groupe.");
  res = await bruno.post("/follow", { target: `@quelqu_un@${silent}` });
  t.equal(res.status, 502, "following someone on a silent server says so too");
  t.match(res.body, "ne répond pas");
});

t.test("a members-only group hosted elsewhere: its threads on B are for B's members of it", async (t) => {
  const carol = await session(c, "carol");
  const opened = await carol.post(`/groups/remote/${interneC}/threads`, { title: "Ordre du jour", text: "Budget CONFIDENTIEL" });
  t.equal(opened.status, 303, opened.body.slice(0, 300));
  const onB = await eventually(() => groupPost(b, interneB, "CONFIDENTIEL"), 15_000, "carol's thread reached B through A");
  t.equal(onB.title, "Ordre du jour");
  const base = `/groups/remote/${interneB}`;
  const bob = await session(b, "bob");
  t.same(listed((await bob.get(base)).body, base), ["Ordre du jour"], "bob, a member, reads it");
  t.match((await bob.get(`${base}/threads/${onB.id}`)).body, "CONFIDENTIEL");

  const bruno = await session(b, "bruno");
  for (const [who, s] of [["bruno, not a member", bruno], ["a visitor", new WebSession(b.origin)]] as const) {
    const page = await s.get(base);
    t.equal(page.status, 200);
    t.notMatch(page.body, "Ordre du jour", `${who}: not listed`);
    t.match(page.body, "réservées à ses membres", `${who}: told why`);
    t.equal((await s.get(`${base}/threads/${onB.id}`)).status, 404, `${who}: no thread page`);
  }
  const token = await apiToken(b.origin, "bruno");
  const api = await fetch(`${b.origin}/api/coopol/v1/groups/${interneB}/threads`, { headers: { authorization: `Bearer ${token}` } });
  t.same(await api.json(), [], "nor in the API");
});

t.test("a moderator's hidden reply is not counted in the thread's figures", async (t) => {
  const veloA = groupIdOn(a, groupUri("velo"))!;
  const reply = groupPost(a, veloA, "REPONSE1")!;
  const root = groupPost(a, veloA, "PISTES")!;
  const before = root.last_activity_at;
  const alice = await session(a, "alice");
  t.equal((await alice.post(`/groups/velo/posts/${reply.id}/moderate`, { action: "hide", reason: "essai", back: "/groups/velo" })).status, 303);
  t.equal(groupPost(a, veloA, "PISTES")!.replies_count, 0);
  t.ok(groupPost(a, veloA, "PISTES")!.last_activity_at! < before!, "nor does it make the thread active");
  const threads = (await (await fetch(`${a.origin}/api/coopol/v1/groups/${veloA}/threads`)).json()) as Array<{ title: string; replies_count: number }>;
  t.equal(threads.find((th) => th.title === "Pistes cyclables")?.replies_count, 0, "in the API");
  t.match((await new WebSession(a.origin).get("/groups/velo")).body, /Pistes cyclables<\/strong><\/a>\s*<span class="meta">[^<]*· 0 réponse\(s\)/);
  t.equal((await alice.post(`/groups/velo/posts/${reply.id}/moderate`, { action: "unhide", reason: "essai", back: "/groups/velo" })).status, 303);
  t.equal(groupPost(a, veloA, "PISTES")!.replies_count, 1, "counted again once shown");
  t.equal(groupPost(a, veloA, "PISTES")!.last_activity_at, before);
});

t.test("a group's threads, 50 a page, on its page and in the API", async (t) => {
  const archives = groupIdOn(a, groupUri("archives"))!;
  const token = await apiToken(a.origin, "alice");
  const api = (path: string, init: RequestInit = {}) => fetch(`${a.origin}/api/coopol/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...init.headers } });
  // 55 threads through the API, as a member would start them (no member elsewhere: nothing to deliver).
  const roots: string[] = [];
  for (let n = 1; n <= 55; n++) {
    const res = await api(`/groups/${archives}/threads`, { method: "POST", body: JSON.stringify({ title: `Sujet ${n}`, text: `Texte ${n}` }) });
    t.equal(res.status, 200);
    roots.push(((await res.json()) as { id: string }).id);
  }
  const visitor = new WebSession(a.origin);
  const base = "/groups/archives";
  let page = await visitor.get(base);
  let titles = listed(page.body, base);
  t.equal(titles.length, 50, "50 on the first page");
  t.equal(titles[0], "Sujet 55");
  t.equal(titles[49], "Sujet 6");
  const older = olderLink(page.body, base);
  t.ok(older, "a link to older threads");
  page = await visitor.get(older!);
  t.same(listed(page.body, base), ["Sujet 5", "Sujet 4", "Sujet 3", "Sujet 2", "Sujet 1"]);
  t.notOk(olderLink(page.body, base), "the last page");
  t.match(page.body, `href="${base}#threads"`, "back to the most recent");

  // A reply brings the oldest thread back to the top.
  t.equal((await api(`/groups/${archives}/threads/${roots[0]}/replies`, { method: "POST", body: JSON.stringify({ text: "Relance" }) })).status, 200);
  titles = listed((await visitor.get(base)).body, base);
  t.equal(titles[0], "Sujet 1");
  t.equal(titles[49], "Sujet 7");

  // The API: a Link header to the next page, `limit` and `max_id`.
  let res = await api(`/groups/${archives}/threads`);
  let list = (await res.json()) as Array<{ title: string; root: { id: string } }>;
  t.equal(list.length, 50);
  const next = /<([^>]+)>; rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
  t.ok(next, "Link rel=next");
  res = await fetch(next!, { headers: { authorization: `Bearer ${token}` } });
  list = (await res.json()) as typeof list;
  t.same(list.map((th) => th.title), ["Sujet 6", "Sujet 5", "Sujet 4", "Sujet 3", "Sujet 2"]);
  t.equal(res.headers.get("link"), null, "no next after the last page");
  const seen: string[] = [];
  let url: string | undefined = `${a.origin}/api/coopol/v1/groups/${archives}/threads?limit=20`;
  for (let pages = 0; url && pages < 10; pages++) {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    const chunk = (await res.json()) as typeof list;
    t.ok(chunk.length <= 20);
    seen.push(...chunk.map((th) => th.root.id));
    url = /<([^>]+)>; rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
  }
  t.equal(seen.length, 55, "every thread once, 20 at a time");
  t.equal(new Set(seen).size, 55);
  t.equal((await api(`/groups/${archives}/threads?max_id=abc`)).status, 400);
});

t.test("a remote group's page is paged too", async (t) => {
  // 55 old threads of A's group written straight into B's database, as if B had
  // received them long ago: the test opens B's SQLite file for writing beside the
  // running instance (WAL), and the triggers keep the threads' figures.
  const db = new Database(join(b.dataDir, "coopol.sqlite"));
  try {
    db.pragma("busy_timeout = 5000");
    const author = db.prepare("select id from actors where uri = ?").get(`${c.origin}/users/carol`) as { id: number };
    const insertPost = db.prepare("insert into posts (id, uri, actor_id, content, visibility, published_at) values (?, ?, ?, ?, 'public', ?)");
    const insertLink = db.prepare("insert into group_posts (group_id, post_id, root_id, title) values (?, ?, ?, ?)");
    db.transaction(() => {
      for (let n = 1; n <= 55; n++) {
        const id = 900_000_000_000_000 + n;
        insertPost.run(id, `${c.origin}/users/carol/posts/seed-${n}`, author.id, `<p>Archive ${n}</p>`, Date.UTC(2020, 0, 1) + n * 60_000);
        insertLink.run(veloB, id, id, `Ancien ${n}`);
      }
    })();
  } finally {
    db.close();
  }
  const bob = await session(b, "bob");
  const base = `/groups/remote/${veloB}`;
  let page = await bob.get(base);
  const first = listed(page.body, base);
  t.equal(first.length, 50);
  t.same(first.slice(0, 2), ["Stationnement en gare", "Pistes cyclables"], "the live threads first");
  t.equal(first[49], "Ancien 8");
  page = await bob.get(olderLink(page.body, base)!);
  t.same(listed(page.body, base), ["Ancien 7", "Ancien 6", "Ancien 5", "Ancien 4", "Ancien 3", "Ancien 2", "Ancien 1"]);
  t.notOk(olderLink(page.body, base));
  t.notMatch(page.body, `action="${base}/threads"`, "the thread form is on the first page only");
});

t.test("the pages pass the accessibility check in Chromium", async (t) => {
  browser = await launchChromium();
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto(`${b.origin}/login`);
  await page.getByLabel("Nom d'utilisateur").fill("bob");
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForLoadState();
  const base = `${b.origin}/groups/remote/${veloB}`;
  await page.goto(base);
  t.same(await accessibilityProblems(page), [], "the remote group's page");
  // Start a thread with the page's own form.
  await page.getByLabel("Sujet").fill("Vélos cargo");
  await page.getByLabel("Votre message").fill("Qui en a essayé un ? CARGO");
  await page.getByRole("button", { name: "Publier dans le groupe" }).click();
  await page.waitForLoadState();
  t.match(page.url(), new RegExp(`/groups/remote/${veloB}/threads/\\d+$`));
  t.same(await accessibilityProblems(page), [], "a thread's page");
  await page.getByLabel("Répondre").fill("Moi, très bien CARGOREP");
  await page.getByRole("button", { name: "Envoyer la réponse" }).click();
  await page.waitForLoadState();
  t.match(await page.content(), "CARGOREP");
  await page.goto(`${base}?max_id=${groupPost(b, veloB, "Archive 9")!.id}`);
  t.same(await accessibilityProblems(page), [], "an older page");
  await context.close();
  const veloA = groupIdOn(a, groupUri("velo"))!;
  t.equal((await eventually(() => groupPost(a, veloA, "essayé un"), 15_000, "the thread reached A")).title, "Vélos cargo");
});
