// Addresses from outside that would run script: a hostile server (a small HTTP
// server of this test, with its own key, signing its activities for real) sends
// an actor, a Note and an Event with javascript:, data: and vbscript: URLs in
// every URL field. None is stored, none becomes a link or an image in real
// Chromium (notifications, home timeline, event page), none is returned by the
// Mastodon API (masto.js) or Coopol's. Rows stored before the check (written
// into the SQLite file here) are filtered when shown too. Also: an OAuth app's
// javascript: website, the Content-Security-Policy of the pages (no violation
// in Chromium, forms and the consent redirect still work), and `next=` redirects.
import { generateKeyPairSync, type webcrypto } from "node:crypto";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import Database from "better-sqlite3";
import t, { type Test } from "tap";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { mastodon } from "masto";
import { localPath, safeUrl } from "../src/safe-url.ts";
import { postUrl, profileUrl } from "../src/web/format.ts";
import { readCampaign } from "../src/federation/territory.ts";
import { contentSecurityPolicy } from "../src/web/security-headers.ts";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { postSigned, type Signer } from "./helpers/signing.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { mastoLogin, TEST_REDIRECT } from "./helpers/oauth.ts";
import { launchChromium } from "./helpers/chromium.ts";

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
/** What no stored value, link, image or API field may start with. */
const DANGEROUS = /^\s*(javascript|data|vbscript):/i;
const DANGEROUS_IN_JSON = /"\s*(javascript|data|vbscript):/i;

t.test("safeUrl keeps http(s) addresses only", async (t) => {
  for (const bad of ["javascript:alert(1)", " JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>", "vbscript:msgbox(1)", "file:///etc/passwd", "/relative", "//host/x", "https://user:pw@bank.example/", `https://a.example/${"x".repeat(3000)}`, "", null, 42, { href: "javascript:x" }]) {
    t.equal(safeUrl(bad), null, `refused: ${JSON.stringify(bad)?.slice(0, 40)}`);
  }
  t.equal(safeUrl("https://a.example/x?y=1#z"), "https://a.example/x?y=1#z");
  t.equal(safeUrl(" HTTP://A.Example "), "http://a.example/", "normalised");
  t.equal(safeUrl(new URL("https://b.example/p")), "https://b.example/p");
  t.equal(safeUrl({ type: "Link", href: "https://c.example/" }), "https://c.example/", "an ActivityStreams Link");
});

t.test("localPath keeps paths of this site only", async (t) => {
  for (const bad of ["/\\evil.example/", "/\\/evil.example", "//evil.example", "/\t/evil.example", "/\n/evil.example", "https:evil.example", "https://evil.example/", "\\\\evil.example", "evil.example", "", null]) {
    t.equal(localPath(bad), null, `refused: ${JSON.stringify(bad)}`);
  }
  t.equal(localPath("/events/3?x=1#answer"), "/events/3?x=1#answer");
  t.equal(localPath("/%5Cevil"), "/%5Cevil", "an encoded backslash stays a path here");
  t.equal(localPath("/é"), "/%C3%A9", "encoded for a Location header");
  t.equal(localPath("http://127.0.0.1:1/notifications", "http://127.0.0.1:1"), "/notifications", "a Referer on this site");
  t.equal(localPath("http://127.0.0.1:1.evil.example/", "http://127.0.0.1:1"), null);
});

t.test("links of pages and campaign materials of other nodes: web addresses only", async (t) => {
  const remote = { local: false, username: "m", uri: "https://evil.example/users/m" };
  t.equal(profileUrl({ ...remote, url: "javascript:alert(1)" }), "https://evil.example/users/m", "a profile falls back to the actor's id");
  t.equal(profileUrl({ ...remote, url: "https://evil.example/@m" }), "https://evil.example/@m");
  t.equal(profileUrl({ ...remote, url: "javascript:alert(1)", uri: "data:text/html,x" }), "#", "or to no page at all");
  t.equal(postUrl({ id: 1, url: "vbscript:x", uri: "https://evil.example/p/1" }, remote), "https://evil.example/p/1");
  t.equal(postUrl({ id: 1, url: "https://evil.example/p/1", uri: "x" }, { local: true, username: "bob" }), "/@bob/1", "ours: our page");
  const campaign = readCampaign({
    id: "https://parent.example/campaigns/1",
    attributedTo: "https://parent.example/users/node",
    name: "Campagne",
    startTime: new Date().toISOString(),
    level: "federation",
    materials: [
      { name: "Tract", url: "https://parent.example/media/tract.pdf" },
      { name: "Piège", url: "javascript:alert(1)" },
      { name: "Données", url: "data:application/pdf;base64,JVBERi0=" },
    ],
  });
  t.same(campaign?.materials, [{ name: "Tract", url: "https://parent.example/media/tract.pdf" }], "campaign materials: the web link only");
});

