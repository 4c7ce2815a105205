// A fédération at scale: 100 sections, each sending its field results
// (signed Create(ActionResult) activities) to one real fédération instance
// (`node src/main.ts`, COOPOL_KIND=federation). Measures how many results per
// second it stores, checks the totals against what was sent, then times its
// dashboard, in-process and over HTTP.
//
// The 100 sections are not real instances: this process serves their actor
// documents (each with its own RSA key) and WebFinger from one small HTTP
// server (bench/fake-fediverse.ts), as a real section would. The link is the real one: the fédération
// looks each declared handle up, sends its oversight Follow, and each fake
// section answers with a signed Accept, then sends its node statistics
// (Update(NodeStatus)), as a section does once linked.
//
//   node bench/territory.ts                  100 sections × 100 results (about 1 min)
//   node bench/territory.ts --full           100 sections × 1,000 results (about 7 min on 2 vCPU)
//   node bench/territory.ts --results=N --sections=N
// `npm run bench` runs the default size; `npm run bench -- --territory-full` the full one.
import { join } from "node:path";
import Database from "better-sqlite3";
import { request } from "undici";
import { loadConfig } from "../src/config.ts";
import { PAYLOAD_NAME, resultObject, statusObject, toWire, WIRE_CONTEXT, type ResultWire } from "../src/federation/territory.ts";
import { openDatabase } from "../src/storage/db.ts";
import { newId } from "../src/storage/ids.ts";
import { hashToken, newToken } from "../src/storage/tokens.ts";
import { ACTION_TYPES, METRICS, type Metric } from "../src/storage/schema.ts";
import { dashboard, dashboardCsv } from "../src/territory/dashboard.ts";
import { prng } from "./dataset.ts";
import { signPost, type SignedPost } from "./inbox.ts";
import { closeConnections, FakeInstance, keepAlive, keyPool, postActivity, send, type Delivery, type FakeActor } from "./fake-fediverse.ts";
import { loadAverage, log, percentile, sleep, timeLoop, waitFor, type LoadFigure, type Timing } from "./measure.ts";
import { ms, num, numberOption, runAlone, table } from "./report.ts";
import { startServer, type Server } from "./servers.ts";

export type { Timing };

export interface TerritoryOptions {
  sections?: number;
  resultsPerSection?: number;
  /** Concurrent POSTs to the fédération's inbox. */
  connections?: number;
  /** Runs on the fédération once its dashboard is measured, before it stops (bench/pages.ts measures its web page). */
  beforeStop?: (fed: Server) => Promise<void>;
}

export interface TerritoryResult {
  sections: number;
  resultsPerSection: number;
  linkSeconds: number;
  signSeconds: number;
  sent: number;
  accepted: number;
  refused: Record<string, number>;
  postP50: number;
  postP99: number;
  /** First POST → last 202. */
  postSeconds: number;
  /** First POST → every result in action_results. */
  ingestSeconds: number;
  storedPerSecond: number;
  maxQueueDepth: number;
  cpuMsPerResult: number;
  cpuCore: number;
  rssAfter: number;
  stored: number;
  totalsMatch: boolean;
  totalsNote: string;
  sectionsComplete: number;
  statusesStored: number;
  /** Results from a handle that is not a declared child: all must be dropped. */
  strangerSent: number;
  strangerStored: number;
  campaign: string;
  inProcess: Timing[];
  http: Array<LoadFigure & { name: string; connections: number; bytes: number }>;
  dashboardRows: number;
  dashboardTotal: number;
  load: string;
}

const PASSWORD = "benchmark password 2024";
const FED_HANDLE = "bench_fed";

interface FakeSection extends FakeActor {
  n: number;
}

// ---------------------------------------------------------------- the fake sections

/**
 * One fake server serving every section: WebFinger, actor documents, and an
 * inbox that answers the fédération's oversight Follow with a signed Accept.
 * Everything else POSTed to it (the campaign the fédération sends down) is
 * kept and answered 202.
 */
class SectionHost extends FakeInstance<FakeSection> {
  sections: FakeSection[] = [];
  federationInbox = "";
  follows = 0;
  /** Follows of a section without the oversight marker: a real section would not link on those. */
  unmarkedFollows = 0;
  acceptsFailed = 0;

  constructor() {
    super("fake section host");
  }

