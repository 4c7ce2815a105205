// The Mastodon client API, driven by real client libraries from the npm
// registry (masto.js and megalodon) against real instance processes, through
// the full OAuth authorization-code flow.
import t from "tap";
import { createHash, randomBytes } from "node:crypto";
import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient, type mastodon } from "masto";
import megalodon from "megalodon";
import { request } from "undici";
import { DEFAULT_AVATAR_PNG } from "../src/media/default-avatar.ts";
import { eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { authorizeAs } from "./helpers/oauth.ts";
import { WebSession } from "./helpers/browser-session.ts";

// megalodon is CommonJS: its generator is the `default` export of the module object.
const generator = megalodon.default;
const REDIRECT = "http://127.0.0.1:9/callback";
let a: TestInstance;
let b: TestInstance;

t.before(async () => {
  [a, b] = await Promise.all([startInstance("apia"), startInstance("apib")]);
  a.addMember("alice");
  a.addMember("bob");
  a.addMember("sam", "sympathisant");
  b.addMember("carol");
});
t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

/** Registers an app with masto.js and logs `username` in through the consent page. */
async function mastoLogin(instance: TestInstance, username: string, scopes = "read write follow"): Promise<{ client: mastodon.rest.Client; token: string; app: { clientId: string; clientSecret: string } }> {
  const anonymous = createRestAPIClient({ url: instance.origin });
  const app = await anonymous.v1.apps.create({ clientName: "Tests masto.js", redirectUris: REDIRECT, scopes, website: "https://example.org" });
  const authorizeUrl = `${instance.origin}/oauth/authorize?${new URLSearchParams({ client_id: app.clientId!, redirect_uri: REDIRECT, response_type: "code", scope: scopes, state: "xyz" })}`;
  const code = await authorizeAs(instance.origin, username, authorizeUrl);
  const oauth = createOAuthAPIClient({ url: instance.origin });
  const token = await oauth.token.create({ grantType: "authorization_code", clientId: app.clientId!, clientSecret: app.clientSecret!, redirectUri: REDIRECT, code, scope: scopes });
  return { client: createRestAPIClient({ url: instance.origin, accessToken: token.accessToken }), token: token.accessToken, app: { clientId: app.clientId!, clientSecret: app.clientSecret! } };
}

async function status(error: unknown): Promise<number | undefined> {
  return (error as { statusCode?: number }).statusCode;
}

let alice: mastodon.rest.Client;
let aliceToken: string;
let aliceApp: { clientId: string; clientSecret: string };
let bob: mastodon.rest.Client;

t.test("OAuth: an app registers, a member authorises it, the token works", async (t) => {
  const login = await mastoLogin(a, "alice");
  alice = login.client;
  aliceToken = login.token;
  aliceApp = login.app;
  const me = await alice.v1.accounts.verifyCredentials();
  t.equal(me.username, "alice");
  t.equal(me.acct, "alice");
  t.type(me.id, "string");
  t.ok(me.avatar.startsWith(a.origin), "a default avatar");
  const app = await alice.v1.apps.verifyCredentials();
  t.equal(app.name, "Tests masto.js");
  bob = (await mastoLogin(a, "bob")).client;

  // The instance answers what clients read at start-up.
  const instance = await alice.v2.instance.fetch();
  t.match(instance.version, /^4\.\d+\.\d+ \(compatible; Coopol/);
  t.equal(instance.configuration.urls.streaming, a.origin.replace("http", "ws"));
  t.same(await alice.v1.customEmojis.list(), []);
  t.same(await alice.v2.filters.list(), []);
  t.ok(await alice.v1.preferences.fetch());
  const metadata = await (await request(`${a.origin}/.well-known/oauth-authorization-server`)).body.json();
  t.match(metadata, { code_challenge_methods_supported: ["S256"], token_endpoint: `${a.origin}/oauth/token` });
});

t.test("OAuth: bad clients, codes and tokens are refused in plain words", async (t) => {
  // A code works once.
  const anonymous = createRestAPIClient({ url: a.origin });
  const app = await anonymous.v1.apps.create({ clientName: "Once", redirectUris: REDIRECT, scopes: "read" });
  const url = `${a.origin}/oauth/authorize?${new URLSearchParams({ client_id: app.clientId!, redirect_uri: REDIRECT, response_type: "code", scope: "read" })}`;
  const code = await authorizeAs(a.origin, "alice", url);
  const oauth = createOAuthAPIClient({ url: a.origin });
  const params = { grantType: "authorization_code" as const, clientId: app.clientId!, clientSecret: app.clientSecret!, redirectUri: REDIRECT, code };
  await oauth.token.create(params);
  await t.rejects(oauth.token.create(params), "a used code is refused");
  await t.rejects(oauth.token.create({ ...params, clientSecret: "wrong" }), "a wrong secret is refused");

  // A redirect the app did not register is refused before anything is shown.
  const s = new WebSession(a.origin);
  await s.login("alice", "correct horse battery");
  const bad = await s.get(`/oauth/authorize?${new URLSearchParams({ client_id: app.clientId!, redirect_uri: "https://evil.example/steal", response_type: "code" })}`);
  t.equal(bad.status, 400);
  t.match(bad.body, "redirect_uri");

  // PKCE: the verifier must match the challenge.
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const pkceUrl = `${url}&code_challenge=${challenge}&code_challenge_method=S256`;
  const exchange = async (c: string, v: string) =>
    request(`${a.origin}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grant_type: "authorization_code", client_id: app.clientId, client_secret: app.clientSecret, redirect_uri: REDIRECT, code: c, code_verifier: v }),
    });
  const wrong = await exchange(await authorizeAs(a.origin, "alice", pkceUrl), "not-the-verifier");
  t.equal(wrong.statusCode, 400);
  t.match(await wrong.body.json(), { error: "invalid_grant" });
  const right = await exchange(await authorizeAs(a.origin, "alice", pkceUrl), verifier);
  t.equal(right.statusCode, 200);
  const token = (await right.body.json()) as { access_token: string; refresh_token: string };
  t.ok(token.access_token && token.refresh_token);

  // No token, unknown token, missing scope: 401, 401, 403, each with a message.
  const none = await request(`${a.origin}/api/v1/timelines/home`);
  t.equal(none.statusCode, 401);
  t.match(await none.body.json(), { error: /jeton/ });
  const forged = await request(`${a.origin}/api/v1/timelines/home`, { headers: { authorization: "Bearer forged" } });
  t.equal(forged.statusCode, 401);
  await forged.body.dump();
  const readOnly = createRestAPIClient({ url: a.origin, accessToken: token.access_token });
  await readOnly.v1.timelines.home.list();
  const refused = await readOnly.v1.statuses.create({ status: "should not be posted" }).catch((e) => e);
  t.equal(await status(refused), 403, "a read-only token cannot post");
  t.match(String(refused.message), "write:statuses");

  // Out-of-band apps show the code on the page instead of redirecting.
  const oob = await anonymous.v1.apps.create({ clientName: "CLI", redirectUris: "urn:ietf:wg:oauth:2.0:oob", scopes: "read" });
  const oobCode = await authorizeAs(a.origin, "alice", `${a.origin}/oauth/authorize?${new URLSearchParams({ client_id: oob.clientId!, redirect_uri: "urn:ietf:wg:oauth:2.0:oob", response_type: "code" })}`);
  const oobToken = await oauth.token.create({ grantType: "authorization_code", clientId: oob.clientId!, clientSecret: oob.clientSecret!, redirectUri: "urn:ietf:wg:oauth:2.0:oob", code: oobCode });
  t.ok(oobToken.accessToken);
});

t.test("statuses: every visibility, replies, favourites, boosts, edits, deletion", async (t) => {
  const visibilities = ["public", "unlisted", "private", "direct"] as const;
  const posted: Record<string, mastodon.v1.Status> = {};
  for (const visibility of visibilities) {
    posted[visibility] = await alice.v1.statuses.create({ status: `Message ${visibility} #apitest`, visibility, language: "fr" });
    t.equal(posted[visibility]!.visibility, visibility);
  }
  const section = await alice.v1.statuses.create({ status: "Réunion de section jeudi", visibility: "section" as "private" });
  t.equal(section.visibility, "private", "shown to apps as a private post…");
  t.match(section.content, "Réservé à la section", "…with a clear marker");
  t.equal((section as unknown as { localOnly: boolean }).localOnly, true, "and Hometown's local_only flag");

  const reply = await bob.v1.statuses.create({ status: "@alice d'accord !", inReplyToId: posted.public!.id });
  t.equal(reply.inReplyToId, posted.public!.id);
  t.equal(reply.inReplyToAccountId, posted.public!.account.id);
  const context = await alice.v1.statuses.$select(posted.public!.id).context.fetch();
  t.same(context.descendants.map((s) => s.id), [reply.id]);

  const liked = await bob.v1.statuses.$select(posted.public!.id).favourite();
  t.equal(liked.favourited, true);
  t.equal(liked.favouritesCount, 1);
  const boost = await bob.v1.statuses.$select(posted.public!.id).reblog();
  t.equal(boost.reblog?.id, posted.public!.id);
  await t.rejects(bob.v1.statuses.$select(posted.direct!.id).fetch(), "bob cannot read a direct message to nobody");
  const favouritedBy = await alice.v1.statuses.$select(posted.public!.id).favouritedBy.list();
  t.same(favouritedBy.map((a) => a.username), ["bob"]);

  const edited = await alice.v1.statuses.$select(posted.unlisted!.id).update({ status: "Message corrigé" });
  t.match(edited.content, "Message corrigé");
  t.ok(edited.editedAt);

  const bookmarked = await alice.v1.statuses.$select(posted.private!.id).bookmark();
  t.equal(bookmarked.bookmarked, true);
  t.same((await alice.v1.bookmarks.list()).map((s) => s.id), [posted.private!.id]);
  const pinned = await alice.v1.statuses.$select(posted.public!.id).pin();
  t.equal(pinned.pinned, true);
  const pins = await alice.v1.accounts.$select(posted.public!.account.id).statuses.list({ pinned: true });
  t.same(pins.map((s) => s.id), [posted.public!.id]);

  // Idempotency-Key: a retried request posts once.
  const once = async () =>
    (await request(`${a.origin}/api/v1/statuses`, {
      method: "POST",
      headers: { authorization: `Bearer ${aliceToken}`, "content-type": "application/json", "idempotency-key": "retry-1" },
      body: JSON.stringify({ status: "Une seule fois" }),
    }).then((r) => r.body.json())) as { id: string };
  t.equal((await once()).id, (await once()).id);

  const home = await alice.v1.timelines.home.list({ limit: 40 });
  t.ok(home.some((s) => s.id === section.id), "section post in the member's home");
  const tag = await alice.v1.timelines.tag.$select("apitest").list();
  t.same(tag.map((s) => s.id), [posted.public!.id], "public timelines show public posts only");

  const deleted = await alice.v1.statuses.$select(posted.direct!.id).remove();
  t.equal(deleted.text, "Message direct #apitest", "delete answers with the source, for redrafting");
  await t.rejects(alice.v1.statuses.$select(posted.direct!.id).fetch());

  // Pagination: Link headers lead to the next page.
  const first = await request(`${a.origin}/api/v1/accounts/${posted.public!.account.id}/statuses?limit=2`, { headers: { authorization: `Bearer ${aliceToken}` } });
  const link = String(first.headers.link);
  t.match(link, /max_id=\d+>; rel="next"/);
  const page1 = (await first.body.json()) as Array<{ id: string }>;
  const next = /<([^>]+)>; rel="next"/.exec(link)![1]!;
  const page2 = (await (await request(next, { headers: { authorization: `Bearer ${aliceToken}` } })).body.json()) as Array<{ id: string }>;
  t.ok(BigInt(page2[0]!.id) < BigInt(page1[1]!.id), "the next page is older");
});

t.test("section-only posts never reach sympathisants, visitors or other instances", async (t) => {
  const sam = (await mastoLogin(a, "sam")).client;
  const refused = await sam.v1.statuses.create({ status: "Je suis sympathisant", visibility: "section" as "private" }).catch((e) => e);
  t.equal(await status(refused), 403, "sympathisants cannot start a section-only thread");
  const secret = await alice.v1.statuses.create({ status: "Liste des adhérents à relancer", visibility: "section" as "private" });
  await t.rejects(sam.v1.statuses.$select(secret.id).fetch(), "a sympathisant cannot open it");
  const samHome = await sam.v1.timelines.home.list();
  t.notOk(samHome.some((s) => s.id === secret.id));
  const search = await sam.v2.search.list({ q: "adhérents", type: "statuses" });
  t.same(search.statuses, [], "nor find it by searching");
  const anonymous = await request(`${a.origin}/api/v1/statuses/${secret.id}`);
  t.equal(anonymous.statusCode, 404);
  await anonymous.body.dump();
  const lists = await bob.v1.lists.list();
  t.equal(lists.length, 1, "members see the section as a list");
  const sectionList = await bob.v1.timelines.list.$select(lists[0]!.id).list();
  t.ok(sectionList.some((s) => s.id === secret.id));
  t.same(await sam.v1.lists.list().then((l) => sam.v1.timelines.list.$select("section").list()).then((rows) => rows.filter((s) => s.id === secret.id)), []);
  t.same(b.query("select id from posts where content like '%adhérents%'"), [], "B never received it");
});

t.test("federation through the API: follow a member of another instance, see her posts, get notified", async (t) => {
  const carolApp = generator("mastodon", b.origin);
  const registered = await carolApp.registerApp("Tests megalodon", { scopes: ["read", "write", "follow"], redirect_uris: REDIRECT });
  const code = await authorizeAs(b.origin, "carol", registered.url!);
  const token = await carolApp.fetchAccessToken(registered.client_id, registered.client_secret, code, REDIRECT);
  const carol = generator("mastodon", b.origin, token.access_token);
  const carolMe = (await carol.verifyAccountCredentials()).data;
  t.equal(carolMe.username, "carol");

  const found = await alice.v2.search.list({ q: `@carol@${new URL(b.origin).host}`, resolve: true, type: "accounts" });
  t.equal(found.accounts.length, 1);
  const carolOnA = found.accounts[0]!;
  t.equal(carolOnA.acct, `carol@${new URL(b.origin).host}`);
  const relationship = await alice.v1.accounts.$select(carolOnA.id).follow();
  t.ok(relationship.following || relationship.requested);
  await eventually(async () => (await alice.v1.accounts.relationships.fetch({ id: [carolOnA.id] }))[0]?.following, 15_000, "the follow to be accepted");

  // Streaming: alice's app listens before carol posts.
  const streaming = createStreamingAPIClient({ streamingApiUrl: a.origin.replace("http", "ws"), accessToken: aliceToken, retry: false });
  const subscription = streaming.user.subscribe();
  const events: mastodon.streaming.Event[] = [];
  void (async () => {
    for await (const event of subscription) events.push(event);
  })().catch(() => {});
  const contents = () => events.flatMap((e) => (e.event === "update" ? [e.payload.content] : []));
  // There is no acknowledgement of a subscription: a first post of alice's shows it is live.
  await eventually(async () => {
    await alice.v1.statuses.create({ status: "Ping du flux", visibility: "private" });
    return eventually(() => contents().some((c) => c.includes("Ping du flux")), 1_000, "ping");
  }, 15_000, "the stream to be live");

  const posted = (await carol.postStatus(`Bonjour depuis B @alice@${new URL(a.origin).host}`, { visibility: "public" })).data as { id: string };
  t.ok(posted.id);
  const home = await eventually(async () => (await alice.v1.timelines.home.list()).find((s) => s.content.includes("Bonjour depuis B")), 15_000, "carol's post on A");
  t.equal(home.account.acct, `carol@${new URL(b.origin).host}`);
  const live = await eventually(() => events.find((e) => e.event === "update" && e.payload.content.includes("Bonjour depuis B")), 15_000, "carol's post on the stream");
  t.match(live, { payload: { account: { username: "carol" } } }, "the post arrived over the WebSocket stream");
  subscription.unsubscribe();
  streaming.close();

  const mention = await eventually(async () => (await alice.v1.notifications.list({ types: ["mention"] })).find((n) => n.account?.username === "carol"), 15_000, "a mention notification");
  t.equal(mention.status?.id, home.id);
  const likes = await alice.v1.notifications.list({ types: ["favourite"] });
  t.ok(likes.some((n) => n.account?.username === "bob"), "bob's like notified alice");
  const grouped = await alice.v2.notifications.list();
  t.ok(grouped.notificationGroups.length > 0);

  // megalodon on A too: the same timeline through the other library.
  const aliceMegalodon = generator("mastodon", a.origin, aliceToken);
  const timeline = (await aliceMegalodon.getHomeTimeline({ limit: 40 })).data;
  t.ok(timeline.some((s) => s.content.includes("Bonjour depuis B")));

  // Carol likes alice's reply from B; alice is told on A.
  const reply = await alice.v1.statuses.create({ status: `@carol@${new URL(b.origin).host} bienvenue !`, inReplyToId: home.id });
  const onB = await eventually(async () => ((await carol.getHomeTimeline()).data as Array<{ id: string; content: string }>).find((s) => s.content.includes("bienvenue")), 15_000, "alice's reply on B");
  await carol.favouriteStatus(onB.id);
  await eventually(async () => (await alice.v1.notifications.list({ types: ["favourite"] })).some((n) => n.status?.id === reply.id), 15_000, "carol's like notified on A");
});

t.test("media: upload an image with a description and post it", async (t) => {
  const media = await alice.v2.media.create({ file: new Blob([new Uint8Array(DEFAULT_AVATAR_PNG)], { type: "image/png" }), description: "Le tract de la semaine" });
  t.equal(media.type, "image");
  t.equal(media.description, "Le tract de la semaine");
  t.match(media.meta, { original: { width: 96, height: 96 } });
  const file = await request(media.url!);
  t.equal(file.statusCode, 200);
  t.equal(file.headers["content-type"], "image/png");
  t.same(Buffer.from(await file.body.arrayBuffer()), DEFAULT_AVATAR_PNG);
  const described = await alice.v1.media.$select(media.id).update({ description: "Tract recto" });
  t.equal(described.description, "Tract recto");
  // Mentioning carol sends the post (and its image) to instance B.
  const post = await alice.v1.statuses.create({ status: `Le tract @carol@${new URL(b.origin).host}`, mediaIds: [media.id] });
  t.equal(post.mediaAttachments.length, 1);
  t.equal(post.mediaAttachments[0]!.description, "Tract recto");
  const reuse = await bob.v1.statuses.create({ status: "pas à moi", mediaIds: [media.id] }).catch((e) => e);
  t.equal(await status(reuse), 404, "nobody posts someone else's upload");

  const fake = await alice.v2.media.create({ file: new Blob(["pas une image"], { type: "image/png" }) }).catch((e) => e);
  t.equal(await status(fake), 422);
  t.match(String(fake.message), "image");
  // Remote instances receive the attachment with the post.
  const remote = await eventually(() => b.query<{ description: string }>("select description from media where remote_url = ?", media.url)[0], 15_000, "the image on B");
  t.equal(remote.description, "Tract recto");
});

t.test("a member sees and revokes authorised apps on a web page", async (t) => {
  const session = new WebSession(a.origin);
  await session.login("alice", "correct horse battery");
  const page = await session.get("/settings/apps");
  t.match(page.body, "Tests masto.js");
  const appId = /<strong>Tests masto\.js<\/strong>[^]*?\/settings\/apps\/(\d+)\/revoke/.exec(page.body)![1]!;
  const revoked = await session.post(`/settings/apps/${appId}/revoke`, {});
  t.equal(revoked.status, 303);
  const refused = await alice.v1.accounts.verifyCredentials().catch((e) => e);
  t.equal(await status(refused), 401, "the app's tokens stop working");
  // And an app can revoke its own token.
  const again = await mastoLogin(a, "alice");
  await createOAuthAPIClient({ url: a.origin }).revoke({ clientId: again.app.clientId, clientSecret: again.app.clientSecret, token: again.token });
  t.equal(await status(await again.client.v1.accounts.verifyCredentials().catch((e) => e)), 401);
  t.ok(aliceApp);
});
