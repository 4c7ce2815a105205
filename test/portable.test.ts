// Moving an instance to another place (coopol export / import) and backups,
// with real processes: a section S linked to its fédération F, followed by a
// member of another instance R. S is backed up while it writes, exported while
// it runs with a delivery to R still queued, and restored into a fresh data
// directory where S' starts on the same origin: the queued post reaches R
// once, R's follow goes on, F still receives S's reports. Damaged, foreign or
// unsafe archives are refused with one plain sentence and nothing written.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { create, extract } from "tar";
import { PASSWORD, eventually, freePort, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { apiToken } from "./helpers/oauth.ts";
import { exportInstance, importInstance } from "../src/portable/archive.ts";
import { backupInstance } from "../src/portable/backup.ts";
import { loadConfig } from "../src/config.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "coopol-portable-"));
let s: TestInstance, f: TestInstance, r: TestInstance;
let sPort = 0;
let sEnv: Record<string, string> = {};
let fHandle = "";
let aliceToken = "";
const movedDir = join(work, "moved");
const backupDir = join(work, "backups");
const restoredBackup = join(work, "from-backup");
const MEDIA = "portable_media_file_0123456789.png";
const mediaBytes = randomBytes(3000);

/** The CLI without blocking this process, so the test can keep the server busy meanwhile. */
function cliAsync(env: NodeJS.ProcessEnv, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "src/cli/main.ts"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c));
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    child.on("exit", (status) => resolve({ status, stdout, stderr }));
  });
}

function cli(env: NodeJS.ProcessEnv, args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, "src/cli/main.ts"), ...args], { env, encoding: "utf8" });
}

async function postStatus(origin: string, token: string, status: string, visibility = "public"): Promise<{ id: string; uri: string }> {
  const res = await fetch(`${origin}/api/v1/statuses`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ status, visibility }),
  });
  if (res.status !== 200) throw new Error(`post: ${res.status} ${await res.text()}`);
  return res.json() as Promise<{ id: string; uri: string }>;
}

const postsLike = (instance: TestInstance, text: string) => instance.query("select 1 from posts where content like ?", `%${text}%`).length;

function queryFile<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

t.before(async () => {
  sPort = await freePort();
  const fPort = await freePort();
  fHandle = `federation_f@127.0.0.1:${fPort}`;
  sEnv = { PORT: String(sPort), COOPOL_HANDLE: "section_s", COOPOL_NAME: "Section Paris 11", COOPOL_TERRITORY: "75111", COOPOL_PARENT: fHandle };
  // One at a time (the fédération asks its section for the link as it starts), each kept for the teardown.
  s = await startInstance("s", sEnv);
  f = await startInstance("f", { PORT: String(fPort), COOPOL_KIND: "federation", COOPOL_HANDLE: "federation_f", COOPOL_TERRITORY: "75", COOPOL_CHILDREN: `section_s@127.0.0.1:${sPort}` });
  r = await startInstance("r");
  // alice is the section's secretary: she posts and sends the reports.
  s.addMember("alice", "secretary");
  r.addMember("bob");
  aliceToken = await apiToken(s.origin, "alice");
});