t.test("the form-action of a page follows the app it redirects to", async (t) => {
  const reply = {} as Parameters<typeof contentSecurityPolicy>[0];
  t.match(contentSecurityPolicy(reply), /form-action 'self'(;|$)/);
  const { allowFormTarget } = await import("../src/web/security-headers.ts");
  allowFormTarget(reply, "https://app.example/callback?x=1");
  allowFormTarget(reply, "org.joinmastodon.app://oauth");
  allowFormTarget(reply, "bad scheme;script-src *:x");
  t.match(contentSecurityPolicy(reply), /form-action 'self' https:\/\/app\.example org\.joinmastodon\.app:(;|$)/);
});

// ---- A hostile server ----------------------------------------------------------

let b: TestInstance;
let evil: Server;
let evilOrigin: string;
let signer: Signer;
let browser: Browser | undefined;
const documents = new Map<string, unknown>();

function startHostileServer(): Promise<string> {
  evil = createServer((request, response) => {
    const doc = documents.get(request.url ?? "");
    if (request.method === "POST") {
      request.resume();
      response.writeHead(202).end();
    } else if (doc) {
      response.writeHead(200, { "content-type": "application/activity+json" }).end(JSON.stringify(doc));
    } else response.writeHead(404).end();
  });
  return new Promise((resolve) => evil.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(evil.address() as { port: number }).port}`)));
}

t.before(async () => {
  b = await startInstance("hostile-b");
  b.addMember("bob");
  evilOrigin = await startHostileServer();
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const actor = `${evilOrigin}/users/mallory`;
  documents.set("/users/mallory", {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
    id: actor,
    type: "Person",
    preferredUsername: "mallory",
    name: "Mallory",
    summary: `<p>Bio <a href="javascript:alert('bio')">piège</a></p>`,
    inbox: `${actor}/inbox`,
    outbox: "javascript:alert('outbox')",
    followers: "data:text/html,%3Cscript%3Ealert(1)%3C/script%3E",
    following: "vbscript:msgbox(1)",
    endpoints: { sharedInbox: "javascript:alert('sharedInbox')" },
    url: "javascript:alert('url')",
    icon: { type: "Image", mediaType: "image/png", url: "javascript:alert('icon')" },
    image: { type: "Image", mediaType: "image/svg+xml", url: "data:image/svg+xml,%3Csvg%20onload=alert(1)%3E" },
    publicKey: { id: `${actor}#main-key`, owner: actor, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }) },
  });
  signer = {
    actorUri: actor,
    key: privateKey.toCryptoKey({ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["sign"]) as webcrypto.CryptoKey,
    keyId: new URL(`${actor}#main-key`),
  };
});

t.teardown(async () => {
  await browser?.close();
  await b?.stop();
  await new Promise((resolve) => evil?.close(resolve));
});

const bobUri = () => `${b.origin}/users/bob`;
const inbox = () => `${b.origin}/users/bob/inbox`;

function hostileNote() {
  const actor = signer.actorUri;
  const note = {
    id: `${evilOrigin}/notes/1`,
    type: "Note",
    attributedTo: actor,
    to: [PUBLIC],
    cc: [bobUri()],
    content: `<p>Message piégé <a href="javascript:alert('content')">un</a> <a href="vbscript:msgbox(1)">deux</a> <a href="data:text/html,x">trois</a> <a href="//evil.example/">quatre</a> <img src="javascript:alert(1)"> <span class="h-card"><a href="${bobUri()}" class="u-url mention">@bob</a></span></p>`,
    url: "javascript:alert('note-url')",
    attachment: [
      { type: "Document", mediaType: "image/png", url: "javascript:alert('attachment')" },
      { type: "Image", mediaType: "image/png", url: "data:image/png;base64,iVBORw0KGgo=" },
      { type: "Document", mediaType: "image/png", url: { type: "Link", href: "vbscript:msgbox(1)" } },
    ],
    tag: [{ type: "Mention", href: bobUri(), name: `@bob@${new URL(b.origin).host}` }],
  };
  documents.set("/notes/1", { "@context": "https://www.w3.org/ns/activitystreams", ...note });
  return { "@context": "https://www.w3.org/ns/activitystreams", id: `${evilOrigin}/activities/note-1`, type: "Create", actor, to: [PUBLIC], cc: [bobUri()], object: note };
}

