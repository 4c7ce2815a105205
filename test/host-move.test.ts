// Several hosts behind a reverse proxy, and moving an instance between them
// (docs/hosting.md): two real host processes H1 and H2 behind a proxy that
// routes by Host (test/helpers/proxy.ts, as Caddy would), and a standalone
// instance R. A section S and its fédération F live on H1; R's bob follows
// S's alice. While R is down, a post of S waits in S's queue; S is exported
// from H1 (`export --domain`), removed there, `host import`ed on H2 and the
// proxy's route switched: the queued post reaches R once, bob still follows,
// F on H1 still receives S's reports. Then `host backup` copies every
// instance of H2 while it serves.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import t from "tap";
import { extract } from "tar";
import { Agent, request } from "undici";
import { WebSession } from "./helpers/browser-session.ts";
import { eventually, freePort, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";
import { startHost, type Host } from "./helpers/host.ts";
import { startProxy } from "./helpers/proxy.ts";

const work = mkdtempSync(join(tmpdir(), "coopol-host-move-"));

// The proxy connects from 127.0.0.5, not 127.0.0.1: a proxy on another machine, named in COOPOL_TRUSTED_PROXIES.
const PROXY_ADDRESS = "127.0.0.5";
const proxy = await startProxy(await freePort(), PROXY_ADDRESS);
t.teardown(() => proxy.close());
const at = (address: string) => `${address}:${proxy.port}`;
const S = at("127.0.0.2");
const F = at("127.0.0.3");
const G = at("127.0.0.4");

/**
 * A host process (`node src/host/main.ts`) on 127.0.0.1, reached through the
 * proxy. `prepare` adds its instances and their routes before it starts, so
 * each finds the others at its first wake-up (a link asked too early is asked again only
 * minutes later).
 */
async function startHostNamed(name: string, prepare: (cli: Host["cli"], port: number) => void): Promise<Host> {
  const host = await startHost({ hostData: join(work, name), env: { COOPOL_TRUSTED_PROXIES: PROXY_ADDRESS }, prepare: (h) => prepare(h.cli, h.port) });
  t.teardown(() => host.stop());
  return host;
}

function must(result: { status: number | null; stdout: string; stderr: string }, what: string): string {
  if (result.status !== 0) throw new Error(`${what}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

function queryFile<T = Record<string, unknown>>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}
const dbOf = (host: Host, domain: string) => join(host.env.COOPOL_HOST_DATA!, "instances", domain, "coopol.sqlite");

const pwFile = join(work, "pw");
writeFileSync(pwFile, PASSWORD, { mode: 0o600 });
const h1 = await startHostNamed("h1", (cli, port) => {
  must(cli(["host", "add", "--domain", `http://${S}`, "--name", "Section S", "--handle", "section_s", "--territory", "75111", "--parent", `federation_f@${F}`]), "add S");
  // alice is S's secretary: she posts and sends the reports.
  must(cli(["member", "add", "--domain", S, "--username", "alice", "--role", "secretary", "--password-file", pwFile]), "add alice");
  proxy.route(S, port);
  proxy.route(F, port);
});
// The fédération asks its section for the link as it is first woken, and again only minutes
// later if that fails: it is added once S is loaded, so that first ask finds S ready.
await eventually(async () => (await fetch(`http://${S}/users/alice`, { headers: { accept: "application/activity+json" } })).status === 200, 20_000, "S loaded on H1");
must(h1.cli(["host", "add", "--domain", `http://${F}`, "--name", "Fédération F", "--kind", "federation", "--handle", "federation_f", "--territory", "75", "--children", `section_s@${S}`]), "add F");
const h2 = await startHostNamed("h2", (cli, port) => {
  must(cli(["host", "add", "--domain", `http://${G}`, "--name", "Section G"]), "add G");
  proxy.route(G, port);
});

const r: TestInstance = await startInstance("r");
t.teardown(() => r.stop());
r.addMember("bob");
const aliceToken = await apiToken(`http://${S}`, "alice");

async function postStatus(status: string): Promise<void> {
  const res = await fetch(`http://${S}/api/v1/statuses`, {
    method: "POST",
    headers: { authorization: `Bearer ${aliceToken}`, "content-type": "application/json" },
    body: JSON.stringify({ status, visibility: "public" }),
  });
  if (res.status !== 200) throw new Error(`post: ${res.status} ${await res.text()}`);
}
const onR = (text: string) => r.query("select 1 from posts where content like ?", `%${text}%`).length;

t.test("before the move: R's bob follows S's alice, S is linked to F, all through the proxy", async (t) => {
  const bob = new WebSession(r.origin);
  await bob.login("bob", PASSWORD);
  t.equal((await bob.post("/follow", { target: `http://${S}/users/alice` })).status, 303);
  await eventually(() => r.query("select 1 from follows where accepted_at is not null").length === 1, 45_000, "bob's follow accepted");
  await eventually(() => queryFile(dbOf(h1, F), "select 1 from territory_links where role = 'child' and state = 'linked'").length === 1, 45_000, "F linked to S").catch((error) => {
    throw new Error(`${error.message}\n${JSON.stringify(queryFile(dbOf(h1, F), "select * from territory_links"))}\n${h1.output.join("")}`);
  });
  t.pass("followed and linked");
});

t.test("a proxy on another machine, trusted by address: the hosts tell its clients apart", async (t) => {
  // A guesser at 127.0.0.6 tries 30 names (3 tries each): the limiter holds that address.
  const dispatcher = new Agent({ localAddress: "127.0.0.6" });
  t.teardown(() => dispatcher.close());
  const page = await request(`http://${S}/login`, { dispatcher });
  await page.body.dump();
  const cookie = String(page.headers["set-cookie"] ?? "").split(";")[0]!;
  const tryLogin = async (username: string) => {
    const res = await request(`http://${S}/login`, {
      dispatcher,
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ username, password: "wrong password", _csrf: cookie.split("=")[1]! }).toString(),
    });
    await res.body.dump();
    return res.statusCode;
  };
  const statuses = new Set<number>();
  for (let i = 0; i < 30; i++) statuses.add(await tryLogin(`guess${i % 10}`));
  t.same([...statuses], [401], "30 wrong guesses, refused one by one");
  t.equal(await tryLogin("guess-new"), 429, "the guesser's address is held");
  // Without COOPOL_TRUSTED_PROXIES every client would be the proxy's address, and alice would be held too.
  await new WebSession(`http://${S}`).login("alice", PASSWORD);
  t.pass("alice, from another address, logs in");
});

