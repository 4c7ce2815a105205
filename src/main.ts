// `npm start`: reads the configuration, opens ./data, serves the instance.
import { enableCompileCache } from "node:module";
import { ConfigError, loadConfig } from "./config.ts";
import { speedUpModuleResolution } from "./module-resolution.ts";
import { collectGarbageWhenQuiet, collectStartupGarbage, restartWithServerOptions } from "./runtime.ts";

restartWithServerOptions();

// Node keeps compiled modules on disk between starts: about 0.2 s less per start
// (see docs/performance.md). Already on when NODE_COMPILE_CACHE is set (above);
// otherwise enabled here, before the application's modules load.
enableCompileCache();
speedUpModuleResolution();
const { createInstance } = await import("./app.ts");

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
  collectGarbageWhenQuiet(instance.app);
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
