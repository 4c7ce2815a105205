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

export interface Services {
  config: Config;
  db: OpenDb;
  log: Logger;
  kv: SqliteKvStore;
  federation: Federation<Services>;
  events: EventBus;
  /** Host mode: the clock of the periodic tasks (src/jobs.ts); absent for a standalone instance. */
  jobs?: JobClock;
}
