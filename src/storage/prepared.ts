// Queries on the hot paths (each incoming activity runs several) built once.
// drizzle otherwise builds a query's SQL text from its builder on every call,
// which cost more CPU than SQLite running it (docs/performance.md).
import type { OpenDb } from "./db.ts";

/**
 * A drizzle query prepared once per opened database (`.prepare()` with
 * `sql.placeholder` values) and reused. It must be built on the database
 * itself, not on a transaction; it may run inside a transaction on that
 * database, since better-sqlite3 uses one connection.
 */
export function preparedOnce<Q>(build: (db: OpenDb) => Q): (db: OpenDb) => Q {
  const byDatabase = new WeakMap<OpenDb, Q>();
  return (db) => {
    let query = byDatabase.get(db);
    if (!query) {
      query = build(db);
      byDatabase.set(db, query);
    }
    return query;
  };
}