const archive = join(work, "s.tar.gz");
t.test("export from H1 with a delivery to R queued, then remove from H1", async (t) => {
  await r.stop();
  await postStatus("Message écrit pendant la panne de R");
  const waiting = () =>
    queryFile(dbOf(h1, S), "select 1 from fedify_queue where message like '%pendant la panne de R%' union all select 1 from fedify_kv where value like '%pendant la panne de R%'").length > 0;
  await eventually(waiting, 30_000, "the delivery to R queued");
  // Suspended first: H1 unloads S, so nothing changes in S after the export, and nothing more is sent from H1.
  must(h1.cli(["host", "suspend", "--domain", S]), "suspend S");
  await eventually(async () => !(await h1.loaded(S)), 15_000, "S unloaded on H1");
  const exported = h1.cli(["export", "--domain", S, "--out", archive]);
  t.equal(exported.status, 0, exported.stderr);
  t.match(exported.stdout, /Archive écrite/, "export --domain works on a hosted instance");
  t.equal(must(h1.cli(["host", "remove", "--domain", S]), "remove S").includes(S), true);
  t.notOk(existsSync(join(h1.env.COOPOL_HOST_DATA!, "instances", S)), "S's data left H1");
});

t.test("host import on H2 and the proxy's route switched: the queued post reaches R once, bob still follows, F gets S's report", async (t) => {
  proxy.route(S, h2.port);
  await r.start();
  const imported = h2.cli(["host", "import", "--archive", archive]);
  t.equal(imported.status, 0, imported.stderr);
  t.match(imported.stdout, /empreintes conformes/, "progress lines");
  t.match(imported.stdout, new RegExp(`Instance ${S.replace(/\./g, "\\.")} importée`));
  const listed = JSON.parse(must(h2.cli(["host", "list", "--json"]), "list")) as Array<{ domain: string; handle: string; kind: string; territory: string; parent: string; state: string }>;
  t.match(listed.find((i) => i.domain === S), { handle: "section_s", kind: "section", territory: "75111", parent: `federation_f@${F}`, state: "active" }, "registered from the manifest");

  // Nobody visits S: H2's scheduler wakes it for its queued delivery.
  await eventually(() => onR("pendant la panne de R") === 1, 60_000, "the queued post reaches R after the move");
  await postStatus("Premier message après le déménagement");
  await eventually(() => onR("après le déménagement") === 1, 30_000, "a new post reaches R: bob still follows alice");
  t.equal(onR("pendant la panne de R"), 1, "the queued post arrived exactly once");

  const report = await fetch(`http://${S}/api/coopol/v1/reports`, {
    method: "POST",
    headers: { authorization: `Bearer ${aliceToken}`, "content-type": "application/json" },
    body: JSON.stringify({ kind: "activity", title: "Bilan après le déménagement", body: "Tout fonctionne." }),
  });
  t.equal(report.status, 200, "the secretary's token moved with S");
  const { uri } = (await report.json()) as { uri: string };
  await eventually(() => queryFile(dbOf(h1, F), "select 1 from reports where uri = ?", uri).length === 1, 30_000, "F on H1 receives S's report from H2");

  const again = h2.cli(["host", "import", "--archive", archive]);
  t.equal(again.status, 1, "the same archive again is refused");
  t.match(again.stderr, /déjà hébergé/);
  t.same(readdirSync(join(h2.env.COOPOL_HOST_DATA!, "instances")).sort(), [G, S].sort(), "and leaves nothing behind");
});

