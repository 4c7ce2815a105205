// Fuzzing the inbox with the real payloads of test/fixtures/activitypub/:
// thousands of random mutations of them (fields dropped, duplicated, retyped,
// nulled; huge strings, deep nesting, odd unicode; wrong ids and hosts), each
// correctly signed by its fake server, sent to a running instance. It must
// never answer a 5xx, never crash (it still answers /healthz and NodeInfo at
// the end) and keep its memory bounded. The seed is printed: FUZZ_SEED=<seed>
// replays the same mutations; FUZZ_COUNT sets how many (2,000 by default).
import { readFileSync } from "node:fs";
import t from "tap";
import type { mastodon } from "masto";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { mastoLogin } from "./helpers/oauth.ts";
import { PROJECTS, startPeerFixtures, type Json, type PeerFixtures } from "./helpers/peer-fixtures.ts";
import { WebSession } from "./helpers/browser-session.ts";

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const COUNT = Number(process.env.FUZZ_COUNT ?? 2000);
const CONCURRENCY = 4;
/** How much the server's resident memory may grow over the whole run (about +120 MiB once collected, +360 before). */
const RSS_GROWTH_LIMIT_MIB = 400;

/** mulberry32: a small seeded PRNG, so that a failure can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

let coopol: TestInstance;
let fixtures: PeerFixtures;
let client: mastodon.rest.Client;
let hosts: string[] = [];

type Path = Array<string | number>;

/** Every place in a document where a mutation can happen (objects and arrays included). */
function paths(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at.length > 12) return out;
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([...at, i]), paths(v, [...at, i], out)));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push([...at, k]), paths(v, [...at, k], out);
  return out;
}

