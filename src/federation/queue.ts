// Fedify's persistent message queue on the instance's SQLite file (table
// fedify_queue): outgoing deliveries and incoming activities wait here, so a
// stopped process or an unreachable server loses nothing.
//
// A message is deleted only once its handler has finished. One that fails is
// put back with a delay; one held by a process that died is released when the
// next process starts listening. Fedify adds its own retry policy on top
// (nativeRetrial = false): it re-enqueues failed deliveries with back-off.
import type { MessageQueue, MessageQueueDepth, MessageQueueEnqueueOptions, MessageQueueListenOptions } from "@fedify/fedify";
import type Database from "better-sqlite3";
import type { Logger } from "pino";
import { millisecondsOf } from "./time.ts";

export interface SqliteMessageQueueOptions {
  /** How often to look for delayed messages that came due. */
  pollIntervalMs?: number;
  /** How many messages are handled at once. */
  concurrency?: number;
  logger?: Logger;
}

type Row = { id: number; message: string; ordering_key: string | null };

const FAILURE_DELAY_MS = 5_000;

/**
 * Ordering keys starting with this mark housekeeping deliveries (a
 * fédération's list of sections, a directory notice: hundreds at once, and
 * nothing waits on them): taken only when no other message is due, so a
 * campaign or a post sent meanwhile does not queue behind them. Fedify keeps
 * a message's key on its retries and on the deliveries a fan-out makes.
 */
export const BACKGROUND_KEY_PREFIX = "background:";
/**
 * How long a stopping worker waits for the messages in progress. A delivery
 * to a server that accepts the connection and never answers waits for
 * undici's 5-minute timeout; stopping must not (a host unloading an instance,
 * a restart). Messages still running stay marked held and are released at the
 * next start, so they run again then (an activity sent twice is ignored by
 * its id).
 */
const STOP_GRACE_MS = 3_000;

/**
 * Whether deliveries of background lane `lane` are due or in progress (retries
 * set for later do not count: a dead server must not hold the lane for days).
 */
export function backgroundGoingOut(db: Database.Database, lane: string, now = Date.now()): boolean {
  const prefix = `${BACKGROUND_KEY_PREFIX}${lane}`;
  return !!db
    .prepare("select 1 from fedify_queue where substr(ordering_key, 1, ?) = ? and (locked_at is not null or available_at <= ?) limit 1")
    .get(prefix.length, prefix, now);
}

/**
 * SQLite's write lock can be held longer than the busy timeout by another
 * process on the same file (the admin CLI, a backup, a VACUUM). The worker
 * then waits and tries again instead of stopping: an uncaught error here
 * would end the whole instance.
 */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
}

export class SqliteMessageQueue implements MessageQueue {
  readonly nativeRetrial = false;
  readonly #insert: Database.Statement<[string, string | null, number]>;
  readonly #take: { get(lockedAt: number, now: number): Row | undefined };
  readonly #done: Database.Statement<[number]>;
  readonly #retry: Database.Statement<[number, number]>;
  readonly #release: Database.Statement<[]>;
  readonly #depth: Database.Statement<[number], { queued: number; ready: number }>;
  readonly #insertMany: (messages: readonly unknown[], orderingKey: string | null, availableAt: number) => void;
  readonly #pollIntervalMs: number;
  readonly #concurrency: number;
  readonly #log?: Logger;
  #wake: (() => void) | null = null;