  async start(count: number, extra: number): Promise<void> {
    await this.listen();
    // RSA keys of 4,096 bits, as Coopol (Fedify) makes them. Generating 100 of
    // them takes minutes, so the sections share four key pairs; the fédération
    // still fetches, imports and caches 100 keys and verifies with 4,096-bit
    // keys, as with real sections.
    const pool = await keyPool(4, 4096);
    for (let n = 0; n < count + extra; n++) {
      const username = n < count ? `section_${String(n).padStart(3, "0")}` : `stranger_${n - count}`;
      const profile = { type: "Group", name: `Section ${n}`, summary: "Section de test du banc d'essai." } as const;
      this.sections.push(this.add({ ...this.actorAt(`/sections/${username}`, username, pool[n % pool.length]!, profile), n }));
    }
  }

  protected async receive(d: Delivery, reply: (status: number) => void): Promise<void> {
    reply(202);
    // The fédération's oversight request: accept it, as a section that declared it as parent does.
    const activity = d.activity;
    const target = typeof activity.object === "string" ? this.actors.get(activity.object) : undefined;
    if (d.type !== "Follow" || !target || target.n >= this.sections.length) return;
    this.follows++;
    if (oversightMarker(activity)) {
      const accept = {
        "@context": "https://www.w3.org/ns/activitystreams",
        id: `${target.actor}#accepts/${newId()}`,
        type: "Accept",
        actor: target.actor,
        to: [activity.actor],
        object: { id: activity.id, type: "Follow", actor: activity.actor, object: target.actor },
      };
      const status = await postActivity(this.federationInbox, target, accept);
      if (status !== 202) this.acceptsFailed++;
    } else {
      if (!this.unmarkedFollows) log(`territory: a Follow without the oversight marker: ${JSON.stringify(activity).slice(0, 2000)}`);
      this.unmarkedFollows++;
    }
  }
}

/**
 * The Follow carries the oversight marker: a coopol:payload PropertyValue
 * attachment {"oversight": true}. Fedify's compaction writes its value as
 * "http://schema.org#value" (its context has no schema: terms).
 */
function oversightMarker(activity: Record<string, unknown>): boolean {
  return ([] as unknown[]).concat(activity.attachment ?? []).some((a) => {
    const entry = (a ?? {}) as Record<string, unknown>;
    const name = entry.name;
    const value = entry.value ?? entry["http://schema.org#value"] ?? entry["schema:value"];
    if (name !== PAYLOAD_NAME || typeof value !== "string") return false;
    try {
      return (JSON.parse(value) as { oversight?: unknown }).oversight === true;
    } catch {
      return false;
    }
  });
}

// ---------------------------------------------------------------- activities

interface Sent {
  posts: SignedPost[];
  totals: Record<Metric, number>;
}

/** n × m distinct results, interleaved section by section, signed in advance (64 at a time). */
async function signResults(
  inbox: URL,
  sections: FakeSection[],
  m: number,
  federationUri: string,
  campaign: { uri: string; name: string },
  tag: string,
): Promise<Sent> {
  const random = prng(20_241_125 + sections.length * 7 + m);
  const totals = Object.fromEntries(METRICS.map((k) => [k, 0])) as Record<Metric, number>;
  const bodies: string[] = [];
  const senders: FakeSection[] = [];
  const now = Date.now();
  for (let k = 0; k < m; k++) {
    for (const s of sections) {
      const type = ACTION_TYPES[(k + s.n) % ACTION_TYPES.length]!;
      const metrics = Object.fromEntries(METRICS.map((name) => [name, Math.floor(random() * 40)])) as Record<Metric, number>;
      for (const name of METRICS) totals[name] += metrics[name];
      const wire: ResultWire = {
        uri: `${s.actor}/results/${tag}-${k}`,
        sectionUri: s.actor,
        sectionName: `Section ${s.n}`,
        federationUri: null,
        campaignUri: campaign.uri,
        campaignName: campaign.name,
        actionType: type,
        actionDate: now - Math.floor(random() * 30) * 86_400_000,
        metrics,
        comment: "Tractage au marché, bon accueil, beaucoup de questions sur les transports.",
        deleted: false,
        version: now + k,
      };
      // What send-territory.ts sendUp() puts on the wire.
      bodies.push(
        JSON.stringify({
          "@context": WIRE_CONTEXT,
          type: "Create",
          actor: s.actor,
          to: [federationUri],
          id: `${wire.uri}#create-${newId()}`,
          object: toWire(resultObject(wire, [federationUri])),
        }),
      );
      senders.push(s);
    }
  }
  const posts: SignedPost[] = new Array(bodies.length);
  const BATCH = 64;
  for (let start = 0; start < bodies.length; start += BATCH) {
    await Promise.all(
      bodies.slice(start, start + BATCH).map(async (body, k) => {
        posts[start + k] = await signPost(inbox, senders[start + k]!, body);
      }),
    );
  }
  return { posts, totals };
}

