// `npm start`: reads the configuration, opens ./data, serves the instance.
import { enableCompileCache } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { ConfigError, loadConfig } from "./config.ts";
import { speedUpModuleResolution } from "./module-resolution.ts";

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
function restartWithServerOptions(): void {
  if (process.env[READY] || typeof process.execve !== "function") return;
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

restartWithServerOptions();
delete process.env[READY];

// Node keeps compiled modules on disk between starts: about 0.2 s less per start
// (see docs/performance.md). Already on when NODE_COMPILE_CACHE is set (above);
// otherwise enabled here, before the application's modules load.
enableCompileCache();
speedUpModuleResolution();
const { createInstance } = await import("./app.ts");

/**
 * One memory-reducing garbage collection once the instance is up: start-up
 * (loading modules, running migrations) leaves a young generation and an old
 * space full of garbage that an idle process never collects, about 200 MiB of
 * its resident memory. V8's `gc()` is reached through a fresh context rather
 * than exposed to every module. It takes about 0.1 s, after the first request
 * can already be answered.
 */
function collectStartupGarbage(): void {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as (options: { type: string; execution: string; flavor: string }) => void;
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
  } catch {
    // Only memory is at stake.
  }
}

/** A configuration problem ends the process with one sentence and code 2. */
async function orRefuse<T>(step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Coopol ne peut pas démarrer : ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = await orRefuse(() => loadConfig());
  const started = performance.now();
  const instance = await orRefuse(() => createInstance(config));
  const address = await instance.listen();
  setTimeout(collectStartupGarbage, 200).unref();
  const { log } = instance.services;
  log.info({ address, origin: config.origin, kind: config.kind, ms: Math.round(performance.now() - started) }, "Coopol instance started");
  if (instance.setupUrl) {
    // Printed plainly too: the person installing reads the terminal, not JSON logs.
    log.info({ setupUrl: instance.setupUrl }, "first-run link: open it to create the secretary account");
    process.stdout.write(
      `\n  Première installation : ouvrez ce lien pour créer le compte du ou de la secrétaire\n  First run: open this link to create the secretary's account\n\n  ${instance.setupUrl}\n\n`,
    );
  }
  const stop = async (signal: string) => {
    log.info({ signal }, "stopping");
    await instance.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error) => {
  process.stderr.write(`Coopol s'est arrêté sur une erreur : ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.LOG_LEVEL === "debug") console.error(error);
  process.exit(1);
});
