// The instances a host process has loaded. An instance is built
// (`createInstance`, the same as `npm start` builds it) on its first request or
// when the scheduler wakes it, and closed again once idle: its database, its
// queue worker and its timers go with it, so an idle instance costs only its
// registry row. Least recently used first out when more than `maxLoaded` are
// loaded.
import { and, gt, isNotNull, isNull, sql } from "drizzle-orm";
import { REMINDER_AHEAD_MS, REMINDER_ROUND_MS } from "../agenda/reminders.ts";
import type { Logger } from "pino";
import { createInstance, type Instance } from "../app.ts";
import { nextDue as outboxNextDue } from "../outbox/outbox.ts";
import type { Services } from "../services.ts";
import { events, fedifyQueue, polls } from "../storage/schema.ts";
import { configFor, type HostedInstance, type Registry } from "./registry.ts";

export interface PoolOptions {
  hostEnv: NodeJS.ProcessEnv;
  log: Logger;
  /** Unloaded after this long without a request (and with no work due now). */
  idleMs: number;
  /** At most this many loaded at once (the busy ones may exceed it for a while). */
  maxLoaded: number;
}

interface Loaded {
  domain: string;
  instance: Instance;
  lastUse: number;
  /** Requests (and WebSocket streams) in progress. */
  active: number;
}

export class InstancePool {
  readonly #registry: Registry;
  readonly #options: PoolOptions;
  /** In least-recently-used order: each use moves an entry to the end. */
  readonly #loaded = new Map<string, Loaded>();
  readonly #loading = new Map<string, Promise<Loaded>>();
  readonly #closing = new Map<string, Promise<void>>();

  constructor(registry: Registry, options: PoolOptions) {
    this.#registry = registry;
    this.#options = options;
  }

  get size(): number {
    return this.#loaded.size;
  }

  isLoaded(domain: string): boolean {
    return this.#loaded.has(domain);
  }

