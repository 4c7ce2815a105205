// Small periodic tasks of an instance (purging caches, event reminders): run
// once at start, then every interval, on a timer that does not keep the process
// alive. A failure is logged and the next round runs as usual.
//
// In host mode (src/host) an instance is loaded and unloaded many times a day,
// so "once at start" would run every task at every load. There a `JobClock`
// remembers each task's last run in the instance's database: a task runs when
// its interval has passed since then, and the clock tells the host when the
// next one is due, so an unloaded instance is woken for it.
import { eq } from "drizzle-orm";
import type { Logger } from "pino";
import type { Db } from "./storage/db.ts";
import { settings } from "./storage/schema.ts";

/** Whether a task's next round must load an unloaded instance; a function is asked when the host unloads it. */
export type Wakes = boolean | (() => boolean);

export interface JobClock {
  lastRun(name: string): number | null;
  ran(name: string, at: number): void;
  /** When the task will next run (kept in memory for nextDue()). */
  planned(name: string, at: number, wakes: Wakes): void;
  /** The earliest planned run of any task, or null. */
  nextDue(): number | null;
  /** Tasks running now: an instance is not unloaded in the middle of one. */
  running: number;
}

/** A clock that keeps last runs in the `settings` table (`job.<name>`). */
export function databaseJobClock(db: Db): JobClock {
  const planned = new Map<string, { at: number; wakes: Wakes }>();
  const key = (name: string) => `job.${name}`;
  return {
    running: 0,
    lastRun(name) {
      const row = db.select().from(settings).where(eq(settings.key, key(name))).get();
      return row ? (JSON.parse(row.value) as number) : null;
    },
    ran(name, at) {
      const value = JSON.stringify(at);
      db.insert(settings).values({ key: key(name), value }).onConflictDoUpdate({ target: settings.key, set: { value } }).run();
    },
    planned(name, at, wakes) {
      planned.set(name, { at, wakes });
    },
    nextDue() {
      const due = [...planned.values()].filter(({ wakes }) => (typeof wakes === "function" ? wakes() : wakes)).map(({ at }) => at);
      return due.length ? Math.min(...due) : null;
    },
  };
}

/**
 * `wakes`: whether an unloaded instance must be loaded for this task's next
 * round. False for tasks whose due time the host computes better from the
 * data (polls ending, reminders: src/host/pool.ts) or that can wait for the
 * next load (purging caches).
 */
export function repeat(log: Logger, name: string, intervalMs: number, task: () => unknown | Promise<unknown>, clock?: JobClock, wakes: Wakes = true): () => void {
  const run = async () => {
    if (clock) {
      const now = Date.now();
      clock.ran(name, now);
      clock.planned(name, now + intervalMs, wakes);
      clock.running++;
    }
    try {
      await task();
    } catch (error) {
      log.warn({ err: error, job: name }, "periodic task failed");
    } finally {
      if (clock) clock.running--;
    }
  };
  const last = clock?.lastRun(name) ?? null;
  const delay = last === null ? 0 : Math.max(0, last + intervalMs - Date.now());
  let timer: NodeJS.Timeout | undefined;
  const start = () => {
    void run();
    timer = setInterval(run, intervalMs);
    timer.unref();
  };
  if (delay === 0) start();
  else {
    clock!.planned(name, Date.now() + delay, wakes);
    timer = setTimeout(start, delay);
    timer.unref();
  }
  return () => {
    clearTimeout(timer);
    clearInterval(timer);
  };
}
