// Recurring events at scale: a real instance (`node src/main.ts`) holding 1,000
// recurring public events — most weekly or monthly, a hundred daily for years,
// all begun between 2019 and now — answers its month view (web) and
// /api/coopol/v1/events for the current month, at 1 and 10 clients, beside a
// raw SQLite read of the same rows. Every rule is expanded at each request:
// what this measures is the window-bounded expansion (src/agenda/recurrence.ts).
//
//   node bench/recurring.ts             (also `node bench/run.ts --only=recurring`)
import Database from "better-sqlite3";
import { join } from "node:path";
import { agenda } from "../src/agenda/events.ts";
import { openDatabase } from "../src/storage/db.ts";
import { newId } from "../src/storage/ids.ts";
import { events, EVENT_CATEGORIES } from "../src/storage/schema.ts";
import { prng } from "./dataset.ts";
import { loadAverage, log, measureLoad, timeLoop, type LoadFigure, type Timing } from "./measure.ts";
import { lat, ms, num, runAlone, table } from "./report.ts";
import { startServer } from "./servers.ts";

export const RECURRING_EVENTS = 1000;
const DAILY = 100;
const TARGET_P99_MS = 50;
const RULES = ["FREQ=MONTHLY;BYDAY=1TU", "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=MONTHLY", "FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2", "FREQ=MONTHLY;BYDAY=2WE,4WE", "FREQ=YEARLY"];
const DAY = 86_400_000;

export interface RecurringResult {
  load: string;
  events: number;
  occurrences: number;
  http: Array<LoadFigure & { name: string; connections: number }>;
  raw: Timing;
  /** agenda() in this process on the same file: the expansion alone, first call and later ones. */
  expansion: Timing;
  firstExpansionMs: number;
}

export async function recurringBenchmark(): Promise<RecurringResult> {
  const load = loadAverage();
  const server = await startServer("coopol", "recurring");
  try {
    log(`recurring: ${RECURRING_EVENTS} recurring events (${DAILY} daily)`);
    const file = join(server.dataDir, "coopol.sqlite");
    const db = openDatabase(file);
    const organiser = db.$client.prepare("select id from actors where username = ? and local = 1").get("bench_recurring") as { id: number };
    const random = prng(42);
    const began = Date.UTC(2019, 0, 1);
    db.transaction((tx) => {
      for (let i = 0; i < RECURRING_EVENTS; i++) {
        const id = newId();
        // Began at 18:00 or 18:30 Paris time on some day since 2019 (daily ones: at least a year ago).
        const startAt = began + Math.floor(random() * (Date.now() - began - (i < DAILY ? 365 * DAY : 0)) / DAY) * DAY + (17 * 60 + (i % 2) * 30) * 60_000;
        tx.insert(events)
          .values({
            id,
            uri: `${server.origin}/events/${id}`,
            url: `${server.origin}/events/${id}`,
            actorId: organiser.id,
            title: `Réunion récurrente ${i}`,
            description: "<p>Permanence, réunion ou porte-à-porte.</p>",
            startAt,
            endAt: startAt + 2 * 3_600_000,
            timezone: "Europe/Paris",
            locality: `Commune ${i % 40}`,
            category: EVENT_CATEGORIES[i % EVENT_CATEGORIES.length]!,
            rrule: i < DAILY ? (i % 4 === 0 ? "FREQ=DAILY;UNTIL=20351231T000000Z" : "FREQ=DAILY") : RULES[i % RULES.length]!,
          })
          .run();
      }
    });
    db.$client.close();

    const now = new Date();
    const month = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
    const from = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const to = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - 1;
    const api = `/api/coopol/v1/events?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    const check = await fetch(server.origin + api);
    const occurrences = ((await check.json()) as unknown[]).length;

    const http: RecurringResult["http"] = [];
    for (const [name, path] of [
      [`GET /agenda?month=${month} (web month view)`, `/agenda?month=${month}`],
      ["GET /api/coopol/v1/events (that month)", api],
    ] as const) {
      for (const connections of [1, 10]) {
        log(`recurring: ${name}, ${connections} client(s)`);
        http.push({ name, connections, ...(await measureLoad(server, { url: server.origin + path, connections }, { warmupS: 1, durationS: 5 })) });
      }
    }
    // The same rows read straight from the file: every recurring event begun before the month's end.
    const reader = new Database(file, { readonly: true });
    const statement = reader.prepare("select * from events where (rrule is null and start_at <= ? and coalesce(end_at, start_at) >= ?) or (rrule is not null and start_at <= ?) order by start_at limit 5000");
    const raw = timeLoop("raw SQLite: the rows of the month", 2000, 3000, () => statement.all(to, from, to));
    reader.close();
    const local = openDatabase(file);
    const t0 = performance.now();
    agenda(local, { kind: "anonymous" }, { from, to });
    const firstExpansionMs = performance.now() - t0;
    const expansion = timeLoop("agenda(): the month's occurrences", 500, 3000, () => agenda(local, { kind: "anonymous" }, { from, to }));
    local.$client.close();
    return { load, events: RECURRING_EVENTS, occurrences, http, raw, expansion, firstExpansionMs };
  } finally {
    await server.dispose();
  }
}

export function recurringReport(r: RecurringResult): string[] {
  return [
    `Recurring events: ${r.events} recurring public events (${DAILY} daily for years, the others weekly to yearly), every rule expanded at each request; the API answers ${r.occurrences} occurrences (at most 500) for the month.`,
    `Raw SQLite read of the same ${r.raw.rows} rows: p50 ${ms(r.raw.p50)}, p99 ${ms(r.raw.p99)}.`,
    `agenda() in process (read + expansion of every rule, ${r.expansion.rows} occurrences): first call ${ms(r.firstExpansionMs)}, then p50 ${ms(r.expansion.p50)}, p99 ${ms(r.expansion.p99)} (× ${(r.expansion.p50 / r.raw.p50).toFixed(1)} the raw read).`,
    "",
    table(
      ["Request", "clients", "req/s", "p50", "p99", "p50 / raw read", "target p99", ""],
      r.http.map((h) => [h.name, String(h.connections), num(h.rps), lat(h.p50), lat(h.p99), `× ${Math.round(Math.max(h.p50, 1) / r.raw.p50)}`, `< ${TARGET_P99_MS} ms`, h.p99 < TARGET_P99_MS ? "ok" : "MISSED"]),
    ),
  ];
}

if (import.meta.main) runAlone("recurring", recurringBenchmark, recurringReport);
