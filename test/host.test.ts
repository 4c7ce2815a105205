// Host mode (docs/hosting.md): ONE real host process (`node src/host/main.ts`)
// serving three instances on distinct loopback addresses (Linux routes all of
// 127.0.0.0/8 to this machine: 127.0.0.2:PORT, 127.0.0.3:PORT… are distinct
// hosts on one port), plus a standalone instance (`node src/main.ts`). Shows
// isolation (same username, sessions, tokens, signatures), federation over
// signed HTTP between hosted and standalone instances, suspend/resume, remove
// with its archive, and lazy loading: an unloaded instance is loaded again by
// a request, and by the scheduler when its queued delivery comes due.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import t from "tap";
import { request } from "undici";
import { signRequest } from "@fedify/fedify";
import { WebSession } from "./helpers/browser-session.ts";
import { OPERATOR_TOKEN, startHost } from "./helpers/host.ts";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";
import { signerFor } from "./helpers/signing.ts";

const host = await startHost({ env: { HOST: "0.0.0.0", COOPOL_HOST_IDLE_SECONDS: "2" } });
t.teardown(() => host.stop());
const { port, hostData } = host;
const cli = host.cli;
const registryRow = host.registryRow;
const a = host.add("127.0.0.2", "Section A");
const b = host.add("127.0.0.3", "Section B");
const c = host.add("127.0.0.4", "Section C");

const standalone: TestInstance = await startInstance("hs");
standalone.addMember("sam");
t.teardown(() => standalone.stop());

const loadedOnHost = host.loaded;

const userAt = (instance: { origin: string }, username: string) => `${instance.origin}/users/${username}`;
/** The first account of a hosted instance, made with the link `host add` printed; returns its logged-in session. */
async function firstAccount(instance: { origin: string; setupUrl: string | null }, username: string, password: string): Promise<WebSession> {
  const session = new WebSession(instance.origin);
  const res = await session.post(new URL(instance.setupUrl!).pathname, { username, password });
  if (res.status !== 303) throw new Error(`setup ${instance.origin}: ${res.status} ${res.body.slice(0, 300)}`);
  return session;
}
const aliceA = await firstAccount(a, "alice", PASSWORD);
await firstAccount(b, "alice", "another password for b");
await firstAccount(c, "carl", PASSWORD);
// The CLI works on a hosted instance too (--domain), while the host runs.
b.addMember("bob");

t.test("the same username on two instances: two accounts with their own passwords", async (t) => {
  t.equal(a.setupUrl?.startsWith(`${a.origin}/setup/`), true, "`host add` prints the first-run link");
  const onB = new WebSession(b.origin);
  t.equal((await onB.post("/login", { username: "alice", password: PASSWORD })).status, 401, "A's password does not open B's alice");
  await onB.login("alice", "another password for b");
  const actorOf = async (origin: string) => JSON.parse((await new WebSession(origin).get("/users/alice", { accept: "application/activity+json" })).body).id;
  t.not(await actorOf(a.origin), await actorOf(b.origin), "two distinct actors");
});

