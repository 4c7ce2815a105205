// A consistent copy of an instance's database while its server runs.
import { closeSync, fsyncSync, openSync } from "node:fs";
import Database from "better-sqlite3";

/**
 * Copies the SQLite file `source` to `dest` (which must not exist) with
 * `VACUUM INTO`: one read transaction, so the copy is the database as it was
 * at one instant, even while the server writes (WAL lets both run). SQLite's
 * page-by-page backup API would start over each time the server commits, and
 * might never finish on a busy instance. The copy is compact and synced to
 * disk before this returns.
 */
export function snapshotDatabase(source: string, dest: string): void {
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    db.prepare("VACUUM INTO ?").run(dest);
  } finally {
    db.close();
  }
  const fd = openSync(dest, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
