// The host's scheduler: every few seconds, one sweep that
//   1. unloads instances that were suspended or removed (their jobs stop),
//   2. unloads instances idle for a while with nothing due now, and those
//      nobody uses whose due work has run for a whole slice (pool.ts),
//   3. wakes unloaded instances whose work came due (registry `next_wake_at`,
//      written when each was unloaded), the longest waiting first, a few at
//      a time and only while the pool is under its cap (requests come first).
// A woken instance runs its due work (queue, outbox, periodic tasks) with its
// own workers, exactly as when a request loaded it, and is unloaded again once
// it is done and `keepMs` has passed. One with endless work (deliveries to a
// dead server) is unloaded after its slice and woken again after those that
// were waiting: no instance keeps a place the others need.
import type { Logger } from "pino";
import type { InstancePool } from "./pool.ts";
import type { Registry } from "./registry.ts";

export interface SchedulerOptions {
  log: Logger;
  sweepMs: number;
  /** Instances woken per sweep. */
  concurrency: number;
  /** How long a woken instance stays loaded at least. */
  keepMs: number;
}

/** When an instance fails to load, the next try. */
const RETRY_MS = 10 * 60_000;

export function startScheduler(pool: InstancePool, registry: Registry, options: SchedulerOptions): { sweep: () => Promise<void>; stop: () => Promise<void> } {
  let current: Promise<void> | null = null;
  const sweepOnce = async () => {
    for (const domain of pool.domains()) {
      if (registry.get(domain)?.state !== "active") await pool.unload(domain);
    }
    await pool.unloadIdle();
    const now = Date.now();
    const wakes = Math.min(options.concurrency, pool.room());
    if (wakes === 0) return;
    const due = registry.due(now, wakes + pool.size).filter((domain) => !pool.isLoaded(domain)).slice(0, wakes);
    await Promise.all(
      due.map(async (domain) => {
        const entry = registry.get(domain);
        if (!entry) return;
        try {
          // Its wake-up time stays as it is until it is unloaded (loaded instances are skipped
          // above): should the host stop abruptly, the instance is woken again at the next start.
          await pool.wake(entry, options.keepMs);
        } catch (error) {
          options.log.error({ err: error, instance: domain }, "host: instance could not be woken");
          registry.setRest(domain, entry.lastActivityAt ?? now, now + RETRY_MS);
        }
      }),
    );
  };
  const sweep = () => {
    current ??= sweepOnce()
      .catch((error) => options.log.error({ err: error }, "host: sweep failed"))
      .finally(() => (current = null));
    return current;
  };
  const timer = setInterval(sweep, options.sweepMs);
  timer.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
