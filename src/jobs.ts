// Small periodic tasks of an instance (purging caches, event reminders): run
// once at start, then every interval, on a timer that does not keep the process
// alive. A failure is logged and the next round runs as usual.
import type { Logger } from "pino";

export function repeat(log: Logger, name: string, intervalMs: number, task: () => unknown | Promise<unknown>): () => void {
  const run = async () => {
    try {
      await task();
    } catch (error) {
      log.warn({ err: error, job: name }, "periodic task failed");
    }
  };
  void run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
