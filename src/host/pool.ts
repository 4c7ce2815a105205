// The instances a host process has loaded. An instance is built
// (`createInstance`, the same as `npm start` builds it) on its first request or
// when the scheduler wakes it, and closed again once idle: its database, its
// queue worker and its timers go with it, so an idle instance costs only its
// registry row.
//
// Two bounds on how many are loaded. Beyond `maxLoaded`, the least recently
// used idle instances are unloaded, but never one *in use* (used again since
// it was loaded, or reloaded soon after it was unloaded, by people's requests:
// pages and apps) in the last `minResidencyMs`: with a few more instances in use than the cap, unloading
// the next one needed at each load made every request load an instance
// (thrashing). Other servers' requests (deliveries, look-ups: a campaign
// reaching hundreds of sections) earn no such protection, so a burst of them
// goes through the pool instead of filling it. The cap may thus
// be exceeded for a while, up to `ceiling`
// (loaded, loading and closing counted), which keeps memory bounded against a
// peer that makes many instances load: there a request for an unloaded
// instance waits briefly for room, then is refused (`PoolFull`, a 429).
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
  /** Beyond this many loaded, idle ones are unloaded, least recently used first. */
  maxLoaded: number;
  /** Never more loaded, loading or closing at once than this (at least maxLoaded). */
  ceiling: number;
  /** An instance used this recently is not unloaded to make room. */
  minResidencyMs: number;
  /**
   * How long an instance nobody uses may go on with due work past its idle
   * time (a delivery backlog to a dead server, say) before it gives its place
   * and waits its turn behind the other instances due.
   */
  workSliceMs: number;
}

/** No room under the ceiling for one more instance: the request is refused for now. */
export class PoolFull extends Error {
  constructor(domain: string) {
    super(`host: no room to load ${domain}`);
  }
}

/**
 * How long a request for an unloaded instance waits for room under the
 * ceiling, and how often it looks: long enough for a burst of deliveries (a
 * campaign to hundreds of sections) to find room as the first ones finish,
 * rather than be refused and retried by the sender much later.
 */
const ADMIT_WAIT_MS = 10_000;
const ADMIT_POLL_MS = 100;
/** An instance loaded again this soon after people last used it counts as in use at once. */
const RECENT_USE_MS = 60_000;

interface Loaded {
  domain: string;
  instance: Instance;
  lastUse: number;
  /** People's requests (pages, apps) since it was loaded. */
  uses: number;
  /** In use: protected by `minResidencyMs` (see the top of this file). */
  inUse: boolean;
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
  /** Requests waiting for an instance (to load, or for their turn): not to be evicted meanwhile. */
  readonly #wanted = new Map<string, number>();
  /** When people last used each instance (one number per hosted instance, kept across unloads). */
  readonly #peopleUsed = new Map<string, number>();

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
  async acquire(entry: HostedInstance, { fromPeer = false } = {}): Promise<{ instance: Instance; release: () => void }> {
    const { domain } = entry;
    // Wanted from now until counted active: another load's eviction, running
    // while this one waits for its turn, must not pick it (it would serve the
    // request a closed instance).
    this.#wanted.set(domain, (this.#wanted.get(domain) ?? 0) + 1);
    let loaded: Loaded;
    try {
      do loaded = await this.#load(entry);
      // Unloaded meanwhile all the same (suspended, say): loaded again.
      while (this.#loaded.get(domain) !== loaded);
      loaded.active++;
    } finally {
      const left = this.#wanted.get(domain)! - 1;
      if (left > 0) this.#wanted.set(domain, left);
      else this.#wanted.delete(domain);
    }
    // Servers' requests (deliveries, look-ups) come in bursts across many instances: they earn no residency.
    if (!fromPeer) {
      if (++loaded.uses > 1) loaded.inUse = true;
      this.#peopleUsed.set(entry.domain, Date.now());
    }
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
    const deadline = Date.now() + ADMIT_WAIT_MS;
    for (;;) {
      const ready = this.#loaded.get(entry.domain);
      if (ready) return ready;
      const pending = this.#loading.get(entry.domain);
      if (pending) return pending;
      this.#evictBeyondCap();
      // Checked and reserved (#loading) in the same turn: two requests cannot both take the last place.
      if (this.#count() < this.#options.ceiling) {
        const loading = this.#create(entry).finally(() => this.#loading.delete(entry.domain));
        this.#loading.set(entry.domain, loading);
        return loading;
      }
      if (Date.now() >= deadline) throw new PoolFull(entry.domain);
      await new Promise((resolve) => setTimeout(resolve, ADMIT_POLL_MS));
    }
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
    // Unloaded a short while ago and wanted again: part of what is in use now.
    const inUse = Date.now() - (this.#peopleUsed.get(entry.domain) ?? 0) < RECENT_USE_MS;
    const loaded: Loaded = { domain: entry.domain, instance, lastUse: Date.now(), active: 0, uses: 0, inUse };
    this.#loaded.set(entry.domain, loaded);
    log.debug("instance loaded");
    // Not awaited: the request that loaded this one does not wait for another to close.
    this.#evictBeyondCap();
    return loaded;
  }

  /** Instances taking memory: loaded, being loaded, or closing. */
  #count(): number {
    return this.#loaded.size + this.#loading.size + this.#closing.size;
  }

  /**
   * Starts unloading the least recently used instances beyond the cap that may
   * go: idle, not in use in the last `minResidencyMs`, nothing due now.
   */
  #evictBeyondCap(now = Date.now()): void {
    let excess = this.#loaded.size - this.#options.maxLoaded;
    for (const loaded of [...this.#loaded.values()]) {
      if (excess <= 0) return;
      if (loaded.active > 0 || this.#wanted.has(loaded.domain) || (loaded.inUse && now - loaded.lastUse < this.#options.minResidencyMs) || busy(loaded.instance.services) || workDue(loaded.instance.services, now)) continue;
      void this.unload(loaded.domain);
      excess--;
    }
  }

  /** How many more instances the scheduler may wake now without going over the cap (after making room). */
  room(): number {
    this.#evictBeyondCap();
    return Math.max(0, this.#options.maxLoaded - this.#count());
  }

  /**
   * Unloads every instance idle for `idleMs` with nothing due now, and those
   * whose due work has run a whole `workSliceMs` past that; returns how many.
   */
  async unloadIdle(now = Date.now()): Promise<number> {
    let count = 0;
    for (const loaded of [...this.#loaded.values()]) {
      const { services } = loaded.instance;
      if (loaded.active > 0 || this.#wanted.has(loaded.domain) || now - loaded.lastUse < this.#options.idleMs || busy(services)) continue;
      if (now - loaded.lastUse < this.#options.idleMs + this.#options.workSliceMs && workDue(services, now)) continue;
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
      // Work still due (its slice ended): in line behind the instances already waiting, not ahead of them.
      if (wakeAt !== null) wakeAt = Math.max(wakeAt, Date.now());
      try {
        await loaded.instance.close();
      } catch (error) {
        this.#options.log.error({ err: error, instance: domain }, "host: instance did not close cleanly");
      }
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

/** A periodic task running now: an instance is never unloaded in the middle of one. */
function busy({ jobs }: Services): boolean {
  return !!jobs && jobs.running > 0;
}

/** Queue messages or outbox rows due now. */
function workDue({ db }: Services, now = Date.now()): boolean {
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
