// `npm run host`: one process serving every instance of the host's registry
// (docs/hosting.md). Configured by COOPOL_HOST_DATA, HOST, PORT,
// COOPOL_HOST_ADMIN_TOKEN and the host-wide COOPOL_* variables.
import { enableCompileCache } from "node:module";
import { ConfigError, loadHostConfig, pickHostWide } from "../config.ts";
import { speedUpModuleResolution } from "../module-resolution.ts";
import { collectStartupGarbage, quietCollector, restartWithServerOptions } from "../runtime.ts";

restartWithServerOptions();
enableCompileCache();
speedUpModuleResolution();

async function main(): Promise<void> {
  let config;
  try {
    config = loadHostConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`L'hébergement Coopol ne peut pas démarrer : ${error.message}\n`);
    process.exit(2);
  }
  const { createServer } = await import("node:http");
  const { default: pino } = await import("pino");
  const { configureFedifyLogging } = await import("../federation/logging.ts");
  const { pinOutboundConnections } = await import("../outbound.ts");
  const { loadConfig } = await import("../config.ts");
  const { Registry } = await import("./registry.ts");
  const { InstancePool } = await import("./pool.ts");
  const { createOperatorApp } = await import("./operator.ts");
  const { createRouter } = await import("./router.ts");
  const { startScheduler } = await import("./scheduler.ts");

  const log = pino({ level: config.logLevel });
  // Process-wide settings, once for every instance: Fedify's log goes into the
  // host's log, and outgoing connections follow the host-wide private-address rule.
  configureFedifyLogging(log, config.logLevel);
  pinOutboundConnections(loadConfig({ ...pickHostWide(process.env), COOPOL_DATA: config.dataDir }).allowPrivateAddress);

  const hostEnv = process.env;
  const registry = new Registry(config.dataDir);
  const pool = new InstancePool(registry, {
    hostEnv,
    log,
    idleMs: config.idleMs,
    maxLoaded: config.maxLoaded,
    ceiling: config.ceiling,
    minResidencyMs: config.minResidencyMs,
    workSliceMs: config.workSliceMs,
  });
  const operator = config.adminToken ? await createOperatorApp({ registry, pool, token: config.adminToken, log, hostEnv }) : null;
  const router = createRouter({ registry, pool, log, operator });
  const scheduler = startScheduler(pool, registry, { log, sweepMs: config.sweepMs, concurrency: config.wakeConcurrency, keepMs: config.wakeKeepMs });

  // Unloaded instances leave garbage that an idle process would keep: collected once quiet, as `npm start` does.
  const collector = quietCollector();
  const server = createServer((req, res) => {
    res.once("finish", collector.answered);
    router.request(req, res);
  });
  server.on("upgrade", router.upgrade);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.port, config.host, () => resolve());
  });
  setTimeout(collectStartupGarbage, 200).unref();
  log.info({ host: config.host, port: config.port, instances: registry.list().length }, "Coopol host started");
  void scheduler.sweep();

  const stop = async (signal: string) => {
    log.info({ signal }, "stopping");
    await scheduler.stop();
    collector.stop();
    server.close();
    server.closeAllConnections();
    await pool.closeAll();
    await operator?.close();
    registry.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error) => {
  process.stderr.write(`L'hébergement Coopol s'est arrêté sur une erreur : ${error instanceof Error ? error.message : String(error)}\n`);
  if (process.env.LOG_LEVEL === "debug") console.error(error);
  process.exit(1);
});
