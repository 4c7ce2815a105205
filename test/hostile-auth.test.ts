// Accounts, tokens and streams against a hostile client: the token endpoint
// without the app's secret, PKCE and code reuse, streaming connections whose
// member is disabled, re-roled or whose token is revoked, password guessing
// from many addresses, and DNS answers that change between check and fetch.
// Real instances, real clients (masto.js, megalodon, the `ws` WebSocket client).
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, type LookupFunction } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { createRestAPIClient } from "masto";
import { getGlobalDispatcher, request, setGlobalDispatcher } from "undici";
import WebSocket from "ws";
import { loadConfig } from "../src/config.ts";
import { DISCOVERY_LIMITS, fetchDirectory } from "../src/groups/discovery.ts";
import { createMember } from "../src/members/members.ts";
import { LoginRateLimiter } from "../src/members/rate-limit.ts";
import { createAuthorizationCode, exchangeToken, registerApp } from "../src/oauth/oauth.ts";
import { checkTarget, publicDispatcher, publicLookup, type Resolver } from "../src/outbound.ts";
import { openDatabase } from "../src/storage/db.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { authorizeAs, mastoLogin, megalodonLogin, TEST_REDIRECT } from "./helpers/oauth.ts";

let a: TestInstance;

t.before(async () => {
  a = await startInstance("hostileauth");
  for (const name of ["alice", "bob", "carol", "dave", "erin", "frank"]) a.addMember(name);
});
t.teardown(async () => {
  await a?.stop();
});

type Json = Record<string, unknown>;

async function post(path: string, body: Json, headers: Record<string, string> = {}): Promise<{ status: number; json: Json; headers: Record<string, unknown> }> {
  const res = await request(`${a.origin}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: res.statusCode, json: (await res.body.json()) as Json, headers: res.headers };
}

async function newApp(scopes = "read write"): Promise<{ id: string; secret: string }> {
  const app = (await post("/api/v1/apps", { client_name: "Hostile tests", redirect_uris: TEST_REDIRECT, scopes })).json;
  return { id: app.client_id as string, secret: app.client_secret as string };
}

function authorizeUrl(app: { id: string }, extra: Record<string, string> = {}): string {
  return `${a.origin}/oauth/authorize?${new URLSearchParams({ client_id: app.id, redirect_uri: TEST_REDIRECT, response_type: "code", scope: "read write", ...extra })}`;
}

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}` });