function hostileEvent() {
  const actor = signer.actorUri;
  const event = {
    id: `${evilOrigin}/events/1`,
    type: "Event",
    attributedTo: actor,
    to: [PUBLIC],
    name: "Réunion piégée",
    content: `<p>Ordre du jour <a href="javascript:alert('event')">ici</a></p>`,
    startTime: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    endTime: new Date(Date.now() + 3 * 86_400_000 + 7_200_000).toISOString(),
    url: "javascript:alert('event-url')",
    attachment: [
      { type: "Link", name: "Website", mediaType: "text/html", href: "javascript:alert('online')" },
      { type: "Document", name: "Tract", mediaType: "application/pdf", url: "data:application/pdf;base64,JVBERi0=" },
      { type: "Document", name: "Affiche", mediaType: "image/png", url: { type: "Link", href: "vbscript:msgbox(1)" } },
    ],
  };
  documents.set("/events/1", { "@context": "https://www.w3.org/ns/activitystreams", ...event });
  return { "@context": "https://www.w3.org/ns/activitystreams", id: `${evilOrigin}/activities/event-1`, type: "Create", actor, to: [PUBLIC], object: event };
}

/** Every URL-holding value B stored from the hostile server, with where it is. */
function storedValues(): Array<[string, unknown]> {
  const rows: Array<[string, Record<string, unknown>]> = [
    ...b.query<Record<string, unknown>>("select uri, url, inbox_url, shared_inbox_url, followers_url, avatar_url, header_url, summary from actors where local = 0").map((r) => ["actor", r] as [string, Record<string, unknown>]),
    ...b.query<Record<string, unknown>>("select uri, url, content from posts where uri like ?", `${evilOrigin}%`).map((r) => ["post", r] as [string, Record<string, unknown>]),
    ...b.query<Record<string, unknown>>("select uri, url, online_url, description from events where uri like ?", `${evilOrigin}%`).map((r) => ["event", r] as [string, Record<string, unknown>]),
    ...b.query<Record<string, unknown>>("select remote_url from media where remote_url is not null").map((r) => ["media", r] as [string, Record<string, unknown>]),
  ];
  return rows.flatMap(([table, row]) => Object.entries(row).map(([column, value]) => [`${table}.${column}`, value] as [string, unknown]));
}

