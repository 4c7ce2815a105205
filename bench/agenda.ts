// The fédération agenda at scale: 30 sections × 500 events in one SQLite file,
// measured in-process (the same functions the pages and feeds call), beside a
// raw SQLite query that reads the same rows.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agenda } from "../src/agenda/events.ts";
import { calendarOf } from "../src/agenda/ics.ts";
import { openDatabase } from "../src/storage/db.ts";
import { newId } from "../src/storage/ids.ts";
import { actors, events, EVENT_CATEGORIES } from "../src/storage/schema.ts";
import { summarize } from "./measure.ts";

export interface Timing {
  name: string;
  p50: number;
  p99: number;
  rows: number;
}

/** The events a month view reads (to, from, to), written by hand: bench/pages.ts times it too. */
export const RAW_MONTH = "select * from events where (rrule is null and start_at <= ? and coalesce(end_at, start_at) >= ?) or (rrule is not null and start_at <= ?) order by start_at";

const SECTIONS = 30;
const EVENTS_PER_SECTION = 500;

function time(name: string, runs: number, work: () => number): Timing {
  const samples: number[] = [];
  let rows = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    rows = work();
    samples.push(performance.now() - t0);
  }
  const { p50, p99 } = summarize(samples);
  return { name, p50, p99, rows };
}

export function agendaBenchmark(): { events: number; timings: Timing[] } {
  const dir = mkdtempSync(join(tmpdir(), "coopol-bench-agenda-"));
  try {
    const db = openDatabase(join(dir, "coopol.sqlite"));
    const origin = "https://federation.example";
    const start = Date.UTC(2027, 0, 1);
    db.transaction((tx) => {
      for (let s = 0; s < SECTIONS; s++) {
        const actorId = newId();
        const host = `section${s}.example`;
        tx.insert(actors).values({ id: actorId, uri: `https://${host}/users/section`, type: "Group", username: "section", domain: host, name: `Section ${s}` }).run();
        for (let e = 0; e < EVENTS_PER_SECTION; e++) {
          const id = newId();
          // Spread over two years, every fiftieth a monthly meeting.
          const at = start + Math.floor((e / EVENTS_PER_SECTION) * 730) * 86_400_000 + ((s * 37 + e * 11) % 12) * 3_600_000;
          tx.insert(events)
            .values({
              id,
              uri: `https://${host}/events/${id}`,
              actorId,
              title: `Événement ${e} de la section ${s}`,
              description: "<p>Réunion, débat ou action militante.</p>",
              startAt: at,
              endAt: at + 2 * 3_600_000,
              locality: `Commune ${s}`,
              category: EVENT_CATEGORIES[e % EVENT_CATEGORIES.length]!,
              rrule: e % 50 === 0 ? "FREQ=MONTHLY;BYDAY=1TU" : null,
            })
            .run();
        }
      }
    });
    const viewer = { kind: "local" as const, actorId: 1, role: "member" as const };
    const march = { from: Date.UTC(2027, 2, 1), to: Date.UTC(2027, 3, 1) - 1 };
    const raw = db.$client.prepare(RAW_MONTH);
    const monthRows = agenda(db, viewer, march).map((o) => o.event);
    const year = agenda(db, viewer, { from: Date.UTC(2027, 0, 1), to: Date.UTC(2028, 0, 1) }).map((o) => o.event);
    const yearUnique = [...new Map(year.map((e) => [e.id, e])).values()];
    const timings = [
      time("month view: agenda() of March, 30 sections", 200, () => agenda(db, viewer, march).length),
      time("raw SQLite: the same month's rows", 200, () => raw.all(march.to, march.from, march.to).length),
      time(".ics feed of that month (ical-generator)", 100, () => calendarOf("Fédération", monthRows, { origin }).length && monthRows.length),
      time(".ics feed of a year (all sections)", 10, () => calendarOf("Fédération", yearUnique, { origin }).length && yearUnique.length),
    ];
    db.$client.close();
    return { events: SECTIONS * EVENTS_PER_SECTION, timings };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { events: n, timings } = agendaBenchmark();
  process.stdout.write(`Agenda: ${n} events\n`);
  for (const t of timings) process.stdout.write(`  ${t.name}: p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms, ${t.rows} rows\n`);
}