t.test("the token endpoint authenticates the client for every grant", async (t) => {
  const app = await newApp();
  const code = await authorizeAs(a.origin, "alice", authorizeUrl(app));
  const grant = { grant_type: "authorization_code", client_id: app.id, redirect_uri: TEST_REDIRECT, code };

  for (const [what, body, headers] of [
    ["no secret", grant, {}],
    ["a wrong secret", { ...grant, client_secret: "wrong" }, {}],
    ["a wrong secret in HTTP Basic", grant, basic(app.id, "wrong")],
    ["another app's id", { ...grant, client_id: "nobody", client_secret: app.secret }, {}],
  ] as const) {
    const refused = await post("/oauth/token", body, headers);
    t.equal(refused.status, 401, `authorization_code with ${what}: 401`);
    t.equal(refused.json.error, "invalid_client");
    t.match(refused.json.error_description, /client_secret/);
  }
  t.equal((await post("/oauth/token", grant, basic(app.id, "wrong"))).headers["www-authenticate"], 'Basic realm="oauth"', "HTTP Basic clients are told how to authenticate");

  // Refused client authentication does not spend the code: the real app still gets its token.
  const issued = await post("/oauth/token", { ...grant, client_secret: app.secret });
  t.equal(issued.status, 200, "the right secret is accepted");
  t.equal(issued.headers["cache-control"], "no-store");
  const refresh = issued.json.refresh_token as string;
  t.ok(issued.json.access_token && refresh);
  const reused = await post("/oauth/token", { ...grant, client_secret: app.secret });
  t.equal(reused.status, 400, "a code works once");
  t.equal(reused.json.error, "invalid_grant");

  const refreshGrant = { grant_type: "refresh_token", client_id: app.id, refresh_token: refresh };
  t.equal((await post("/oauth/token", refreshGrant)).status, 401, "refresh_token without a secret: 401");
  t.equal((await post("/oauth/token", { ...refreshGrant, client_secret: "wrong" })).status, 401, "refresh_token with a wrong secret: 401");
  const refreshed = await post("/oauth/token", { grant_type: "refresh_token", refresh_token: refresh }, basic(app.id, app.secret));
  t.equal(refreshed.status, 200, "refresh_token with the secret in HTTP Basic");
  t.equal((await post("/oauth/token", { ...refreshGrant, client_secret: app.secret })).json.error, "invalid_grant", "a refresh token works once");

  const clientGrant = { grant_type: "client_credentials", client_id: app.id, scope: "read" };
  t.equal((await post("/oauth/token", clientGrant)).status, 401, "client_credentials without a secret: 401");
  t.equal((await post("/oauth/token", { ...clientGrant, client_secret: "wrong" })).status, 401, "client_credentials with a wrong secret: 401");
  t.equal((await post("/oauth/token", { ...clientGrant, client_secret: app.secret })).status, 200, "client_credentials with the secret");

  const metadata = (await (await request(`${a.origin}/.well-known/oauth-authorization-server`)).body.json()) as Json;
  t.same(metadata.token_endpoint_auth_methods_supported, ["client_secret_basic", "client_secret_post"], "no public clients announced");

  // Revocation needs the app's credentials too.
  const token = refreshed.json.access_token as string;
  const stillValid = async () => (await request(`${a.origin}/api/v1/accounts/verify_credentials`, { headers: { authorization: `Bearer ${token}` } })).statusCode;
  const noCreds = await post("/oauth/revoke", { token });
  t.equal(noCreds.status, 401);
  t.equal(noCreds.json.error, "invalid_client");
  t.equal((await post("/oauth/revoke", { token, client_id: app.id, client_secret: "wrong" })).status, 401);
  t.equal(await stillValid(), 200, "a refused revocation revokes nothing");
  t.equal((await post("/oauth/revoke", { token, client_id: app.id, client_secret: app.secret })).status, 200);
  t.equal(await stillValid(), 401, "revoked by its app");
});

t.test("PKCE, redirect_uri and code reuse", async (t) => {
  const app = await newApp();
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const pkce = authorizeUrl(app, { code_challenge: challenge, code_challenge_method: "S256" });
  const exchange = async (fields: Json) =>
    post("/oauth/token", { grant_type: "authorization_code", client_id: app.id, client_secret: app.secret, redirect_uri: TEST_REDIRECT, ...fields });

  for (const [what, fields] of [
    ["a missing verifier", {}],
    ["a wrong verifier", { code_verifier: randomBytes(32).toString("base64url") }],
    ["a verifier too short", { code_verifier: "short" }],
  ] as const) {
    const refused = await exchange({ code: await authorizeAs(a.origin, "alice", pkce), ...fields });
    t.equal(refused.status, 400, `${what}: 400`);
    t.equal(refused.json.error, "invalid_grant");
    t.match(refused.json.error_description, /code_verifier/);
  }
  // The verifier never replaces the secret (the public-client hole of before).
  const pkceCode = await authorizeAs(a.origin, "alice", pkce);
  const noSecret = await post("/oauth/token", { grant_type: "authorization_code", client_id: app.id, redirect_uri: TEST_REDIRECT, code: pkceCode, code_verifier: verifier });
  t.equal(noSecret.status, 401, "a right verifier without the secret: 401");
  const right = await exchange({ code: pkceCode, code_verifier: verifier });
  t.equal(right.status, 200, "right verifier and secret");
  t.equal((await exchange({ code: pkceCode, code_verifier: verifier })).json.error, "invalid_grant", "the code works once");

  // A code spent on a wrong verifier is gone, even for the right one afterwards.
  const burnt = await authorizeAs(a.origin, "alice", pkce);
  await exchange({ code: burnt, code_verifier: "x".repeat(43) });
  t.equal((await exchange({ code: burnt, code_verifier: verifier })).status, 400, "a code is spent by a failed exchange");

  // Only S256, as Mastodon: plain (or no method) is refused before the consent page.
  const session = new WebSession(a.origin);
  await session.login("alice", PASSWORD);
  for (const method of ["plain", null]) {
    const url = new URL(authorizeUrl(app, { code_challenge: verifier, ...(method ? { code_challenge_method: method } : {}) }));
    const page = await session.get(url.pathname + url.search);
    t.equal(page.status, 400, `code_challenge_method ${method ?? "absent"}: refused`);
    t.match(page.body, "S256");
  }

  // redirect_uri: required at the token endpoint, and the very one the code was sent to.
  const missing = await post("/oauth/token", { grant_type: "authorization_code", client_id: app.id, client_secret: app.secret, code: await authorizeAs(a.origin, "alice", authorizeUrl(app)) });
  t.equal(missing.status, 400);
  t.equal(missing.json.error, "invalid_grant");
  t.match(missing.json.error_description, /redirect_uri/);
  const other = await exchange({ code: await authorizeAs(a.origin, "alice", authorizeUrl(app)), redirect_uri: "http://127.0.0.1:9/other" });
  t.equal(other.json.error, "invalid_grant", "another redirect_uri: refused");
});

