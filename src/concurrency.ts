// Work on many remote servers at once, but only a few at a time: enough to
// hide each one's latency, few enough not to flood the process or the network.

/** Runs `run` on every item, at most `limit` at a time; resolves when all are done. */
export async function forEachAtMost<T>(items: Iterable<T>, limit: number, run: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
    }),
  );
}
