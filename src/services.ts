// What every layer receives: configuration, storage, logging and federation.
// Routes and inbox listeners get it as their context; domain functions take it
// (or just `db`) as their first argument, so tests can call them directly.
import type { Federation } from "@fedify/fedify";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import type { OpenDb } from "./storage/db.ts";
import type { SqliteKvStore } from "./federation/kv.ts";
import type { EventBus } from "./events.ts";
import type { JobClock } from "./jobs.ts";
import type { ActorRow } from "./federation/actors.ts";

export interface Services {
  config: Config;
  db: OpenDb;
  log: Logger;
  kv: SqliteKvStore;
  federation: Federation<Services>;
  events: EventBus;
  /** Host mode: the clock of the periodic tasks (src/jobs.ts); absent for a standalone instance. */
  jobs?: JobClock;
  /** Other servers' actors (src/federation/remote.ts `remoteActors`): domain code asks here, never importing the federation layer. */
  remote: RemoteActors;
}

/** Looks actors up on other servers, and stores them as rows of `actors`. */
export interface RemoteActors {
  /** What a person typed: `@name@host`, `name@host`, a profile address, or a local name. Null when not found. */
  lookup(text: string, options?: { resolve?: boolean; refresh?: boolean; httpTimeoutMs?: number }): Promise<ActorRow | null>;
  /** An actor by its URI: the stored row, fetched when unknown (or again with `refresh`). Null when it cannot be read. */
  resolve(uri: string | URL, options?: { refresh?: boolean }): Promise<ActorRow | null>;
}