t.test("an expired code is refused (domain function, clock given)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "coopol-oauth-"));
  const config = loadConfig({ COOPOL_DATA: dir, COOPOL_NAME: "Section Test" });
  const db = openDatabase(join(dir, "coopol.sqlite"));
  t.teardown(() => db.$client.close());
  const user = await createMember(db, config, { username: "zoe", password: PASSWORD, role: "member" });
  const { app } = registerApp(db, { name: "Clock", redirectUris: TEST_REDIRECT, scopes: "read" });
  const now = 1_700_000_000_000;
  const request = { app, redirectUri: TEST_REDIRECT, scopes: ["read"], codeChallenge: null, state: null };
  const late = createAuthorizationCode(db, user, request, now);
  t.throws(() => exchangeToken(db, app, { grant_type: "authorization_code", code: late, redirect_uri: TEST_REDIRECT }, now + 10 * 60_000 + 1), { code: "oauth_invalid_grant" }, "10 minutes and a millisecond: expired");
  const inTime = createAuthorizationCode(db, user, request, now);
  t.ok(exchangeToken(db, app, { grant_type: "authorization_code", code: inTime, redirect_uri: TEST_REDIRECT }, now + 9 * 60_000).accessToken);
});

t.test("the real client libraries still log in (they send the secret)", async (t) => {
  const { client } = await mastoLogin(a.origin, "alice");
  t.equal((await client.v1.accounts.verifyCredentials()).username, "alice", "masto.js");
  const megalodon = await megalodonLogin(a.origin, "bob");
  t.equal((await megalodon.verifyAccountCredentials()).data.username, "bob", "megalodon");
});

/** A streaming connection on the section's list, with the `ws` client, keeping what it receives and how it closed. */
async function listen(token: string) {
  const socket = new WebSocket(`${a.origin.replace("http", "ws")}/api/v1/streaming?stream=list&list=section`, { headers: { authorization: `Bearer ${token}` } });
  const received: string[] = [];
  const state: { closed: { code: number; reason: string } | null } = { closed: null };
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as { event?: string; payload?: string };
    if (message.event === "update") received.push((JSON.parse(message.payload!) as { content: string }).content);
  });
  socket.on("close", (code, reason) => {
    state.closed = { code, reason: reason.toString() };
  });
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  return { socket, received, state };
}

