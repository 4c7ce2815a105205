// Fedify's key–value store on the instance's own SQLite file (table fedify_kv).
// Fedify keeps there what it must remember between requests and restarts:
// ids of activities already processed, cached remote documents and keys.
import type { KvKey, KvStore, KvStoreListEntry, KvStoreSetOptions } from "@fedify/fedify";
import type Database from "better-sqlite3";
import type { Logger } from "pino";
import { millisecondsOf } from "./time.ts";
import { repeat, type JobClock } from "../jobs.ts";

/** How often expired entries are deleted from fedify_kv. */
export const KV_PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Keys are stored as their JSON text: ["a","b"] becomes '["a","b"]'. A prefix
 * ["a"] then matches exactly the keys whose text starts with '["a",' — never
 * ["ab"] — so a range scan on the primary key lists it.
 */
function encode(key: KvKey): string {
  return JSON.stringify(key);
}

export class SqliteKvStore implements KvStore {
  readonly #get: Database.Statement<[string, number], { value: string }>;
  readonly #set: Database.Statement<[string, string, number | null]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #range: Database.Statement<[string, string, number], { key: string; value: string }>;
  readonly #purge: Database.Statement<[number]>;
  readonly #cas: (key: string, expected: unknown, value: string, expiresAt: number | null) => boolean;

  constructor(db: Database.Database) {
    this.#get = db.prepare("select value from fedify_kv where key = ? and (expires_at is null or expires_at > ?)");
    this.#set = db.prepare(
      "insert into fedify_kv (key, value, expires_at) values (?, ?, ?) on conflict (key) do update set value = excluded.value, expires_at = excluded.expires_at",
    );
    this.#delete = db.prepare("delete from fedify_kv where key = ?");
    this.#range = db.prepare(
      "select key, value from fedify_kv where key >= ? and key < ? and (expires_at is null or expires_at > ?) order by key",
    );
    this.#purge = db.prepare("delete from fedify_kv where expires_at is not null and expires_at <= ?");
    // Compare-and-swap in one transaction: better-sqlite3 is synchronous, so
    // nothing else in this process runs between the read and the write.
    this.#cas = db.transaction((key: string, expected: unknown, value: string, expiresAt: number | null) => {
      const row = this.#get.get(key, Date.now());
      const current = row ? JSON.parse(row.value) : undefined;
      if (JSON.stringify(current) !== JSON.stringify(expected)) return false;
      this.#set.run(key, value, expiresAt);
      return true;
    });
  }

  get<T = unknown>(key: KvKey): Promise<T | undefined> {
    const row = this.#get.get(encode(key), Date.now());
    return Promise.resolve(row ? (JSON.parse(row.value) as T) : undefined);
  }

  set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void> {
    this.#set.run(encode(key), JSON.stringify(value), expiry(options));
    return Promise.resolve();
  }

  delete(key: KvKey): Promise<void> {
    this.#delete.run(encode(key));
    return Promise.resolve();
  }

  cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean> {
    return Promise.resolve(this.#cas(encode(key), expectedValue, JSON.stringify(newValue), expiry(options)));
  }

  async *list(prefix?: KvKey): AsyncIterable<KvStoreListEntry> {
    // '[' … '\uffff' covers every key; for a prefix, '["a",' … '["a",\uffff'.
    const start = prefix ? `${encode(prefix).slice(0, -1)},` : "[";
    const rows = this.#range.all(start, `${start}\uffff`, Date.now());
    if (prefix) {
      const exact = this.#get.get(encode(prefix), Date.now());
      if (exact) yield { key: prefix, value: JSON.parse(exact.value) };
    }
    for (const row of rows) yield { key: JSON.parse(row.key) as KvKey, value: JSON.parse(row.value) };
  }

  /** Removes expired entries (reads already ignore them); see purgeExpiredPeriodically(). */
  purgeExpired(now = Date.now()): number {
    return this.#purge.run(now).changes;
  }
}

function expiry(options?: KvStoreSetOptions): number | null {
  return options?.ttl ? Date.now() + millisecondsOf(options.ttl) : null;
}

/**
 * Deletes expired entries now, then every `intervalMs` (an hour by default),
 * until the returned function is called. The timer does not keep the process
 * alive. Without it the table only grows: reads skip expired rows but nothing
 * else removes them.
 */
export function purgeExpiredPeriodically(kv: SqliteKvStore, log: Logger, intervalMs = KV_PURGE_INTERVAL_MS, clock?: JobClock): () => void {
  return repeat(log, "kv purge", intervalMs, () => {
    const purged = kv.purgeExpired();
    if (purged > 0) log.debug({ purged }, "kv: expired entries removed");
  }, clock, false);
}