t.test("a hostile actor, Note and Event: nothing dangerous is stored", async (t) => {
  t.equal((await postSigned(inbox(), hostileNote(), signer)).status, 202, "the Note is accepted");
  t.equal((await postSigned(inbox(), hostileEvent(), signer)).status, 202, "the Event is accepted");
  await eventually(() => b.query("select 1 from posts where uri = ?", `${evilOrigin}/notes/1`).length === 1, 15_000, "the note stored");
  await eventually(() => b.query("select 1 from events where uri = ?", `${evilOrigin}/events/1`).length === 1, 15_000, "the event stored");

  const actor = b.query<Record<string, string | null>>("select * from actors where uri = ?", signer.actorUri)[0]!;
  t.equal(actor.username, "mallory", "the actor is known");
  t.equal(actor.inbox_url, `${signer.actorUri}/inbox`, "its http inbox is kept");
  for (const column of ["url", "shared_inbox_url", "followers_url", "avatar_url", "header_url"]) t.equal(actor[column], null, `actors.${column}: dropped`);
  const post = b.query<{ url: string | null; content: string }>("select url, content from posts where uri = ?", `${evilOrigin}/notes/1`)[0]!;
  t.equal(post.url, null, "posts.url: dropped");
  t.match(post.content, /Message piégé/, "the text is kept");
  t.notMatch(post.content, /javascript|vbscript|data:|evil\.example|<img/i, "no dangerous link or image in the content");
  t.match(post.content, /rel="nofollow noopener noreferrer"/, "links of other servers: nofollow noopener noreferrer");
  t.equal(b.query("select 1 from media where post_id is not null").length, 0, "no attachment of the Note stored");
  const event = b.query<{ url: string | null; online_url: string | null; id: number }>("select id, url, online_url from events where uri = ?", `${evilOrigin}/events/1`)[0]!;
  t.equal(event.url, `${evilOrigin}/events/1`, "events.url: the id instead");
  t.equal(event.online_url, null, "events.online_url: dropped");
  t.equal(b.query("select 1 from media where event_id = ?", event.id).length, 0, "no attachment of the Event stored");
  for (const [where, value] of storedValues()) {
    if (typeof value === "string") t.notOk(DANGEROUS.test(value) || /href="(javascript|vbscript|data):/i.test(value), `${where} is safe`);
  }
});

// ---- What members see ------------------------------------------------------------

async function loggedIn(username: string): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
  browser ??= await launchChromium();
  const context = await browser.newContext({ locale: "fr-FR" });
  // Browsers ask for one; the instance has none (a 404 is logged as a console error).
  await context.route("**/favicon.ico", (route) => route.fulfill({ status: 204 }));
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" || /Content Security Policy/i.test(message.text())) problems.push(`console: ${message.text()}`);
  });
  // Reported by the page itself too: the event every CSP violation fires.
  await context.addInitScript(`document.addEventListener("securitypolicyviolation", (e) => console.error("Content Security Policy violation: " + e.violatedDirective + " " + e.blockedURI))`);
  await page.goto(`${b.origin}/login`);
  await page.getByLabel("Nom d'utilisateur").fill(username);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL(`${b.origin}/`);
  return { context, page, problems };
}

/** Every link and image address of the page as the browser sees it. */
async function addresses(page: Page): Promise<string[]> {
  const hrefs = await page.locator("a[href]").evaluateAll((links) => links.map((a) => a.getAttribute("href") ?? ""));
  const srcs = await page.locator("img[src], iframe[src], object[data], embed[src]").evaluateAll((els) => els.map((e) => e.getAttribute("src") ?? e.getAttribute("data") ?? ""));
  return [...hrefs, ...srcs];
}

async function checkPages(t: Test, label: string): Promise<void> {
  const eventId = b.query<{ id: number }>("select id from events where uri = ?", `${evilOrigin}/events/1`)[0]!.id;
  const { context, page, problems } = await loggedIn("bob");
  for (const [path, expected] of [
    ["/notifications", /Mallory/],
    ["/", /Message piégé/],
    [`/events/${eventId}`, /Réunion piégée/],
  ] as const) {
    const response = await page.goto(`${b.origin}${path}`);
    t.equal(response?.status(), 200, `${label} ${path}: shown`);
    t.match(await page.locator("main").textContent(), expected, `${label} ${path}: the hostile content is there`);
    const found = await addresses(page);
    t.ok(found.length > 0, `${label} ${path}: links were read`);
    t.same(found.filter((a) => DANGEROUS.test(a) || a.startsWith("//")), [], `${label} ${path}: no javascript:, data: or vbscript: link or image`);
  }
  t.same(problems, [], `${label}: no CSP violation or script error`);
  await context.close();
}

let client: mastodon.rest.Client;
let token: string;