t.test("a streaming connection stops and closes when its rights go", async (t) => {
  const bob = (await mastoLogin(a.origin, "bob")).client;
  const tokens: Record<string, string> = {};
  for (const name of ["alice", "carol", "dave", "erin"]) tokens[name] = (await mastoLogin(a.origin, name)).token;
  // erin's app is revoked by the app itself: keep its credentials.
  const erinApp = await newApp();
  const erinCode = await authorizeAs(a.origin, "erin", authorizeUrl(erinApp));
  tokens.erin = (await post("/oauth/token", { grant_type: "authorization_code", client_id: erinApp.id, client_secret: erinApp.secret, redirect_uri: TEST_REDIRECT, code: erinCode })).json.access_token as string;

  const streams = Object.fromEntries(await Promise.all(Object.entries(tokens).map(async ([name, token]) => [name, await listen(token)] as const)));
  // There is no acknowledgement of a subscription: the first section post that everyone receives shows they are live.
  await eventually(async () => {
    await bob.v1.statuses.create({ status: "Réunion de section jeudi", visibility: "section" as never });
    return eventually(() => Object.values(streams).every((s) => s.received.some((c) => c.includes("Réunion de section"))), 1_000, "the first post");
  }, 15_000, "every stream to be live");

  // carol is disabled and dave becomes a sympathisant (both with the CLI: another process, no event); erin's app revokes her token.
  t.equal(a.cli(["member", "disable", "--username", "carol"]).status, 0);
  t.equal(a.cli(["member", "set-role", "--username", "dave", "--role", "sympathisant"]).status, 0);
  t.equal((await post("/oauth/revoke", { token: tokens.erin, client_id: erinApp.id, client_secret: erinApp.secret })).status, 200);
  await eventually(() => streams.erin!.state.closed, 5_000, "erin's stream closed at once by the revocation event");

  await bob.v1.statuses.create({ status: "Ordre du jour confidentiel", visibility: "section" as never });
  await eventually(() => streams.alice!.received.some((c) => c.includes("Ordre du jour")), 15_000, "alice (still a member) gets the second post");
  for (const name of ["carol", "dave", "erin"]) {
    const stream = streams[name]!;
    const closed = await eventually(() => stream.state.closed, 15_000, `${name}'s stream to close`);
    t.equal(closed.code, 1008, `${name}: closed with 1008 (policy violation)`);
    t.notOk(stream.received.some((c) => c.includes("Ordre du jour")), `${name} never received the post written after the change`);
  }
  t.match(streams.carol!.state.closed!.reason, /revoked or account disabled/);
  t.match(streams.dave!.state.closed!.reason, /Role changed/);
  t.equal(streams.alice!.state.closed, null, "alice's stream stays open");

  // A reconnecting app gets the rights it has now: none for carol, a sympathisant's for dave.
  const refused = new WebSocket(`${a.origin.replace("http", "ws")}/api/v1/streaming?stream=list&list=section`, { headers: { authorization: `Bearer ${tokens.carol}` } });
  const refusedCode = await new Promise<number>((resolve) => refused.on("close", (code) => resolve(code)));
  t.equal(refusedCode, 4001, "carol's token no longer opens a stream");
  const daveAgain = await listen(tokens.dave!);
  await bob.v1.statuses.create({ status: "Encore pour la section", visibility: "section" as never });
  await eventually(() => streams.alice!.received.some((c) => c.includes("Encore pour la section")), 15_000, "alice gets the third post");
  t.same(daveAgain.received, [], "dave, now a sympathisant, receives no section-only post");
  daveAgain.socket.close();
  streams.alice!.socket.close();

  // Revoking the app from /settings/apps closes the member's streams too (in-process event).
  const alice2 = (await mastoLogin(a.origin, "alice")).token;
  const live = await listen(alice2);
  const session = new WebSession(a.origin);
  await session.login("alice", PASSWORD);
  const apps = await session.get("/settings/apps");
  const ids = [...apps.body.matchAll(/\/settings\/apps\/(\d+)\/revoke/g)].map((m) => m[1]!);
  for (const id of ids) await session.post(`/settings/apps/${id}/revoke`, {});
  const closed = await eventually(() => live.state.closed, 5_000, "the stream closed by the revocation on /settings/apps");
  t.equal(closed.code, 1008);
});