t.test("host backup while H2 serves: a consistent copy of every instance", async (t) => {
  const out = join(work, "backups");
  let writing = true;
  let written = 0;
  const writer = (async () => {
    while (writing) {
      await fetch(`http://${S}/api/v1/statuses`, {
        method: "POST",
        headers: { authorization: `Bearer ${aliceToken}`, "content-type": "application/json" },
        body: JSON.stringify({ status: `Écriture pendant la sauvegarde n° ${written}`, visibility: "section" }),
      });
      written += 1;
    }
  })();
  const first = await h2.cliAsync(["host", "backup", "--out", out, "--keep", "1"]);
  writing = false;
  await writer;
  t.equal(first.status, 0, first.stderr);
  t.match(first.stdout, /\(1\/2\)/, "one progress line per instance");
  t.match(first.stdout, /Sauvegarde terminée : 2 instance\(s\) sur 2/);
  t.ok(written > 0, `S kept writing meanwhile (${written} posts)`);
  const second = await h2.cliAsync(["host", "backup", "--out", out, "--keep", "1"]);
  t.equal(second.status, 0, second.stderr);
  t.match(second.stdout, /Ancienne sauvegarde supprimée/, "--keep applies per instance");

  for (const domain of [G, S]) {
    const files = readdirSync(join(out, domain));
    t.equal(files.length, 1, `${domain}: one backup kept`);
    const unpacked = join(work, `unpacked-${domain}`);
    mkdirSync(unpacked);
    await extract({ file: join(out, domain, files[0]!), cwd: unpacked });
    t.same(queryFile(join(unpacked, "coopol.sqlite"), "pragma integrity_check"), [{ integrity_check: "ok" }], `${domain}: the copy passes integrity_check`);
  }
});

t.teardown(() => rmSync(work, { recursive: true, force: true }));