/** Sends every post once, `connections` at a time; latency of each POST. */
async function sendAll(origin: string, posts: SignedPost[], connections: number) {
  const latencies: number[] = new Array(posts.length);
  const codes: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= posts.length) return;
      const t0 = performance.now();
      let code: string;
      try {
        code = String(await send(origin, posts[i]!));
      } catch {
        code = "error";
      }
      latencies[i] = performance.now() - t0;
      codes[code] = (codes[code] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return { latencies, codes };
}

// ---------------------------------------------------------------- timings

/**
 * GETs `path` from `connections` clients in a loop (after 3 untimed requests)
 * until `budgetMs` has passed and at least 20 answers came, and waits for the
 * requests in flight: a dashboard takes long enough that autocannon would stop
 * with requests still queued in the server, and skew the next measure.
 */
async function httpRun(server: Server, path: string, token: string, connections: number, budgetMs: number) {
  const url = server.origin + path;
  const headers = { authorization: `Bearer ${token}` };
  const get = async () => {
    const res = await request(url, { headers, dispatcher: keepAlive() });
    const body = await res.body.arrayBuffer();
    return { status: res.statusCode, bytes: body.byteLength };
  };
  for (let i = 0; i < 3; i++) await get();
  const samples: number[] = [];
  const codes: Record<string, number> = {};
  let bytes = 0;
  const cpuBefore = server.cpuSeconds();
  const began = performance.now();
  const client = async () => {
    while (performance.now() - began < budgetMs || samples.length < 20) {
      const t0 = performance.now();
      const answer = await get().catch(() => ({ status: 0, bytes: 0 }));
      samples.push(performance.now() - t0);
      codes[answer.status] = (codes[answer.status] ?? 0) + 1;
      bytes = answer.bytes || bytes;
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  const seconds = (performance.now() - began) / 1000;
  const cpu = server.cpuSeconds() - cpuBefore;
  const good = codes["200"] ?? 0;
  samples.sort((a, b) => a - b);
  return {
    name: `GET ${path}`,
    connections,
    rps: good / seconds,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    total: samples.length,
    bad: samples.length - good,
    cpuMs: (cpu * 1000) / Math.max(1, samples.length),
    cpuCore: cpu / seconds,
    bytes,
    note: good === samples.length ? undefined : `status codes: ${JSON.stringify(codes)}`,
  };
}

// ---------------------------------------------------------------- the run

export async function territoryBenchmark(options: TerritoryOptions = {}): Promise<TerritoryResult> {
  const n = options.sections ?? 100;
  const m = options.resultsPerSection ?? 100;
  const connections = options.connections ?? 10;
  const load = loadAverage();
  const host = new SectionHost();
  let fed: Server | undefined;
  try {
    log(`territory: ${n} fake sections (RSA keys, WebFinger, actors) served from this process`);
    await host.start(n, 1);
    const sections = host.sections.slice(0, n);
    const stranger = host.sections[n]!;

    const linkStarted = performance.now();
    fed = await startServer("coopol", "fed", {
      env: {
        COOPOL_KIND: "federation",
        COOPOL_NAME: "Fédération de banc d'essai",
        COOPOL_HANDLE: FED_HANDLE,
        COOPOL_TERRITORY: "75",
        COOPOL_CHILDREN: sections.map((s) => s.handle).join(","),
      },
    });
    const server = fed;
    const federationUri = ((await (await fetch(`${server.origin}/users/${FED_HANDLE}`, { headers: { accept: "application/activity+json" } })).json()) as { id: string }).id;
    host.federationInbox = `${server.origin}/inbox`;
    // The real handshake: the fédération looks every handle up and sends its oversight Follow; each section accepts.
    log(`territory: waiting for the fédération to link its ${n} sections (oversight Follow → signed Accept)`);
    const linked = () => server.query<{ n: number }>("select count(*) as n from territory_links where role = 'child' and state = 'linked'")[0]!.n;
    await waitFor(() => `${n} linked sections: ${linked()} linked; ${host.follows} Follows received, ${host.unmarkedFollows} without the oversight marker, ${host.acceptsFailed} Accepts refused\n${server.output.join("")}`, () => linked() === n, 90_000, { pollMs: 100 });
    const linkSeconds = (performance.now() - linkStarted) / 1000;
    log(`territory: ${n} sections linked ${linkSeconds.toFixed(1)} s after the fédération was spawned`);

    // A secretary of the fédération, and an API token for them (what /oauth/token would store).
    const added = server.cli(["member", "add", "--username", "secretaire", "--role", "secretary"], `${PASSWORD}\n`);
    if (added.status !== 0) throw new Error(`member add: ${added.stderr}`);
    const token = newToken();
    {
      const db = new Database(join(server.dataDir, "coopol.sqlite"));
      db.pragma("busy_timeout = 5000");
      const appId = newId();
      db.prepare(`insert into oauth_apps (id, client_id, client_secret_hash, name, redirect_uris, scopes) values (?, ?, ?, 'bench', 'urn:ietf:wg:oauth:2.0:oob', 'read write')`).run(appId, newToken(), hashToken(newToken()));
      const user = db.prepare<[], { id: number }>("select id from users where username = 'secretaire'").get()!;
      db.prepare(`insert into oauth_tokens (id, token_hash, app_id, user_id, scopes, last_used_at) values (?, ?, ?, ?, 'read write', ?)`).run(newId(), hashToken(token), appId, user.id, Date.now());
      db.close();
    }

    // The fédération's campaign, created through the API (it goes down to the 100 sections).
    const name = "Campagne transports 2027";
    let campaign = { uri: `${federationUri}/campaigns/bench`, name };
    const created = await fetch(`${server.origin}/api/coopol/v1/campaigns`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ title: name, starts_at: new Date(Date.now() - 40 * 86_400_000).toISOString(), goals: { doors: 50_000, leaflets: 200_000, conversations: 20_000 } }),
    });
    if (created.ok) campaign = { uri: ((await created.json()) as { uri: string }).uri, name };
    else log(`territory: POST /api/coopol/v1/campaigns answered ${created.status}; results refer to a campaign the fédération does not know`);

    // Each section's figures, as a section sends them once linked.
    const statusCodes = await Promise.all(
      sections.map((s) =>
        postActivity(host.federationInbox, s, {
          "@context": WIRE_CONTEXT,
          type: "Update",
          actor: s.actor,
          to: [federationUri],
          id: `${s.actor}#status#update-${newId()}`,
          object: toWire(statusObject({ nodeUri: s.actor, name: `Section ${s.n}`, kind: "section", territory: `75${String(101 + (s.n % 20)).padStart(3, "0")}`, federationUri: null, members: 40 + s.n, activeMembers: 10 + (s.n % 30), eventsHeld: s.n % 7, eventsUpcoming: s.n % 5, version: Date.now() }, [federationUri])),
        }),
      ),
    );
    if (statusCodes.some((c) => c !== 202)) log(`territory: NodeStatus answers ${JSON.stringify(statusCodes.filter((c) => c !== 202))}`);

    // A node that is not a declared child: what it sends must be dropped (and logged).
    const strangerPosts = await signResults(new URL(host.federationInbox), [stranger], 5, federationUri, campaign, "stranger");
    await sendAll(server.origin, strangerPosts.posts, 1);

    log(`territory: signing ${n} × ${m} Create(ActionResult) activities in advance`);
    const signStarted = performance.now();
    const sent = await signResults(new URL(host.federationInbox), sections, m, federationUri, campaign, "run");
    const signSeconds = (performance.now() - signStarted) / 1000;
    log(`territory: signed ${sent.posts.length} in ${signSeconds.toFixed(1)} s; sending over ${connections} connections`);

    const file = join(server.dataDir, "coopol.sqlite");
    const reader = new Database(file, { readonly: true, fileMustExist: true });
    const countStored = reader.prepare<[string], { n: number }>("select count(*) as n from action_results where section_uri like ?");
    const depth = reader.prepare<[], { n: number }>("select count(*) as n from fedify_queue");
    const prefix = `${host.origin}/sections/section_%`;
    const before = countStored.get(prefix)!.n;
    let maxQueueDepth = 0;
    const sampler = setInterval(() => (maxQueueDepth = Math.max(maxQueueDepth, depth.get()!.n)), 200);
    const cpuBefore = server.cpuSeconds();
    const t0 = performance.now();
    const { latencies, codes } = await sendAll(server.origin, sent.posts, connections);
    const postSeconds = (performance.now() - t0) / 1000;
    const expected = before + sent.posts.length;
    let last = before;
    let lastChange = performance.now();
    for (;;) {
      const stored = countStored.get(prefix)!.n;
      if (stored >= expected) break;
      if (stored !== last) [last, lastChange] = [stored, performance.now()];
      if (performance.now() - lastChange > 30_000) {
        log(`territory: only ${stored - before} of ${sent.posts.length} stored, and nothing new for 30 s`);
        break;
      }
      await sleep(20);
    }
    const ingestSeconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const cpu = server.cpuSeconds() - cpuBefore;
    const stored = countStored.get(prefix)!.n - before;
    log(`territory: ${stored} results stored in ${ingestSeconds.toFixed(1)} s (${(stored / ingestSeconds).toFixed(0)}/s)`);

    // Totals: what the fédération stored against what was sent.
    const sums = reader
      .prepare<[string], Record<string, number>>(`select ${METRICS.map((k) => `coalesce(sum(${k}), 0) as ${k}`).join(", ")} from action_results where deleted_at is null and section_uri like ?`)
      .get(prefix)!;
    const diffs = METRICS.filter((k) => sums[k] !== sent.totals[k]).map((k) => `${k}: stored ${sums[k]}, sent ${sent.totals[k]}`);
    const perSection = reader.prepare<[string, number], { n: number }>("select count(*) as n from (select section_uri from action_results where section_uri like ? group by section_uri having count(*) = ?)").get(prefix, m)!.n;
    const strangerStored = reader.prepare<[string], { n: number }>("select count(*) as n from action_results where section_uri = ?").get(stranger.actor)!.n;
    const statusesStored = reader.prepare<[], { n: number }>("select count(*) as n from node_stats").get()!.n;
    reader.close();

    // ------------------------------------------------------------ dashboard
    log("territory: dashboard, in-process on the fédération's database file");
    const db = openDatabase(file);
    const config = loadConfig(server.env);
    const board = dashboard(db, config);
    const inProcess = [
      timeLoop("dashboard(db, config)", 500, 8000, () => dashboard(db, config)),
      timeLoop("dashboard + dashboardCsv", 500, 4000, () => dashboardCsv(dashboard(db, config))),
    ];
    db.$client.close();

    const http: TerritoryResult["http"] = [];
    const probe = await fetch(`${server.origin}/api/coopol/v1/dashboard`, { headers: { authorization: `Bearer ${token}` } });
    await probe.arrayBuffer();
    if (probe.status === 200) {
      log("territory: dashboard over HTTP (a loop of GETs, 5 s and at least 20 answers each)");
      http.push(await httpRun(server, "/api/coopol/v1/dashboard", token, 1, 5000));
      http.push(await httpRun(server, "/api/coopol/v1/dashboard", token, 10, 5000));
      http.push(await httpRun(server, "/api/coopol/v1/dashboard.csv", token, 1, 5000));
    } else log(`territory: GET /api/coopol/v1/dashboard answered ${probe.status}: HTTP not measured`);

    await options.beforeStop?.(server);
    const allLatencies = latencies.filter((x) => x !== undefined).sort((a, b) => a - b);
    return {
      sections: n,
      resultsPerSection: m,
      linkSeconds,
      signSeconds,
      sent: sent.posts.length,
      accepted: codes["202"] ?? 0,
      refused: Object.fromEntries(Object.entries(codes).filter(([c]) => c !== "202")),
      postP50: percentile(allLatencies, 0.5),
      postP99: percentile(allLatencies, 0.99),
      postSeconds,
      ingestSeconds,
      storedPerSecond: stored / ingestSeconds,
      maxQueueDepth,
      cpuMsPerResult: (cpu * 1000) / Math.max(1, stored),
      cpuCore: cpu / ingestSeconds,
      rssAfter: server.memory().rss,
      stored,
      totalsMatch: diffs.length === 0 && stored === sent.posts.length,
      totalsNote: diffs.join("; "),
      sectionsComplete: perSection,
      statusesStored,
      strangerSent: strangerPosts.posts.length,
      strangerStored,
      campaign: created.ok ? "created through the API" : `unknown to the fédération (API answered ${created.status})`,
      inProcess,
      http,
      dashboardRows: board.rows.length,
      dashboardTotal: board.total.totals.results,
      load,
    };
  } finally {
    await fed?.dispose();
    await host.stop();
    await closeConnections();
  }
}