t.test("login throttling counts an account across addresses, and trusted browsers still get in", async (t) => {
  // frank logs in from his usual browser first: it keeps a device cookie.
  const home = new WebSession(a.origin);
  await home.post("/login", { username: "frank", password: PASSWORD }, { headers: { "x-forwarded-for": "198.51.100.10" } });
  t.ok(home.cookies.get("coopol_device"), "a device cookie after a successful login");

  // Someone guesses from 8 addresses, one try each.
  const statuses: number[] = [];
  let last = "";
  for (let i = 1; i <= 8; i++) {
    const res = await new WebSession(a.origin).post("/login", { username: "frank", password: `guess number ${i}` }, { headers: { "x-forwarded-for": `203.0.113.${i}` } });
    statuses.push(res.status);
    last = res.body;
  }
  t.same(statuses, [401, 401, 401, 401, 401, 429, 429, 429], "from the 6th address, tries wait");
  t.match(last, "plusieurs adresses", "the reason in plain words");
  t.match(last, /réessayez dans \d+ minute/);

  // Even the right password waits from a new browser…
  const stranger = await new WebSession(a.origin).post("/login", { username: "frank", password: PASSWORD }, { headers: { "x-forwarded-for": "198.51.100.20" } });
  t.equal(stranger.status, 429, "a new browser waits, even with the right password");
  const english = await new WebSession(a.origin).post("/login", { username: "frank", password: PASSWORD }, { headers: { "x-forwarded-for": "198.51.100.21", "accept-language": "en" } });
  t.match(english.body, "from several addresses", "and in English");
  // …but frank's own browser gets in, from wherever he is now.
  const back = await home.post("/login", { username: "frank", password: PASSWORD }, { headers: { "x-forwarded-for": "198.51.100.30" } });
  t.equal(back.status, 303, "the browser frank used before logs in");
  // Another member is not held by frank's count.
  const other = await new WebSession(a.origin).post("/login", { username: "alice", password: PASSWORD }, { headers: { "x-forwarded-for": "203.0.113.1" } });
  t.equal(other.status, 303);
});

t.test("the throttling scheme, clock given", async (t) => {
  const limiter = new LoginRateLimiter();
  const now = 1_000_000_000;
  const from = (i: number, device: string | null = null) => ({ address: `203.0.113.${i}`, username: "Frank", device });
  for (let i = 1; i <= 5; i++) {
    t.equal(limiter.check(from(i), now), null);
    limiter.fail(from(i), now);
  }
  t.match(limiter.check(from(6), now), { scope: "account", minutes: 1 }, "5 failures from 5 addresses: a new address waits a minute");
  t.equal(limiter.check({ ...from(6), username: "frank " }, now)?.scope, "account", "the same account whatever the case or spaces");
  t.equal(limiter.check(from(6, "trusted"), now), null, "a trusted browser does not wait");
  t.equal(limiter.check(from(6), now + 60_000), null, "after the wait, one more try");
  limiter.fail(from(6), now + 60_000);
  t.match(limiter.check(from(7), now + 60_000), { minutes: 2 }, "then the wait doubles");
  limiter.fail(from(7), now + 3 * 60_000);
  t.match(limiter.check(from(8), now + 3 * 60_000), { minutes: 4 });
  for (let i = 0; i < 10; i++) limiter.fail(from(9 + i), now + 4 * 60_000);
  t.match(limiter.check(from(30), now + 4 * 60_000), { minutes: 15 }, "never more than 15 minutes");
  t.equal(limiter.check(from(30), now + 4 * 60_000 + 15 * 60_000), null, "15 minutes without failures: free again");

  // A trusted browser's own failures hold that browser only.
  const other = new LoginRateLimiter();
  for (let i = 0; i < 5; i++) other.fail({ address: "198.51.100.1", username: "alice", device: "d1" }, now);
  t.equal(other.check({ address: "198.51.100.1", username: "alice", device: "d1" }, now)?.scope, "client");
  t.equal(other.check({ address: "198.51.100.2", username: "alice", device: null }, now), null, "not the account");
});