async function checkApi(t: Test, label: string): Promise<void> {
  ({ client, token } = client ? { client, token } : await mastoLogin(b.origin, "bob"));
  const malloryId = b.query<{ id: number }>("select id from actors where uri = ?", signer.actorUri)[0]!.id;
  const postId = b.query<{ id: number }>("select id from posts where uri = ?", `${evilOrigin}/notes/1`)[0]!.id;
  const eventId = b.query<{ id: number }>("select id from events where uri = ?", `${evilOrigin}/events/1`)[0]!.id;
  const home = await client.v1.timelines.home.list();
  t.ok(home.some((s) => s.id === String(postId)), `${label}: the Note is on bob's home timeline`);
  const notifications = await client.v1.notifications.list();
  t.ok(notifications.some((n) => n.account.id === String(malloryId)), `${label}: and in his notifications`);
  const account = await client.v1.accounts.$select(String(malloryId)).fetch();
  t.match(account.url, /^http:\/\/127\.0\.0\.1/, `${label}: the account's url is a web address`);
  t.match(account.avatar, /^http:\/\/127\.0\.0\.1/, `${label}: so is its avatar (ours by default)`);
  const status = await client.v1.statuses.$select(String(postId)).fetch();
  t.equal(status.mediaAttachments.length, 0, `${label}: no attachment`);
  for (const [what, value] of [
    ["home", home],
    ["notifications", notifications],
    ["account", account],
    ["status", status],
  ] as const) {
    t.notMatch(JSON.stringify(value), DANGEROUS_IN_JSON, `${label}: nothing dangerous in the Mastodon API's ${what}`);
  }
  const event = await fetch(`${b.origin}/api/coopol/v1/events/${eventId}`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(event.status, 200);
  const eventJson = await event.text();
  t.notMatch(eventJson, DANGEROUS_IN_JSON, `${label}: nothing dangerous in Coopol's event`);
  t.equal(JSON.parse(eventJson).online_url, null, `${label}: no online link`);
}

t.test("the pages show no dangerous link, in Chromium, without CSP violation", async (t) => {
  await checkPages(t, "received");
});

t.test("the Mastodon and Coopol APIs return no dangerous URL", async (t) => {
  await checkApi(t, "received");
});

t.test("rows stored before the check are filtered when shown and returned", async (t) => {
  // As an older version would have stored them.
  const db = new Database(join(b.dataDir, "coopol.sqlite"));
  try {
    db.prepare("update actors set url = ?, avatar_url = ?, header_url = ? where uri = ?").run("javascript:alert('url')", "javascript:alert('icon')", "data:image/svg+xml,x", signer.actorUri);
    db.prepare("update posts set url = ? where uri = ?").run("javascript:alert('note-url')", `${evilOrigin}/notes/1`);
    const event = db.prepare("select id, actor_id from events where uri = ?").get(`${evilOrigin}/events/1`) as { id: number; actor_id: number };
    db.prepare("update events set url = ?, online_url = ? where id = ?").run("javascript:alert('event-url')", "javascript:alert('online')", event.id);
    const post = db.prepare("select id, actor_id from posts where uri = ?").get(`${evilOrigin}/notes/1`) as { id: number; actor_id: number };
    const media = db.prepare("insert into media (id, actor_id, post_id, event_id, remote_url, content_type, description, position, created_at) values (?, ?, ?, ?, ?, ?, '', 0, ?)");
    media.run(9_000_001, post.actor_id, post.id, null, "javascript:alert('attachment')", "image/png", Date.now());
    media.run(9_000_002, event.actor_id, null, event.id, "vbscript:msgbox(1)", "text/html", Date.now());
  } finally {
    db.close();
  }
  await checkPages(t, "stored before");
  await checkApi(t, "stored before");
});

t.test("the main pages in Chromium: no CSP violation, and their forms work", async (t) => {
  b.addMember("sylvie", "secretary");
  const { context, page, problems } = await loggedIn("sylvie");
  const pages = ["/", "/section", "/notifications", "/agenda", "/agenda/me", "/events/new", "/settings", "/settings/calendar", "/settings/apps", "/follow-requests", "/groups", "/groups/new", "/members", "/invitations/new", "/about", "/@sylvie", "/debate", "/campaigns", "/actions", "/reports", "/directives", "/territory", "/tags/coopol"];
  for (const path of pages) {
    const response = await page.goto(`${b.origin}${path}`);
    t.ok(response && response.status() < 400, `${path}: ${response?.status()}`);
    t.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self'/, `${path}: under the CSP`);
  }
  await page.goto(`${b.origin}/`);
  await page.getByLabel("Votre message").fill("Publié sous la politique de sécurité #coopol");
  await page.getByRole("button", { name: "Publier" }).click();
  await page.waitForURL(/notice=posted/);
  t.match(await page.locator("main").textContent(), "Publié sous la politique de sécurité", "a form is posted and its result shown");
  await page.getByRole("button", { name: /^J'aime/ }).first().click();
  await page.waitForLoadState();
  t.equal(page.url().startsWith(b.origin), true, "a post's button comes back to this site (its Referer)");
  t.same(problems, [], "no CSP violation or script error on any of them");
  await context.close();
});

// ---- OAuth apps ------------------------------------------------------------------

t.test("an app registered with a javascript: website: no link on the consent page; the redirect to the app works under the CSP", async (t) => {
  const registered = await fetch(`${b.origin}/api/v1/apps`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_name: "Appli piégée", redirect_uris: TEST_REDIRECT, scopes: "read", website: "javascript:alert('website')" }),
  });
  t.equal(registered.status, 200);
  const app = (await registered.json()) as { client_id: string };
  const { context, page, problems } = await loggedIn("bob");
  // The app's redirect address answers in place of the app.
  await page.route(`${TEST_REDIRECT}**`, (route) => route.fulfill({ status: 200, contentType: "text/plain", body: "app" }));
  const query = new URLSearchParams({ client_id: app.client_id, redirect_uri: TEST_REDIRECT, response_type: "code", scope: "read", state: "xyz" });
  const consent = await page.goto(`${b.origin}/oauth/authorize?${query}`);
  t.match(await page.locator("main").textContent(), "Appli piégée");
  t.same((await addresses(page)).filter((a) => DANGEROUS.test(a)), [], "no javascript: link");
  t.notMatch(await page.locator("main").innerHTML(), "javascript:", "not even as text");
  t.match(consent?.headers()["content-security-policy"] ?? "", /form-action 'self' http:\/\/127\.0\.0\.1:9(;|$)/, "the form may lead to the app");
  await page.getByRole("button", { name: "Autoriser" }).click();
  await page.waitForURL(/^http:\/\/127\.0\.0\.1:9\/callback\?/);
  const back = new URL(page.url());
  t.ok(back.searchParams.get("code"), "the app gets its code");
  t.equal(back.searchParams.get("state"), "xyz");
  t.same(problems, [], "no CSP violation");
  await context.close();
});