  domains(): string[] {
    return [...this.#loaded.keys()];
  }

  /**
   * The loaded instance for a request, loading it if needed. `release()` must
   * be called once the request (or stream) is over.
   */
  async acquire(entry: HostedInstance): Promise<{ instance: Instance; release: () => void }> {
    const loaded = await this.#load(entry);
    loaded.active++;
    loaded.lastUse = Date.now();
    this.#loaded.delete(entry.domain);
    this.#loaded.set(entry.domain, loaded);
    let released = false;
    return {
      instance: loaded.instance,
      release: () => {
        if (released) return;
        released = true;
        loaded.active--;
        loaded.lastUse = Date.now();
      },
    };
  }

  /**
   * Loads an instance for its due work (the scheduler), as if it had been
   * used `idleMs - keepMs` ago: unloaded after `keepMs` once its work is done.
   */
  async wake(entry: HostedInstance, keepMs: number): Promise<void> {
    const loaded = await this.#load(entry);
    loaded.lastUse = Math.max(loaded.lastUse, Date.now() - this.#options.idleMs + keepMs);
  }

  async #load(entry: HostedInstance): Promise<Loaded> {
    await this.#closing.get(entry.domain);
    const ready = this.#loaded.get(entry.domain);
    if (ready) return ready;
    let pending = this.#loading.get(entry.domain);
    if (!pending) {
      pending = this.#create(entry).finally(() => this.#loading.delete(entry.domain));
      this.#loading.set(entry.domain, pending);
    }
    return pending;
  }

  async #create(entry: HostedInstance): Promise<Loaded> {
    const config = configFor(entry, this.#options.hostEnv);
    const log = this.#options.log.child({ instance: entry.domain });
    const instance = await createInstance(config, { logger: log, hosted: true });
    try {
      await instance.app.ready();
    } catch (error) {
      await instance.close().catch(() => {});
      throw error;
    }
    instance.start();
    const loaded: Loaded = { domain: entry.domain, instance, lastUse: Date.now(), active: 0 };
    this.#loaded.set(entry.domain, loaded);
    log.debug("instance loaded");
    await this.#keepWithinCap(entry.domain);
    return loaded;
  }

  /** Unloads the least recently used idle instances beyond the cap. */
  async #keepWithinCap(keep: string): Promise<void> {
    for (const loaded of [...this.#loaded.values()]) {
      if (this.#loaded.size <= this.#options.maxLoaded) return;
      if (loaded.domain !== keep && loaded.active === 0 && !hasWorkNow(loaded.instance.services)) await this.unload(loaded.domain);
    }
  }

  /** Unloads every instance idle for `idleMs` with nothing due now; returns how many. */
  async unloadIdle(now = Date.now()): Promise<number> {
    let count = 0;
    for (const loaded of [...this.#loaded.values()]) {
      if (loaded.active > 0 || now - loaded.lastUse < this.#options.idleMs) continue;
      if (hasWorkNow(loaded.instance.services, now)) continue;
      await this.unload(loaded.domain);
      count++;
    }
    return count;
  }

  /**
   * Closes an instance and writes into the registry when it must run again
   * (the earliest delivery retry, outbox row, poll end or periodic task).
   */
  async unload(domain: string): Promise<void> {
    const loaded = this.#loaded.get(domain);
    if (!loaded) return this.#closing.get(domain);
    this.#loaded.delete(domain);
    const closing = (async () => {
      const { services } = loaded.instance;
      let wakeAt: number | null = null;
      try {
        wakeAt = nextWake(services);
      } catch (error) {
        services.log.warn({ err: error }, "host: next wake-up not computed");
        wakeAt = Date.now() + 60_000;
      }
      await loaded.instance.close();
      // Removed meanwhile: no row to write.
      if (this.#registry.get(domain)) this.#registry.setRest(domain, loaded.lastUse, wakeAt);
      this.#options.log.debug({ instance: domain, wakeAt }, "instance unloaded");
    })().finally(() => this.#closing.delete(domain));
    this.#closing.set(domain, closing);
    return closing;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#loading.values()].map((p) => p.catch(() => {})));
    await Promise.all(this.domains().map((domain) => this.unload(domain)));
  }
}

/** Work the instance is doing or must do now: a periodic task running, queue messages or outbox rows due. */
function hasWorkNow({ db, jobs }: Services, now = Date.now()): boolean {
  if (jobs && jobs.running > 0) return true;
  const queued = db.select({ at: sql<number | null>`min(${fedifyQueue.availableAt})` }).from(fedifyQueue).get()?.at ?? null;
  const outbox = outboxNextDue(db);
  return (queued !== null && queued <= now) || (outbox !== null && outbox <= now);
}

/**
 * When event reminders may be due: a day before the next one-off event;
 * every reminder round while a recurring event exists (its next occurrence
 * would cost an expansion here).
 */
function nextReminders(db: Services["db"], now: number): number | null {
  const live = sql`${events.status} != 'cancelled'`;
  if (db.select({ id: events.id }).from(events).where(and(live, isNotNull(events.rrule))).limit(1).get()) return now + REMINDER_ROUND_MS;
  const start = db.select({ at: sql<number | null>`min(${events.startAt})` }).from(events).where(and(live, isNull(events.rrule), gt(events.startAt, now))).get()?.at ?? null;
  return start === null ? null : Math.max(now, start - REMINDER_AHEAD_MS);
}

/** The earliest time an unloaded instance has something to do, or null. */
export function nextWake({ db, jobs }: Services, now = Date.now()): number | null {
  const queued = db.select({ at: sql<number | null>`min(${fedifyQueue.availableAt})` }).from(fedifyQueue).get()?.at ?? null;
  const pollEnd = db.select({ at: sql<number | null>`min(${polls.expiresAt})` }).from(polls).where(sql`${polls.expiresAt} > ${now}`).get()?.at ?? null;
  const times = [queued, outboxNextDue(db), pollEnd, nextReminders(db, now), jobs?.nextDue() ?? null].filter((t): t is number => t !== null);
  return times.length ? Math.min(...times) : null;
}