// ---------------------------------------------------------------- printing

export function territoryReport(r: TerritoryResult): string[] {
  const out: string[] = [];
  out.push(
    table(
      [`Fédération: ${r.sections} sections × ${r.resultsPerSection.toLocaleString("en")} signed Create(ActionResult)`, "value"],
      [
        ["sections linked by the real handshake (spawn → all linked)", `${r.sections} in ${r.linkSeconds.toFixed(1)} s`],
        ["activities signed in advance (not counted)", `${r.sent.toLocaleString("en")} in ${r.signSeconds.toFixed(0)} s`],
        ["accepted (202) / refused", `${r.accepted.toLocaleString("en")} / ${JSON.stringify(r.refused)}`],
        ["POST latency p50 / p99 (10 in flight)", `${ms(r.postP50)} / ${ms(r.postP99)}`],
        ["HTTP phase: first POST → last 202", `${r.postSeconds.toFixed(1)} s`],
        ["largest queue depth seen", String(r.maxQueueDepth)],
        ["results stored", r.stored.toLocaleString("en")],
        ["ingestion: first POST → all in action_results", `${r.ingestSeconds.toFixed(1)} s`],
        ["results stored per second", num(r.storedPerSecond)],
        ["fédération CPU per result / share of one core", `${ms(r.cpuMsPerResult)} / ${Math.round(r.cpuCore * 100)} %`],
        ["fédération RSS at the end", `${r.rssAfter.toFixed(1)} MiB`],
        ["sums of the 6 figures stored = sums sent", r.totalsMatch ? "yes" : `NO: ${r.totalsNote}`],
        [`sections with exactly ${r.resultsPerSection} results`, `${r.sectionsComplete} of ${r.sections}`],
        ["NodeStatus stored", `${r.statusesStored} of ${r.sections}`],
        ["results from an undeclared node stored (must be 0)", `${r.strangerStored} of ${r.strangerSent}`],
        ["campaign", r.campaign],
      ],
    ),
  );
  out.push("");
  out.push(
    table(
      [`Dashboard over ${r.dashboardTotal.toLocaleString("en")} results, ${r.dashboardRows} rows (in-process)`, "runs", "p50", "p99", "per s"],
      r.inProcess.map((t) => [t.name, String(t.runs), ms(t.p50), ms(t.p99), num(t.perSecond)]),
    ),
  );
  if (r.http.length) {
    out.push("");
    out.push(
      table(
        ["Dashboard over HTTP (secretary's token)", "clients", "req/s", "p50", "p99", "requests", "not OK", "CPU/req", "size"],
        r.http.map((h) => [h.name, String(h.connections), num(h.rps), ms(h.p50), ms(h.p99), `${h.total}`, String(h.bad), ms(h.cpuMs), `${(h.bytes / 1024).toFixed(1)} KiB`]),
      ),
    );
    for (const h of r.http) if (h.note) out.push(`  ${h.name}: ${h.note}`);
  } else out.push("Dashboard over HTTP: not measured (no /api/coopol/v1/dashboard route answering 200).");
  return out;
}

/** Size from the command line: --full, --results=N, --sections=N. */
export function territoryOptions(argv: string[], fullFlag = "--full"): TerritoryOptions {
  const value = (name: string) => numberOption(argv, name);
  return { sections: value("sections") ?? 100, resultsPerSection: value("results") ?? (argv.includes(fullFlag) ? 1000 : 100) };
}

if (import.meta.main) runAlone("territory", () => territoryBenchmark(territoryOptions(process.argv)), territoryReport);
