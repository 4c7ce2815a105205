// Time-sortable ids: milliseconds since the epoch × 1024 + a counter. They fit in
// 53 bits until the year 2248, so JavaScript numbers and SQLite integers hold them
// exactly, and "newer" is "larger", as Mastodon's pagination (max_id, since_id) expects.
let lastMs = 0;
let sequence = 0;

export function newId(at: number = Date.now()): number {
  if (at > lastMs) {
    lastMs = at;
    sequence = 0;
  } else if (++sequence >= 1024) {
    // More than 1024 ids in one millisecond: borrow the next millisecond.
    lastMs += 1;
    sequence = 0;
  }
  return lastMs * 1024 + sequence;
}

/** The smallest id that can have been made at or after the given time. */
export function idAt(ms: number): number {
  return ms * 1024;
}
