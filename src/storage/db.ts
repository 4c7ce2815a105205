// Opens the instance's single SQLite file and brings its schema up to date.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import { readMigrationFiles, type MigrationMeta } from "drizzle-orm/migrator";
import * as schema from "./schema.ts";

/** The database or a transaction on it: domain functions accept either. */
export type Db = BaseSQLiteDatabase<"sync", Database.RunResult, typeof schema>;
/** The opened database, with its better-sqlite3 handle. */
export type OpenDb = Db & { $client: Database.Database };

/** How many distinct SQL texts keep their prepared statement (least recently used ones are dropped). */
export const STATEMENT_CACHE_SIZE = 500;

/**
 * Makes `prepare` reuse the statement already prepared for the same SQL text.
 * drizzle prepares every query again (SQLite parses and plans it each time:
 * about 6–8 % of the CPU of an incoming note or a WebFinger request, see
 * docs/performance.md). A statement is only ever used synchronously, so
 * sharing it is safe; drizzle switches a statement to "raw" (array) rows
 * when it wants them, so each reuse starts back in object mode, as a new
 * statement would.
 */
function cacheStatements(sqlite: Database.Database, size = STATEMENT_CACHE_SIZE): void {
  const prepare = sqlite.prepare.bind(sqlite);
  const cache = new Map<string, Database.Statement>();
  sqlite.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (statement) {
      // Most recently used last, so that the first entry is the one to drop.
      cache.delete(source);
      if (statement.reader) statement.raw(false);
    } else {
      statement = prepare(source);
      if (cache.size >= size) cache.delete(cache.keys().next().value!);
    }
    cache.set(source, statement);
    return statement;
  }) as Database.Database["prepare"];
}

/**
 * Transactions begin IMMEDIATE (they take the write lock at once) unless a
 * caller asks otherwise. The admin CLI and backups open the same file from
 * another process: a deferred transaction that has read, then tries to write
 * after the other process wrote, fails at once with SQLITE_BUSY_SNAPSHOT,
 * which the busy timeout does not wait out. Within the server's one
 * connection this changes nothing.
 */
function beginImmediately(db: ReturnType<typeof drizzle<typeof schema>>): void {
  const transaction = db.transaction.bind(db);
  db.transaction = ((run, config) => transaction(run, { behavior: "immediate", ...config })) as typeof db.transaction;
}

/**
 * What identifies one database whether `db` is the database or a transaction
 * on it: drizzle gives both the same session object (an internal field).
 */
export function sessionOf(db: Db): object {
  return (db as unknown as { session: object }).session;
}

/**
 * Text as searches compare it: lower case, without accents (« Hélène » →
 * « helene »). SQLite's lower() and LIKE fold ASCII only, so the same function
 * is given to SQL as `fold()` (the member search, members/manage.ts).
 */
export function fold(text: string | null): string {
  return text ? text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase() : "";
}

const MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), "../../schema/migrations");

/** The migration files, read and hashed once per process: a host opens databases many times a day (5 ms each time). */
let migrations: MigrationMeta[] | undefined;

/**
 * What drizzle's `migrate()` does (better-sqlite3/migrator), with the files
 * read once: each migration not yet applied runs, in one transaction.
 */
function migrateDatabase(db: ReturnType<typeof drizzle<typeof schema>>): void {
  migrations ??= readMigrationFiles({ migrationsFolder: MIGRATIONS });
  const internals = db as unknown as { dialect: { migrate(m: MigrationMeta[], session: unknown, config: object): void }; session: unknown };
  internals.dialect.migrate(migrations, internals.session, { migrationsFolder: MIGRATIONS });
}

export function openDatabase(file: string): OpenDb {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const sqlite = new Database(file);
  // WAL lets readers run while the queue worker writes; NORMAL sync is safe with WAL.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("foreign_keys = ON");
  sqlite.pragma("busy_timeout = 5000");
  cacheStatements(sqlite);
  sqlite.function("fold", { deterministic: true }, (text) => fold(typeof text === "string" ? text : null));
  const db = drizzle(sqlite, { schema });
  beginImmediately(db);
  migrateDatabase(db);
  return db;
}