  constructor(db: Database.Database, options: SqliteMessageQueueOptions = {}) {
    this.#pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.#concurrency = options.concurrency ?? 4;
    this.#log = options.logger;
    this.#insert = db.prepare("insert into fedify_queue (message, ordering_key, available_at) values (?, ?, ?)");
    // Takes the oldest due message whose ordering key no other held message
    // shares, and marks it held, in one statement: one statement per lane
    // (the background lane's only when the other has nothing due), each a
    // scan in due order that stops at the first message it may take.
    const take = (lane: string) =>
      db.prepare<[number, number], Row>(`
        update fedify_queue set locked_at = ?
        where id = (
          select q.id from fedify_queue q
          where q.locked_at is null and q.available_at <= ?
            and ${lane}
            and (q.ordering_key is null or not exists (
              select 1 from fedify_queue o
              where o.ordering_key = q.ordering_key and (o.locked_at is not null or o.id < q.id)))
          order by q.available_at, q.id
          limit 1)
        returning id, message, ordering_key`);
    const background = `substr(q.ordering_key, 1, ${BACKGROUND_KEY_PREFIX.length}) = '${BACKGROUND_KEY_PREFIX}'`;
    const [first, last] = [take(`(q.ordering_key is null or not ${background})`), take(background)];
    this.#take = { get: (lockedAt: number, now: number) => first.get(lockedAt, now) ?? last.get(lockedAt, now) };
    this.#done = db.prepare("delete from fedify_queue where id = ?");
    this.#retry = db.prepare("update fedify_queue set locked_at = null, available_at = ? where id = ?");
    this.#release = db.prepare("update fedify_queue set locked_at = null where locked_at is not null");
    this.#depth = db.prepare(
      "select count(*) as queued, coalesce(sum(case when available_at <= ? then 1 else 0 end), 0) as ready from fedify_queue",
    );
    this.#insertMany = db.transaction((messages: readonly unknown[], orderingKey: string | null, availableAt: number) => {
      for (const message of messages) this.#insert.run(JSON.stringify(message), orderingKey, availableAt);
    });
  }

  enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    return this.enqueueMany([message], options);
  }

  enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    const delay = options?.delay ? Math.max(0, millisecondsOf(options.delay)) : 0;
    this.#insertMany(messages, options?.orderingKey ?? null, Date.now() + delay);
    this.#wake?.();
    return Promise.resolve();
  }

  getDepth(): Promise<MessageQueueDepth> {
    const row = this.#depth.get(Date.now())!;
    return Promise.resolve({ queued: row.queued, ready: row.ready, delayed: row.queued - row.ready });
  }

  async listen(handler: (message: unknown) => Promise<void> | void, options: MessageQueueListenOptions = {}): Promise<void> {
    const { signal } = options;
    // This process is the only worker on this file: whatever is still marked
    // held was held by a process that stopped, and must run again.
    const released = this.#release.run().changes;
    if (released) this.#log?.info({ released }, "queue: released messages held by a stopped process");
    const running = new Set<Promise<void>>();

    // Writes that must happen (a handled message deleted, a failed one put
    // back): retried while the file is locked by another process.
    const persist = async (write: () => void) => {
      for (;;) {
        try {
          return write();
        } catch (error) {
          if (!isBusy(error)) throw error;
          this.#log?.warn("queue: database locked by another process, trying again");
          await new Promise((resolve) => setTimeout(resolve, this.#pollIntervalMs));
        }
      }
    };
    const run = async (row: Row) => {
      let handled = false;
      try {
        await handler(JSON.parse(row.message));
        handled = true;
      } catch (error) {
        this.#log?.warn({ err: error, id: row.id }, "queue: message failed, retrying later");
      }
      try {
        if (handled) await persist(() => this.#done.run(row.id));
        else await persist(() => this.#retry.run(Date.now() + FAILURE_DELAY_MS, row.id));
      } catch (error) {
        // Finished after the worker stopped waiting: the database may be closed; the row is released at the next start.
        if (!signal?.aborted) throw error;
      }
    };

    while (!signal?.aborted) {
      while (running.size < this.#concurrency) {
        let row: Row | undefined;
        try {
          row = this.#take.get(Date.now(), Date.now());
        } catch (error) {
          if (!isBusy(error)) throw error;
          // Locked by another process: look again after the poll interval.
          this.#log?.warn("queue: database locked by another process, trying again");
          break;
        }
        if (!row) break;
        const task = run(row).finally(() => {
          running.delete(task);
          this.#wake?.();
        });
        running.add(task);
      }
      // Sleep until an enqueue, a finished task, the poll interval or the abort.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, this.#pollIntervalMs);
        const onAbort = () => done();
        signal?.addEventListener("abort", onAbort, { once: true });
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = null;
    }
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(running), new Promise((resolve) => (grace = setTimeout(resolve, STOP_GRACE_MS)))]);
    clearTimeout(grace);
    if (running.size) this.#log?.info({ running: running.size }, "queue: stopped with messages still in progress; they run again at the next start");
  }
}