t.test("outgoing requests connect only to the address that was checked", async (t) => {
  // A TCP server on loopback counts every connection that reaches it.
  let reached = 0;
  const server = createServer((socket) => {
    reached++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const saved = DISCOVERY_LIMITS.timeoutMs;
  DISCOVERY_LIMITS.timeoutMs = 2_000;
  t.teardown(() => {
    DISCOVERY_LIMITS.timeoutMs = saved;
  });

  // A rebinding DNS: a public address first (what a check would see), loopback afterwards.
  const answers: string[] = [];
  const rebinding: Resolver = async () => {
    const address = answers.length === 0 ? "198.51.100.7" : "127.0.0.1";
    answers.push(address);
    return [{ address, family: 4 }];
  };
  const dispatcher = publicDispatcher(rebinding);
  const first = await fetchDirectory(`https://rebind.example:${port}`, false, dispatcher).catch((error: Error) => error);
  t.ok(first instanceof Error, "the first request fails: it went to the public address (unreachable here)");
  t.not((first as { cause?: { code?: string } }).cause?.code, "EPRIVATEADDRESS", "the public address was not refused");
  await t.rejects(fetchDirectory(`https://rebind.example:${port}`, false, dispatcher), { cause: { code: "EPRIVATEADDRESS" } }, "the second answer, loopback, is refused");
  t.same(answers, ["198.51.100.7", "127.0.0.1"], "one resolution per connection: the one that is checked");

  const mixed: Resolver = async () => [{ address: "198.51.100.8", family: 4 }, { address: "127.0.0.1", family: 4 }];
  await t.rejects(fetchDirectory(`https://mixed.example:${port}`, false, publicDispatcher(mixed)), { cause: { code: "EPRIVATEADDRESS" } }, "one private address among public ones: refused");
  t.equal(reached, 0, "loopback was never reached");

  // Node's own fetch, which Fedify's loaders and deliveries use, goes through the process's dispatcher.
  const saved2 = getGlobalDispatcher();
  setGlobalDispatcher(publicDispatcher(async () => [{ address: "127.0.0.1", family: 4 }]));
  const viaGlobal = await globalThis.fetch(`http://fedify-target.example:${port}/actor`).catch((error: Error) => error);
  setGlobalDispatcher(saved2);
  t.match(viaGlobal, { cause: { code: "EPRIVATEADDRESS" } }, "the global fetch refuses a name that resolves to loopback");
  t.equal(reached, 0, "loopback was still never reached");

  // Literal addresses and schemes are checked before any request.
  for (const url of ["https://127.0.0.1/", "https://[::1]/", "https://localhost/", "https://169.254.169.254/", "http://example.org/", "ftp://example.org/"]) {
    t.throws(() => checkTarget(new URL(url), false), { code: "EPRIVATEADDRESS" }, `${url} refused`);
  }
  t.doesNotThrow(() => checkTarget(new URL("https://example.org/"), false));
  t.doesNotThrow(() => checkTarget(new URL("http://127.0.0.1:8080/"), true), "allowed by COOPOL_ALLOW_PRIVATE_ADDRESS");

  // The lookup itself, as sockets call it (one address, or all of them).
  const lookup: LookupFunction = publicLookup(async () => [{ address: "2001:db8::1", family: 6 }, { address: "198.51.100.9", family: 4 }]);
  const one = await new Promise((resolve) => lookup("x.example", {}, (error, address, family) => resolve({ error, address, family })));
  t.match(one, { error: null, address: "2001:db8::1", family: 6 });
  const all = await new Promise((resolve) => lookup("x.example", { all: true }, (error, addresses) => resolve({ error, addresses })));
  t.match(all, { error: null, addresses: [{ address: "2001:db8::1" }, { address: "198.51.100.9" }] });
});
