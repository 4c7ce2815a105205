// Ids of activities that are not derived from an object's URI (an Accept, a
// group's Announce of a change, an Update of a profile…). Sent from an outbox
// row, they are derived from the row's id, so the same row sent again after a
// crash makes the same ids and receivers (Fedify's inbox idempotency) count it
// once. Elsewhere (activities relayed as they arrive) a fresh id is made.
import { AsyncLocalStorage } from "node:async_hooks";
import { newId } from "../storage/ids.ts";

const current = new AsyncLocalStorage<{ rowId: number; count: number }>();

/** Runs the sending of one outbox row: activityKey() is derived from `rowId` meanwhile. */
export function sendingRow<T>(rowId: number, send: () => Promise<T>): Promise<T> {
  return current.run({ rowId, count: 0 }, send);
}

/**
 * A unique part for an activity id. `salt` (e.g. the group's actor id when a
 * row makes one activity per group) keeps it stable whatever else the row sends;
 * without it, ids follow the order the row makes them in.
 */
export function activityKey(salt?: number | string): string {
  const row = current.getStore();
  if (!row) return String(newId());
  return salt === undefined ? `${row.rowId}-${row.count++}` : `${row.rowId}-${salt}`;
}
