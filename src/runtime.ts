// How a server process runs: the Node options it needs and the one garbage
// collection after start-up (docs/performance.md). Used by src/main.ts, and by
// the benchmark's floor server so that both are measured the same way.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import type { FastifyInstance } from "fastify";
import { runInNewContext } from "node:vm";

/**
 * V8's young generation is otherwise sized from the heap limit V8 picks from
 * the machine's RAM (4 GiB here): it grows to 128 MiB during start-up and
 * under load and is never given back. 16 MiB semi-spaces keep it to 32 MiB
 * with no measurable cost in CPU; 8 MiB cost about 20 % more CPU per incoming
 * note, 4 MiB 20–30 % (docs/performance.md).
 */
const SERVER_NODE_OPTIONS = ["--max-semi-space-size=16"];
/** Set in the environment of the process that already runs with the options above. */
const READY = "COOPOL_NODE_OPTIONS_APPLIED";

/**
 * The server's Node options are applied by replacing this process with a Node
 * started with them (same process id, same standard streams), so that
 * `npm start`, the systemd unit, the tests and the benchmark, which all run
 * `node src/main.ts`, get them. The new process also gets Node's compile
 * cache from its first module on (NODE_COMPILE_CACHE), so that even this file
 * is read from the cache and Node's TypeScript stripper (a WebAssembly module,
 * about 13 MiB of memory) is never loaded once the cache is warm. Options
 * given on the command line come after ours and win. Where `process.execve`
 * is missing (Windows) or fails, the server runs in this process as it is.
 */
export function restartWithServerOptions(): void {
  if (process.env[READY]) {
    delete process.env[READY];
    return;
  }
  if (typeof process.execve !== "function") return;
  const cache = process.env.NODE_COMPILE_CACHE || join(tmpdir(), "node-compile-cache");
  try {
    process.execve(process.execPath, [process.execPath, ...SERVER_NODE_OPTIONS, ...process.execArgv, ...process.argv.slice(1)], {
      ...process.env,
      [READY]: "1",
      NODE_COMPILE_CACHE: cache,
    });
  } catch (error) {
    process.stderr.write(`Coopol: options Node non appliquées (${error instanceof Error ? error.message : String(error)})\n`);
  }
}

/**
 * One memory-reducing garbage collection once the instance is up: start-up
 * (loading modules, running migrations) leaves a young generation and an old
 * space full of garbage that an idle process never collects, about 200 MiB of
 * its resident memory. V8's `gc()` is reached through a fresh context rather
 * than exposed to every module. It takes about 0.1 s, after the first request
 * can already be answered.
 */
export function collectStartupGarbage(): void {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as (options: { type: string; execution: string; flavor: string }) => void;
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
  } catch {
    // Only memory is at stake.
  }
}

/**
 * After a burst of work the heap keeps its garbage the same way: an instance
 * that answered a few thousand requests stayed at 350–530 MiB once idle,
 * where one collection brings it back to about 170 MiB (docs/performance.md).
 * So when no request has been answered for `quietMs` and the heap has grown
 * by `growth` bytes since the last collection, one memory-reducing collection
 * runs (about 0.1 s, while nobody is waiting for an answer).
 */
export function collectGarbageWhenQuiet(app: FastifyInstance, options: QuietOptions = {}): () => void {
  const collector = quietCollector(options);
  app.addHook("onResponse", (_request, _reply, done) => {
    collector.answered();
    done();
  });
  return collector.stop;
}

export interface QuietOptions {
  quietMs?: number;
  checkMs?: number;
  growth?: number;
}

/** The same, told of each answer by the caller (the host's front server, src/host/main.ts). */
export function quietCollector({ quietMs = 10_000, checkMs = 5_000, growth = 32 * 1024 * 1024 }: QuietOptions = {}): { answered: () => void; stop: () => void } {
  let lastAnswer = Date.now();
  let afterCollection = getHeapStatistics().total_heap_size;
  const timer = setInterval(() => {
    if (Date.now() - lastAnswer < quietMs) return;
    if (getHeapStatistics().total_heap_size - afterCollection < growth) return;
    collectStartupGarbage();
    afterCollection = getHeapStatistics().total_heap_size;
  }, checkMs);
  timer.unref();
  return {
    answered: () => {
      lastAnswer = Date.now();
    },
    stop: () => clearInterval(timer),
  };
}