function parentOf(doc: Json, path: Path): { parent: Record<string | number, unknown>; key: string | number } | null {
  let node: unknown = doc;
  for (const step of path.slice(0, -1)) {
    if (!node || typeof node !== "object") return null;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node && typeof node === "object" ? { parent: node as Record<string | number, unknown>, key: path.at(-1)! } : null;
}

const STRINGS = [
  "",
  " ",
  "\u0000",
  "\ud800",
  "🏳️‍🌈🇫🇷".repeat(50),
  "\u202eevil\u202c",
  "<script>alert(1)</script>",
  "javascript:alert(1)",
  "data:text/html,<b>x</b>",
  "../../etc/passwd",
  "as:Public",
  "Public",
  "https://www.w3.org/ns/activitystreams#Public",
  "2024-02-30T25:61:00Z",
  "-271821-04-20T00:00:00Z",
  "NaN",
  "@id",
  "_:b0",
];
const NUMBERS = [0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.1, -0];

function deep(depth: number): unknown {
  let value: unknown = { type: "Note", content: "fond" };
  for (let i = 0; i < depth; i++) value = random() < 0.5 ? { type: "Object", object: value } : [value];
  return value;
}

/** One mutation of the value at `path`; returns what it did, for the report of a failure. */
function mutate(doc: Json, path: Path): string {
  const place = parentOf(doc, path);
  if (!place) return "none";
  const { parent, key } = place;
  const current = parent[key];
  const kind = pick(["drop", "duplicate", "null", "number", "string", "huge", "deep", "array", "object", "bool", "unicode", "host", "id", "type", "swap"] as const);
  switch (kind) {
    case "drop":
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      break;
    case "duplicate":
      if (Array.isArray(parent)) parent.push(structuredClone(current));
      else parent[pick(["id", "type", "actor", "object", "to", "cc", "content", "inReplyTo", "attributedTo", "@context", "tag", "attachment"])] = structuredClone(current);
      break;
    case "null":
      parent[key] = null;
      break;
    case "number":
      parent[key] = pick(NUMBERS);
      break;
    case "string":
      parent[key] = pick(STRINGS);
      break;
    case "huge":
      parent[key] = pick(["x", "é", "🎉", "<p>", "a b "]).repeat(20_000 + Math.floor(random() * 80_000));
      break;
    case "deep":
      parent[key] = deep(10 + Math.floor(random() * 400));
      break;
    case "array":
      parent[key] = random() < 0.5 ? [current, current] : Array.from({ length: 1 + Math.floor(random() * 300) }, () => structuredClone(current));
      break;
    case "object":
      parent[key] = { id: typeof current === "string" ? current : undefined, type: pick(["Note", "Person", "Link", "Tombstone", "Collection", "Event"]), value: current };
      break;
    case "bool":
      parent[key] = random() < 0.5;
      break;
    case "unicode":
      parent[key] = typeof current === "string" ? `${current}${pick(STRINGS)}` : pick(STRINGS);
      break;
    case "host":
      parent[key] = typeof current === "string" ? current.replace(/^https?:\/\/[^/]+/, pick([...hosts, "http://127.0.0.1:9", "https://localhost", "ftp://x", "http://[::1]"])) : pick(hosts);
      break;
    case "id":
      parent[key] = pick([...hosts.map((h) => `${h}/users/alice`), `${pick(hosts)}/objects/${Math.floor(random() * 1e9)}`, "urn:uuid:00000000-0000-0000-0000-000000000000", "relative/id", "http://", "https://x/" + "a".repeat(5000)]);
      break;
    case "type":
      parent[key] = pick(["Create", "Update", "Delete", "Follow", "Accept", "Reject", "Undo", "Like", "Announce", "Flag", "Join", "Leave", "Add", "Remove", "Move", "Block", "Question", "Event", "Note", "Page", "Article", "Group", "EmojiReact", "ChatMessage", ["Create", "Note"], "as:Create", "https://www.w3.org/ns/activitystreams#Note"]);
      break;
    case "swap":
      parent[key] = Array.isArray(current) ? current[0] ?? {} : current && typeof current === "object" ? Object.values(current) : [current];
      break;
  }
  return `${kind} at ${path.join(".") || "(root)"}`;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

t.before(async () => {
  coopol = await startInstance("fuzz");
  coopol.addMember("alice");
  const web = new WebSession(coopol.origin);
  await web.login("alice", PASSWORD);
  await web.post("/groups", { name: "Vélo", slug: "velo", policy: "fediverse", visibility: "public" });
  ({ client } = await mastoLogin(coopol.origin, "alice"));
  const status = await client.v1.statuses.create({ status: "Bonjour !", visibility: "public" });
  fixtures = await startPeerFixtures(coopol.origin, status.uri);
  hosts = [coopol.origin, ...[...fixtures.peers.values()].map((p) => p.origin)];
});

t.teardown(async () => {
  await coopol?.stop();
  await fixtures?.close();
});

t.test(`${COUNT} mutated payloads, seed ${SEED}`, async (t) => {
  t.comment(`FUZZ_SEED=${SEED} FUZZ_COUNT=${COUNT}`);
  const originals = PROJECTS.flatMap((project) => fixtures.files(project).map((file) => fixtures.load(project, file)));
  const pid = coopol.pid()!;
  const rssBefore = rssMiB(pid);
  // The mutations are drawn up front, in order, so that a seed always gives the same ones.
  const cases = Array.from({ length: COUNT }, (_, i) => {
    const doc = structuredClone(pick(originals));
    // A new id each time, or the server takes it for one it has seen (then mutations may break it again).
    if (typeof doc.id === "string") doc.id = `${doc.id}#fuzz-${SEED}-${i}`;
    const signer = fixtures.peerOf(doc) ? String(doc.actor) : null;
    const all = paths(doc);
    const done = Array.from({ length: 1 + Math.floor(random() * 3) }, () => (all.length ? mutate(doc, pick(all)) : "none"));
    return { i, doc, signer, done };
  });
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const { i, doc, signer, done } = cases[next++]!;
      const peer = signer ? fixtures.peerOf({ actor: signer })! : fixtures.peers.get("mastodon")!;
      const res = await peer.send(`${coopol.origin}/inbox`, doc, signer ?? `${peer.origin}/users/felix`).catch((err: Error) => ({ status: 0, body: String(err) }));
      // A body over the limit (1 MiB) is refused with 413 and the connection closed before the
      // sender is done writing it, as nginx does: the sender may see its write fail instead.
      if (res.status === 0 && Buffer.byteLength(JSON.stringify(doc)) > 1024 * 1024 && /EPIPE|ECONNRESET|other side closed|socket/i.test(res.body)) res.status = 413;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500 || res.status === 0) failures.push(`#${i} (${done.join("; ")}): ${res.status} ${res.body.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.comment(`answers: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
  t.same(failures.slice(0, 10), [], `no 5xx and no dropped connection among ${COUNT} (${failures.length} failed)`);

  // The server collects garbage once no request came for 10 s (src/runtime.ts): its memory is
  // read for 20 quiet seconds, and the lowest value kept. Some of what was queued is still
  // being processed (or retried) meanwhile.
  let rssAfter = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    rssAfter = Math.min(rssAfter, rssMiB(pid));
  }
  const health = await fetch(`${coopol.origin}/healthz`);
  t.equal(health.status, 200, "the server still answers /healthz");
  const nodeinfo = await fetch(`${coopol.origin}/nodeinfo/2.1`, { headers: { accept: "application/json" } });
  t.equal(nodeinfo.status, 200, "and NodeInfo");
  t.equal(coopol.pid(), pid, "same process: it never crashed");
  t.comment(`RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB`);
  t.ok(rssAfter - rssBefore < RSS_GROWTH_LIMIT_MIB, `memory bounded: +${(rssAfter - rssBefore).toFixed(0)} MiB (limit ${RSS_GROWTH_LIMIT_MIB})`);
  const timeline = await client.v1.timelines.home.list({ limit: 5 });
  t.ok(Array.isArray(timeline), "a member's home timeline still reads");
});