t.test("a session, a token or a signature of one instance is refused by another", async (t) => {
  // A's session cookie sent to B (a browser would never do it; a thief might).
  const cookie = [...aliceA.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  const onA = await request(`${a.origin}/settings`, { headers: { cookie } });
  await onA.body.dump();
  t.equal(onA.statusCode, 200, "the session works where it was made");
  const onB = await request(`${b.origin}/settings`, { headers: { cookie } });
  await onB.body.dump();
  t.not(onB.statusCode, 200, "and not on B");

  const token = await apiToken(a.origin, "alice");
  const me = (origin: string) => request(`${origin}/api/v1/accounts/verify_credentials`, { headers: { authorization: `Bearer ${token}` } }).then(async (r) => (await r.body.dump(), r.statusCode));
  t.equal(await me(a.origin), 200, "the token works on A");
  t.equal(await me(b.origin), 401, "not on B");

  // A delivery signed for A's inbox, replayed to B's: the signature names A's host.
  const sam = await signerFor(standalone, "sam");
  const body = JSON.stringify({ "@context": "https://www.w3.org/ns/activitystreams", id: `${standalone.origin}/follows/host-test`, type: "Follow", actor: sam.actorUri, object: userAt(a, "alice") });
  const signed = await signRequest(new Request(`${a.origin}/users/alice/inbox`, { method: "POST", headers: { "content-type": "application/activity+json" }, body }), sam.key, sam.keyId);
  const headers: Record<string, string> = {};
  signed.headers.forEach((v, k) => (headers[k] = v));
  const replay = await request(`${b.origin}/users/alice/inbox`, { method: "POST", headers: { ...headers, host: b.domain }, body });
  await replay.body.dump();
  t.equal(replay.statusCode, 401, "the replayed signature is refused by B");
  const original = await request(`${a.origin}/users/alice/inbox`, { method: "POST", headers, body });
  await original.body.dump();
  t.equal(original.statusCode, 202, "the same request is accepted by A");
  t.equal(b.query("select 1 from follows f join actors x on x.id = f.follower_id where x.uri = ?", sam.actorUri).length, 0, "B keeps nothing of it");
});

t.test("hosted instances federate with each other and with a standalone one", async (t) => {
  const bob = new WebSession(b.origin);
  await bob.login("bob", PASSWORD);
  t.equal((await bob.post("/follow", { target: userAt(a, "alice") })).status, 303);
  await eventually(() => a.query("select 1 from follows f join actors x on x.id = f.follower_id where x.uri = ? and f.accepted_at is not null", userAt(b, "bob")).length === 1, 15_000, "A accepts bob's follow");
  const sam = new WebSession(standalone.origin);
  await sam.login("sam", PASSWORD);
  t.equal((await sam.post("/follow", { target: userAt(a, "alice") })).status, 303);
  await eventually(() => standalone.query("select 1 from follows where accepted_at is not null").length === 1, 15_000, "A accepts sam's follow");
  await aliceA.publish("Réunion de section jeudi");
  await eventually(() => b.query("select 1 from posts where content like '%Réunion de section jeudi%'").length === 1, 15_000, "the post reaches B");
  await eventually(() => standalone.query("select 1 from posts where content like '%Réunion de section jeudi%'").length === 1, 15_000, "and the standalone instance");
  t.pass("delivered over signed HTTP");
});

t.test("an unloaded instance: loaded by a request, woken by the scheduler for its queued delivery", async (t) => {
  await standalone.stop();
  await aliceA.publish("Tractage samedi matin");
  // The delivery to the stopped server fails and waits for its retry; nobody visits A: it is unloaded.
  const unloadedAt = Date.now();
  await eventually(() => (registryRow(a.domain)?.next_wake_at ?? 0) > unloadedAt, 20_000, "A unloaded with a wake-up time");
  await standalone.start();
  await eventually(() => standalone.query("select 1 from posts where content like '%Tractage samedi matin%'").length === 1, 40_000, "the queued delivery goes out once A is woken");
  t.pass("woken by the scheduler, not by a request");

  await eventually(async () => !(await loadedOnHost(b.domain)), 20_000, "B unloaded");
  const page = await new WebSession(b.origin).get("/@bob");
  t.equal(page.status, 200, "a request loads it again");
  t.match(page.body, "bob");
});

t.test("the operator's page: add, suspend and resume", async (t) => {
  const operator = new WebSession(`http://127.0.0.1:${port}`);
  t.equal((await operator.get("/host")).status, 200);
  // Caddy's on-demand TLS asks before getting a certificate.
  t.equal((await operator.get(`/host/allowed?domain=${a.domain}`)).status, 200, "a hosted domain is allowed a certificate");
  t.equal((await operator.get("/host/allowed?domain=evil.example")).status, 404, "another one is not");
  t.equal((await operator.post("/host/login", { token: "wrong token, wrong token" }, { csrf: false })).status, 401, "a wrong token is refused");
  t.equal((await operator.post("/host/suspend", { domain: c.domain }, { csrf: false })).status, 200, "logged out: the login page");
  t.equal(registryRow(c.domain)?.state, "active", "and nothing done");
  t.equal((await operator.post("/host/login", { token: OPERATOR_TOKEN }, { csrf: false })).status, 303);
  const list = await operator.get("/host");
  t.match(list.body, a.domain);

  const added = await operator.post("/host/add", { domain: `http://127.0.0.5:${port}`, name: "Fédération test", kind: "federation" }, { csrf: false });
  t.match(added.body, `http://127.0.0.5:${port}/setup/`, "the first-run link is shown");
  t.equal((await request(`http://127.0.0.5:${port}/healthz`)).statusCode, 200, "the new instance answers at once");

  t.equal((await operator.post("/host/suspend", { domain: c.domain }, { csrf: false })).status, 200);
  const actor = await request(`${c.origin}/users/carl`, { headers: { accept: "application/activity+json" } });
  await actor.body.dump();
  t.equal(actor.statusCode, 410, "peers are told it is gone");
  const finger = await request(`${c.origin}/.well-known/webfinger?resource=acct:carl@${c.domain}`);
  await finger.body.dump();
  t.equal(finger.statusCode, 410);
  const page = await new WebSession(c.origin).get("/");
  t.equal(page.status, 410);
  t.match(page.body, "suspendue", "people get a page saying so");
  t.equal(await loadedOnHost(c.domain), false, "its jobs stopped: it is unloaded");

  t.equal((await operator.post("/host/resume", { domain: c.domain }, { csrf: false })).status, 200);
  t.equal((await new WebSession(c.origin).get("/@carl")).status, 200, "resumed, it answers again");
});

t.test("remove: archived first, then gone", async (t) => {
  const removed = cli(["host", "remove", "--domain", c.domain]);
  t.equal(removed.status, 0, removed.stderr);
  const archives = readdirSync(join(hostData, "archives")).filter((f) => f.endsWith(".tar.gz"));
  t.equal(archives.length, 1, "an archive exists");
  t.equal(existsSync(c.dataDir), false, "its data is gone");
  t.equal(registryRow(c.domain), undefined);
  await eventually(async () => (await request(`${c.origin}/`)).statusCode === 421, 10_000, "the host no longer knows it");
  const listed = JSON.parse(cli(["host", "list", "--json"]).stdout) as Array<{ domain: string; size: number }>;
  t.same(listed.map((r) => r.domain).sort(), [a.domain, b.domain, `127.0.0.5:${port}`].sort());
  t.ok(listed.every((r) => r.size > 0), "sizes on disk are listed");
  const tar = spawnSync("tar", ["-tzf", join(hostData, "archives", archives[0]!)], { encoding: "utf8" });
  t.match(tar.stdout, "coopol.sqlite", "the archive holds the database");
});
