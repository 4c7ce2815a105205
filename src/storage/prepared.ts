// Queries on the hot paths (each incoming activity runs several, each web page
// its session and layout reads) built once. drizzle otherwise builds a query's
// SQL text from its builder on every call, which cost more CPU than SQLite
// running it (docs/performance.md).
import { sessionOf, type Db } from "./db.ts";

/**
 * A drizzle query prepared once per opened database (`.prepare()` with
 * `sql.placeholder` values) and reused. It may be asked for with the database
 * or a transaction on it: both share drizzle's session and better-sqlite3's one
 * connection, so the statement is the same and runs inside the transaction.
 */
export function preparedOnce<Q>(build: (db: Db) => Q): (db: Db) => Q {
  const bySession = new WeakMap<object, Q>();
  return (db) => {
    const session = sessionOf(db);
    let query = bySession.get(session);
    if (!query) {
      query = build(db);
      bySession.set(session, query);
    }
    return query;
  };
}