t.teardown(async () => {
  await Promise.all([s?.stop(), f?.stop(), r?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

t.test("before the move: R's bob follows S's alice, S is linked to F", async (t) => {
  const bob = new WebSession(r.origin);
  await bob.login("bob", PASSWORD);
  t.equal((await bob.post("/follow", { target: `${s.origin}/users/alice` })).status, 303);
  await eventually(() => r.query("select 1 from follows where accepted_at is not null").length === 1, 45_000, "bob's follow accepted");
  // F asks its sections for the link as it starts, then every 5 minutes: on a
  // crowded machine that first lookup may time out, so F asks again by restarting.
  const linked = () => f.query("select 1 from territory_links where role = 'child' and state = 'linked'").length === 1;
  if (!(await eventually(linked, 20_000, "F linked to S").catch(() => false))) {
    await f.stop();
    await f.start();
    await eventually(linked, 30_000, "F linked to S after a restart");
  }
  t.pass("F and S are linked");
});

t.test("backup while S writes: a consistent copy that opens, checks and restores", async (t) => {
  let writing = true;
  let written = 0;
  const writer = (async () => {
    while (writing) {
      // Section posts: written to the database, never delivered, so R's queue stays quiet.
      await postStatus(s.origin, aliceToken, `Écriture pendant la sauvegarde n° ${written}`, "section");
      written += 1;
    }
  })();
  const first = await cliAsync(s.env, ["backup", "--out", backupDir, "--keep", "1"]);
  writing = false;
  await writer;
  t.equal(first.status, 0, first.stderr);
  t.match(first.stdout, /Archive écrite/);
  t.ok(written > 0, `the server kept writing during the backup (${written} posts)`);
  const second = await backupInstance(s.dataDir, loadConfig(s.env), backupDir, { keep: 1 });
  t.equal(second.removed.length, 1, "keep: 1 removes the older backup");
  const kept = readdirSync(backupDir);
  t.equal(kept.length, 1, "one backup left");
  t.match(kept[0], /^coopol-section_s-\d{8}-\d{6}-\d{3}Z\.tar\.gz$/);

  await importInstance(join(backupDir, kept[0]!), restoredBackup, { origin: s.origin });
  const file = join(restoredBackup, "coopol.sqlite");
  t.same(queryFile(file, "pragma integrity_check"), [{ integrity_check: "ok" }], "the copy passes SQLite's integrity check");
  const copied = queryFile<{ n: number }>(file, "select count(*) as n from posts where content like '%pendant la sauvegarde%'")[0]!.n;
  t.ok(copied >= written - 1 && copied <= written, `the copy holds the posts written before it (${copied} of ${written})`);
});

let archive = "";
/** Whether the post to R waits in a database: in the queue (retried) or held by the circuit breaker (KV store). */
const waiting = (file: string) =>
  queryFile(file, "select 1 from fedify_queue where message like '%pendant la panne de R%' union all select 1 from fedify_kv where value like '%pendant la panne de R%'").length > 0;

t.test("export while S runs, with a delivery to R still queued", async (t) => {
  await r.stop();
  await postStatus(s.origin, aliceToken, "Message écrit pendant la panne de R");
  await eventually(() => waiting(join(s.dataDir, "coopol.sqlite")), 30_000, "the delivery to R queued");
  mkdirSync(join(s.dataDir, "media"), { recursive: true });
  writeFileSync(join(s.dataDir, "media", MEDIA), mediaBytes);

  archive = join(work, "s.tar.gz");
  const result = s.cli(["export", "--out", archive]);
  t.equal(result.status, 0, result.stderr);
  t.match(result.stdout, /Base de données copiée/);
  t.match(result.stdout, /Médias : 1 fichier/);
  // Stopped at once: R stays down only a few attempts, short of the circuit breaker's five.
  await s.stop();
  await t.rejects(exportInstance(s.dataDir, loadConfig(s.env), archive), { code: "portable_out_exists" }, "an existing file is never overwritten");
});

/** One ustar header (and its data) written by hand: the entries node-tar would not let us create. */
function tarEntry(path: string, type: string, data: string, link = "", size = data.length): Buffer {
  const header = Buffer.alloc(512);
  header.write(path, 0, 100);
  header.write("0000600\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(size.toString(8).padStart(11, "0") + "\0", 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write(type, 156);
  header.write(link, 157, 100);
  header.write("ustar\0" + "00", 257);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  const body = Buffer.alloc(Math.ceil(data.length / 512) * 512);
  body.write(data);
  return Buffer.concat([header, body]);
}

t.test("after the move: S' on the same origin delivers the queued post once, keeps its follower and its fédération", async (t) => {
  const imported = cli({ ...s.env, COOPOL_DATA: movedDir }, ["import", "--archive", archive]);
  t.equal(imported.status, 0, imported.stderr);
  t.match(imported.stdout, /empreintes conformes/);
  t.ok(waiting(join(movedDir, "coopol.sqlite")), "the pending delivery came in the archive");
  t.same(readFileSync(join(movedDir, "media", MEDIA)), mediaBytes, "uploads came too");

  // R first, so S's first attempt from its new place finds it up.
  await r.start();
  s = await startInstance("s", { ...sEnv, COOPOL_DATA: movedDir });
  t.equal(s.dataDir, movedDir);
  await eventually(() => postsLike(r, "pendant la panne de R") === 1, 60_000, "the queued post reaches R after the move").catch((error) => {
    throw new Error(`${error.message}\n${s.output.join("")}`);
  });

  await postStatus(s.origin, aliceToken, "Premier message après le déménagement");
  await eventually(() => postsLike(r, "après le déménagement") === 1, 30_000, "a new post reaches R: bob still follows alice");
  t.equal(postsLike(r, "pendant la panne de R"), 1, "the queued post arrived exactly once");
  t.equal(r.query("select 1 from follows where accepted_at is not null").length, 1, "R's follow is still accepted");

  const report = await fetch(`${s.origin}/api/coopol/v1/reports`, {
    method: "POST",
    headers: { authorization: `Bearer ${aliceToken}`, "content-type": "application/json" },
    body: JSON.stringify({ kind: "activity", title: "Bilan après le déménagement", body: "Tout fonctionne." }),
  });
  t.equal(report.status, 200, "the secretary's API token works on the moved instance");
  const { uri } = (await report.json()) as { uri: string };
  await eventually(() => f.query("select 1 from reports where uri = ?", uri).length === 1, 30_000, "F receives the moved section's report");
});

t.test("damaged, foreign or unsafe archives are refused, nothing written", async (t) => {
  const refuses = async (file: string, dir: string, code: string, what: string) => {
    await t.rejects(importInstance(file, dir, { origin: s.origin }), { code }, what);
    t.same(existsSync(dir) ? readdirSync(dir) : [], [], `${what}: nothing left in the data directory`);
  };
  const before = readdirSync(s.dataDir).sort();
  await t.rejects(importInstance(archive, s.dataDir, { origin: s.origin }), { code: "portable_data_not_empty" }, "a non-empty data directory");
  t.same(readdirSync(s.dataDir).sort(), before, "the existing instance is left as it was");

  const foreign = cli({ ...s.env, COOPOL_DATA: join(work, "foreign"), COOPOL_ORIGIN: "https://autre.exemple.fr" }, ["import", "--archive", archive]);
  t.equal(foreign.status, 1);
  t.match(foreign.stderr, /Cette archive est celle de http:\/\/127\.0\.0\.1:\d+, pas de https:\/\/autre\.exemple\.fr/, "another origin: one plain sentence");

  const flipped = join(work, "flipped.tar.gz");
  const bytes = readFileSync(archive);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
  writeFileSync(flipped, bytes);
  await t.rejects(importInstance(flipped, join(work, "flipped"), { origin: s.origin }), { message: /^portable_(not_archive|checksum)$/ }, "a changed byte is refused");
  t.notOk(existsSync(join(work, "flipped")), "nothing restored from it");

  // The same archive rebuilt around a database with one byte changed: only the checksum tells.
  const unpacked = join(work, "unpacked");
  mkdirSync(unpacked);
  await extract({ file: archive, cwd: unpacked });
  const db = readFileSync(join(unpacked, "coopol.sqlite"));
  db[db.length - 100]! ^= 0x01;
  writeFileSync(join(unpacked, "coopol.sqlite"), db);
  const repacked = join(work, "repacked.tar.gz");
  await create({ file: repacked, gzip: true, cwd: unpacked }, ["manifest.json", "coopol.sqlite", "media"]);
  await refuses(repacked, join(work, "repacked"), "portable_checksum", "a database that does not match its checksum");

  const manifest = JSON.parse(readFileSync(join(unpacked, "manifest.json"), "utf8"));
  writeFileSync(join(unpacked, "manifest.json"), JSON.stringify({ ...manifest, format: manifest.format + 1 }));
  const newer = join(work, "newer.tar.gz");
  await create({ file: newer, gzip: true, cwd: unpacked }, ["manifest.json", "coopol.sqlite", "media"]);
  await refuses(newer, join(work, "newer"), "portable_format_newer", "an archive of a newer format");

  // Hand-made entries no export writes: escaping paths, links, an oversized upload.
  for (const [name, entry] of Object.entries({
    dotdot: tarEntry("../escaped.txt", "0", "x"),
    absolute: tarEntry("/tmp/coopol-absolute.txt", "0", "x"),
    symlink: tarEntry(`media/${MEDIA}`, "2", "", "/etc/passwd"),
    hardlink: tarEntry("coopol.sqlite", "1", "", "/etc/passwd"),
    oversized: tarEntry(`media/${MEDIA}`, "0", "", undefined, 11 * 1024 * 1024),
    unknown: tarEntry("notes.txt", "0", "x"),
  })) {
    const file = join(work, `${name}.tar`);
    writeFileSync(file, Buffer.concat([entry, Buffer.alloc(1024)]));
    await refuses(file, join(work, `unsafe-${name}`), "portable_unsafe_entry", `${name} entry`);
  }
  t.notOk(existsSync(join(work, "escaped.txt")) || existsSync("/tmp/coopol-absolute.txt"), "nothing written outside");
});

t.test("a server starts on a restored backup", async (t) => {
  await s.stop();
  s = await startInstance("s", { ...sEnv, COOPOL_DATA: restoredBackup });
  const finger = await fetch(`${s.origin}/.well-known/webfinger?resource=acct:alice@127.0.0.1:${sPort}`);
  t.equal(finger.status, 200, "alice is there");
  t.ok(s.query("select 1 from posts where content like '%pendant la sauvegarde%'").length > 0, "with the posts of the backup");
});