// ---- Headers and redirects ---------------------------------------------------------

t.test("every HTML page has the security headers", async (t) => {
  const bob = new WebSession(b.origin);
  await bob.login("bob", PASSWORD);
  for (const path of ["/", "/login", "/notifications", "/agenda", "/groups", "/settings", "/no-such-page-here"]) {
    const res = await fetch(new URL(path, b.origin), { headers: { cookie: [...bob.cookies].map(([k, v]) => `${k}=${v}`).join("; ") }, redirect: "manual" });
    await res.arrayBuffer();
    if (!res.headers.get("content-type")?.startsWith("text/html")) continue;
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' https: data:", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"]) {
      t.ok(csp.includes(directive), `${path}: ${directive}`);
    }
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${path}: no unsafe-inline or unsafe-eval`);
    t.equal(res.headers.get("referrer-policy"), "same-origin", `${path}: Referrer-Policy`);
    t.equal(res.headers.get("x-content-type-options"), "nosniff", `${path}: nosniff`);
  }
  const json = await fetch(`${b.origin}/api/v1/instance`);
  await json.arrayBuffer();
  t.equal(json.headers.get("x-content-type-options"), "nosniff", "JSON too is never sniffed");
});

t.test("after logging in, next= leads to a page of this site only", async (t) => {
  const cases: Array<[string, string]> = [
    ["/\\evil.example/", "/"],
    ["/\\/evil.example/", "/"],
    ["//evil.example/", "/"],
    ["/\t/evil.example/", "/"],
    ["https:evil.example", "/"],
    ["https://evil.example/", "/"],
    [`${"%2F"}%5Cevil.example`, "/"],
    ["/%5Cevil.example", "/%5Cevil.example"],
    ["/notifications?max_id=1", "/notifications?max_id=1"],
  ];
  for (const [next, expected] of cases) {
    const session = new WebSession(b.origin);
    const form = await session.get(`/login?next=${encodeURIComponent(next)}`);
    const field = /name="next" value="([^"]*)"/.exec(form.body)?.[1];
    t.equal(field?.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c))), expected, `login form for next=${JSON.stringify(next)}`);
    const res = await session.post("/login", { username: "bob", password: PASSWORD, next });
    t.equal(res.status, 303);
    t.equal(res.location, expected, `redirected on-site for next=${JSON.stringify(next)}`);
    const target = new URL(res.location!, b.origin);
    t.equal(target.origin, b.origin, "as a browser reads it");
  }
});
