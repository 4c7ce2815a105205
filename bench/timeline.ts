// The home timeline at scale: 10,000 members and 1,000,000 posts (bench/dataset.ts),
// measured for random members
//   (a) in-process, homeTimeline(db, user, { limit: 20 }) alone,
//   (b) in-process, homeTimeline + renderStatuses: the API's cost without HTTP,
//   (c) a raw better-sqlite3 prepared statement returning the same 20 rows,
//   (d) over HTTP: GET /api/v1/timelines/home?limit=20 on a real instance
//       process started on a copy of the data set, with autocannon (the copy
//       is thrown away afterwards).
// It also finds which SQL statements the API spends its time in, with their
// EXPLAIN QUERY PLAN.
import { constants, copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pino from "pino";
import { loadConfig } from "../src/config.ts";
import { EventBus } from "../src/events.ts";
import { renderStatuses } from "../src/mastodon/entities.ts";
import { isCardHolder, type User } from "../src/members/members.ts";
import { homeTimeline } from "../src/posts/posts.ts";
import type { Services } from "../src/services.ts";
import { openDatabase, type OpenDb } from "../src/storage/db.ts";
import { newId } from "../src/storage/ids.ts";
import { users } from "../src/storage/schema.ts";
import { hashToken, newToken } from "../src/storage/tokens.ts";
import { ensureDataset, prng, type DatasetInfo } from "./dataset.ts";
import { loadAverage, log, measureLoad, summarize, type LoadFigure } from "./measure.ts";
import { ms as fmt } from "./report.ts";
import { startServer, type Server } from "./servers.ts";

export interface TimelineTiming {
  name: string;
  p50: number;
  p99: number;
  perSecond: number;
  /** Rows (statuses) returned by the last call. */
  rows: number;
}

export interface QueryCost {
  /** The statement, with its IN lists shortened. */
  sql: string;
  /** Average ms per rendered page, and share of the render's SQL time. */
  msPerPage: number;
  share: number;
  plan: string[];
}

export interface HttpTiming extends LoadFigure {
  name: string;
  connections: number;
  rssAfter: number;
}

export interface TimelineResult {
  dataset: DatasetInfo;
  iterations: number;
  timings: TimelineTiming[];
  /** Members of the sample whose 20 raw rows are exactly homeTimeline's. */
  sameRows: { checked: number; same: number };
  homePlan: string[];
  hotQueries: QueryCost[];
  http: HttpTiming[];
  copySeconds: number;
  load: string;
}

const ITERATIONS = 2000;
const WARMUP = 100;
/** Members whose tokens the HTTP run rotates through. */
const HTTP_MEMBERS = 100;
const HTTP_DURATION_S = 5;
const HTTP_WARMUP_S = 1;
export const TARGET_P99_MS = 50;


function time(name: string, members: User[], work: (user: User) => number): TimelineTiming {
  for (let i = 0; i < WARMUP; i++) work(members[(i * 7) % members.length]!);
  const samples: number[] = [];
  let rows = 0;
  for (const user of members) {
    const t0 = performance.now();
    rows = work(user);
    samples.push(performance.now() - t0);
  }
  const { p50, p99, perSecond } = summarize(samples);
  return { name, p50, p99, perSecond, rows };
}

/** The rule of visibility.ts visibleTo() and posts.ts notFilteredBy(), written by hand. */
export const RAW_HOME = `
  select p.* from timeline_entries t join posts p on p.id = t.post_id
  where t.user_id = @userId
    and (p.visibility in ('public', 'unlisted')
      or p.actor_id = @actorId
      or (p.visibility = 'private' and exists (select 1 from follows f where f.follower_id = @actorId and f.following_id = p.actor_id and f.accepted_at is not null))
      or (p.visibility in ('private', 'direct') and exists (select 1 from mentions m where m.post_id = p.id and m.actor_id = @actorId))
      or (p.visibility = 'section' and (@cardHolder or p.sympathisants)))
    and p.actor_id not in (select target_id from actor_filters where user_id = @userId)
  order by t.post_id desc limit 20`;

interface Captured {
  /** The statement with its IN lists shortened, and one real instance of it. */
  shape: string;
  sql: string;
  params: unknown[];
  ms: number;
  calls: number;
}

/**
 * Runs `work` with every statement drizzle prepares on this connection timed
 * (drizzle's better-sqlite3 driver prepares each query as it runs it).
 */
function capture(db: OpenDb, work: () => void): Captured[] {
  const client = db.$client;
  const prepare = client.prepare;
  const seen = new Map<string, Captured>();
  // better-sqlite3 hands back the same statement object for the same SQL: wrap it once.
  const wrapped = new Set<Record<string, unknown>>();
  client.prepare = function (this: Database.Database, source: string) {
    const statement = prepare.call(this, source) as unknown as Record<string, (...args: unknown[]) => unknown>;
    if (wrapped.has(statement)) return statement as unknown as Database.Statement;
    wrapped.add(statement);
    for (const method of ["all", "get", "run"]) {
      const original = statement[method]!.bind(statement);
      statement[method] = (...params: unknown[]) => {
        const t0 = performance.now();
        try {
          return original(...params);
        } finally {
          // IN lists vary in length: one entry per statement shape.
          const key = source.replace(/\?(, \?)+/g, "?…");
          const entry = seen.get(key) ?? { shape: key, sql: source, params, ms: 0, calls: 0 };
          entry.ms += performance.now() - t0;
          entry.calls++;
          seen.set(key, entry);
        }
      };
    }
    return statement as unknown as Database.Statement;
  } as typeof client.prepare;
  try {
    work();
  } finally {
    client.prepare = prepare;
    for (const statement of wrapped) for (const method of ["all", "get", "run"]) delete statement[method];
  }
  return [...seen.values()];
}

const planOf = (db: OpenDb, sql: string, params: unknown[]) =>
  (db.$client.prepare(`explain query plan ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);

/** Copies the file the fastest way the file system offers (a reflink where it can). */
function copyDataset(from: string, toDir: string): number {
  const t0 = performance.now();
  copyFileSync(from, join(toDir, "coopol.sqlite"), constants.COPYFILE_FICLONE);
  return (performance.now() - t0) / 1000;
}

/** Bearer tokens for these members, written straight into the copy (what /oauth/token would store). */
function insertTokens(file: string, members: User[]): string[] {
  const db = new Database(file);
  try {
    const appId = newId();
    db.prepare(`insert into oauth_apps (id, client_id, client_secret_hash, name, redirect_uris, scopes) values (?, ?, ?, 'bench', 'urn:ietf:wg:oauth:2.0:oob', 'read')`).run(
      appId,
      newToken(),
      hashToken(newToken()),
    );
    const insert = db.prepare(`insert into oauth_tokens (id, token_hash, app_id, user_id, scopes, last_used_at) values (?, ?, ?, ?, 'read', ?)`);
    const tokens: string[] = [];
    db.transaction(() => {
      for (const member of members) {
        const token = newToken();
        // last_used_at set now: the run measures reads, not the once-a-minute write.
        insert.run(newId(), hashToken(token), appId, member.id, Date.now());
        tokens.push(token);
      }
    })();
    return tokens;
  } finally {
    db.close();
  }
}

async function httpRun(instance: Server, tokens: string[], connections: number, seconds: number): Promise<HttpTiming> {
  let next = 0;
  const options = {
    url: `${instance.origin}/api/v1/timelines/home?limit=20`,
    connections,
    requests: [
      {
        // Each request speaks for the next member of the sample.
        setupRequest: (request: { headers?: Record<string, string> }) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
      },
    ],
  };
  const figure = await measureLoad(instance, options, { warmupS: HTTP_WARMUP_S, durationS: seconds });
  return {
    name: `GET /api/v1/timelines/home?limit=20, ${connections} connection${connections > 1 ? "s" : ""}`,
    connections,
    ...figure,
    rssAfter: instance.memory().rss,
  };
}

export async function timelineBenchmark(options: { iterations?: number; http?: boolean } = {}): Promise<TimelineResult> {
  const iterations = options.iterations ?? ITERATIONS;
  const load = loadAverage();
  const dataset = ensureDataset();
  if (dataset.generatedNow) log(`timeline data set generated in ${dataset.generationSeconds.toFixed(0)} s: ${dataset.file}`);
  else log(`timeline data set: cached ${dataset.file} (${dataset.sizeMiB.toFixed(0)} MiB)`);

  // ---------------------------------------------------------- in-process
  // The cached file is shared by every run on this machine: only read here
  // (openDatabase may apply a new migration to it).
  const db = openDatabase(dataset.file);
  db.$client.pragma("wal_checkpoint(TRUNCATE)");
  const servicesOf = (on: OpenDb): Services => ({
    config: loadConfig({ COOPOL_DATA: join(tmpdir(), "coopol-bench-timeline-unused"), COOPOL_ORIGIN: "https://bench.example" }),
    db: on,
    log: pino({ level: "silent" }),
    // renderStatuses reads config and db only.
    kv: null as never,
    federation: null as never,
    remote: null as never,
    events: new EventBus(),
  });
  const services = servicesOf(db);
  const rand = prng(424242);
  const everyone = db.select().from(users).all();
  const sample = Array.from({ length: iterations }, () => everyone[Math.floor(rand() * everyone.length)]!);
  const raw = db.$client.prepare(RAW_HOME);
  const rawRows = (user: User) => raw.all({ userId: user.id, actorId: user.actorId, cardHolder: isCardHolder(user.role) ? 1 : 0 }) as Array<{ id: number }>;

  let sameRows = { checked: 0, same: 0 };
  for (const user of sample.slice(0, 200)) {
    const a = homeTimeline(db, user, { limit: 20 }).map((p) => p.id).join();
    const b = rawRows(user).map((p) => p.id).join();
    sameRows = { checked: sameRows.checked + 1, same: sameRows.same + (a === b ? 1 : 0) };
  }

  log(`timeline in-process: ${iterations} random members per measure`);
  const timings: TimelineTiming[] = [];
  const page = (on: OpenDb, s: Services) => (u: User) => renderStatuses(s, u, homeTimeline(on, u, { limit: 20 })).length;
  timings.push(time("(a) homeTimeline(db, user, { limit: 20 })", sample, (u) => homeTimeline(db, u, { limit: 20 }).length));
  timings.push(time("(b) homeTimeline + renderStatuses (API minus HTTP)", sample, page(db, services)));
  timings.push(time("(c) raw SQLite: the same 20 rows, prepared once", sample, (u) => rawRows(u).length));

  // Where (b) spends its SQL time, and how SQLite runs those statements.
  const homeCaptured = capture(db, () => homeTimeline(db, sample[0]!, { limit: 20 }))[0]!;
  const homePlan = planOf(db, homeCaptured.sql, homeCaptured.params);
  const pages = Math.min(300, sample.length);
  const hottest = (on: OpenDb, s: Services, n: number): QueryCost[] => {
    const list = capture(on, () => sample.slice(0, pages).forEach(page(on, s)));
    const sqlTotal = list.reduce((sum, c) => sum + c.ms, 0);
    return list
      .sort((x, y) => y.ms - x.ms)
      .slice(0, n)
      .map((c) => ({ sql: c.shape, msPerPage: c.ms / pages, share: c.ms / sqlTotal, plan: planOf(on, c.sql, c.params) }));
  };
  const hotQueries = hottest(db, services, 3);
  db.$client.close();

  // ---------------------------------------------------------- a private copy
  const http: HttpTiming[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), "coopol-bench-timeline-copy-"));
  const copyFile = join(dataDir, "coopol.sqlite");
  let instance: Server | null = null;
  let copySeconds = 0;
  try {
    log(`timeline: copying the data set to ${dataDir}`);
    copySeconds = copyDataset(dataset.file, dataDir);
    const members = [...new Set(sample)].slice(0, HTTP_MEMBERS);
    const tokens = insertTokens(copyFile, members);
    if (options.http !== false) {
      instance = await startServer("coopol", "timeline", { dataDir, timeoutMs: 60_000 });
      // One checked request first: a full page of 20 statuses, as JSON.
      const res = await fetch(`${instance.origin}/api/v1/timelines/home?limit=20`, { headers: { authorization: `Bearer ${tokens[0]}` } });
      const body = (await res.json()) as unknown[];
      if (res.status !== 200 || !Array.isArray(body) || body.length !== 20) throw new Error(`home timeline over HTTP: ${res.status}, ${JSON.stringify(body).slice(0, 300)}`);
      log(`timeline HTTP: autocannon, ${HTTP_WARMUP_S} s warm-up each, 1 connection for 3 s then 10 for ${HTTP_DURATION_S} s, ${tokens.length} members' tokens in turn`);
      for (const [connections, seconds] of [[1, 3], [10, HTTP_DURATION_S]] as const) {
        const figure = await httpRun(instance, tokens, connections, seconds);
        http.push(figure);
      }
      await instance.stop();
      instance = null;
    }
  } finally {
    await (instance as Server | null)?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { dataset, iterations, timings, sameRows, homePlan, hotQueries, http, copySeconds, load };
}

/** The figures as text lines, for the standalone run. */
export function describe(r: TimelineResult): string[] {
  const d = r.dataset;
  const out = [
    `Home timeline: ${d.members} members, ${d.posts} posts, ${d.follows} follows, ${d.timelineEntries} timeline entries (${d.sizeMiB.toFixed(0)} MiB; generation took ${d.generationSeconds.toFixed(0)} s${d.generatedNow ? "" : ", cached"}); load average ${r.load}`,
    `In-process, ${r.iterations} random members each:`,
    ...r.timings.map((t) => `  ${t.name}: p50 ${fmt(t.p50)}, p99 ${fmt(t.p99)}, ${Math.round(t.perSecond)} calls/s, ${t.rows} rows`),
    `  raw rows identical to homeTimeline's for ${r.sameRows.same}/${r.sameRows.checked} members`,
    `  homeTimeline's plan: ${r.homePlan.join(" | ")}`,
    `  SQL time of (b) by statement:`,
    ...r.hotQueries.map((q) => `    ${fmt(q.msPerPage)}/page (${Math.round(q.share * 100)} %): ${q.sql.slice(0, 140)}\n      plan: ${q.plan.join(" | ")}`),
  ];
  if (r.http.length) {
    out.push(`Over HTTP (real instance on a copy of the data set; copy took ${r.copySeconds.toFixed(1)} s):`);
    for (const h of r.http) out.push(`  ${h.name}: ${h.rps.toFixed(1)} req/s, p50 ${h.p50} ms, p99 ${h.p99} ms, ${h.total} requests, ${h.bad} not OK, CPU ${fmt(h.cpuMs)}/req, RSS ${h.rssAfter.toFixed(0)} MiB${h.note ? `; ${h.note}` : ""}`);
    for (const h of r.http.filter((x) => x.connections === 10)) {
      out.push(`  target p99 < ${TARGET_P99_MS} ms with 10 connections: ${h.p99 < TARGET_P99_MS ? "met" : "MISSED"}`);
    }
  }
  return out;
}

/** Short notes printed under the tables of `npm run bench`. */
export function timelineNotes(r: TimelineResult): string[] {
  const d = r.dataset;
  const hot = r.hotQueries[0];
  return [
    `  data set: ${d.members} members, ${d.posts} posts, ${d.follows} follows, ${d.timelineEntries} timeline entries, ${d.sizeMiB.toFixed(0)} MiB in ${d.file}; ` +
      (d.generatedNow ? `generated now in ${d.generationSeconds.toFixed(0)} s` : `cached (generation took ${d.generationSeconds.toFixed(0)} s)`),
    `  raw rows identical to homeTimeline's for ${r.sameRows.same}/${r.sameRows.checked} members; homeTimeline's plan: ${r.homePlan.slice(0, 2).join(", ")}`,
    ...(hot ? [`  (b) spends ${Math.round(hot.share * 100)} % of its SQL time (${fmt(hot.msPerPage)}/page) in: ${hot.sql.slice(0, 110)}… — ${hot.plan.join(", ")}`] : []),
  ];
}

if (import.meta.main) {
  const result = await timelineBenchmark({ http: !process.argv.includes("--no-http") });
  process.stdout.write(describe(result).join("\n") + "\n");
}
