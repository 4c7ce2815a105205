// Assembles one instance: database, federation, web pages, and the queue
// worker. main.ts starts it for `npm start`; tests start several of them.
import { join } from "node:path";
import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { ConfigError, type Config } from "./config.ts";
import { findUserByUsername } from "./members/members.ts";
import { registerFederationBridge } from "./federation/bridge.ts";
import { buildFederation } from "./federation/federation.ts";
import { ensureInstanceActors } from "./federation/actors.ts";
import { purgeExpiredPeriodically, SqliteKvStore } from "./federation/kv.ts";
import { configureFedifyLogging } from "./federation/logging.ts";
import { SqliteMessageQueue } from "./federation/queue.ts";
import { startOutboxWorker } from "./federation/outbox-worker.ts";
import { prepareFirstRun } from "./members/setup.ts";
import type { Services } from "./services.ts";
import { remoteActors } from "./federation/remote.ts";
import { openDatabase } from "./storage/db.ts";
import { registerWeb } from "./web/index.ts";
import { registerDirectoryDocument } from "./web/routes/party.ts";
import { EventBus } from "./events.ts";
import { databaseJobClock, repeat } from "./jobs.ts";
import { REMINDER_ROUND_MS, runReminders } from "./agenda/reminders.ts";
import { closeEndedPolls } from "./polls/polls.ts";
import { registerMastodonApi } from "./mastodon/index.ts";
import { registerMediaFiles } from "./media/routes.ts";
import { syncDeclaredLinks } from "./territory/links.ts";
import { startTerritoryJobs } from "./territory/sync.ts";
import { startGroupDiscovery } from "./groups/discovery.ts";
import { recheckAttestedMembers } from "./groups/groups.ts";
import { startPush } from "./notifications/push.ts";
import { sendDigests } from "./notifications/digest.ts";
import { pinOutboundConnections } from "./outbound.ts";
import { jsonTooDeep, MAX_JSON_DEPTH } from "./bounds.ts";
import { UserError } from "./errors.ts";

export interface Instance {
  app: FastifyInstance;
  services: Services;
  /** The one-time link to create the first account, while there is none. */
  setupUrl: string | null;
  /** Starts the queue worker and the periodic jobs (host mode: without listening). */
  start(): void;
  /** Listens on config.host:config.port, then start()s. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface InstanceOptions {
  logger?: Logger;
  /**
   * Host mode (src/host) configures Fedify's process-wide logging once itself,
   * and makes the first-run link when it adds an instance, not at each load
   * (a new link at every lazy load would void the one printed).
   */
  hosted?: boolean;
}

export async function createInstance(config: Config, options: InstanceOptions = {}): Promise<Instance> {
  const log = options.logger ?? pino({ level: config.logLevel });
  if (!options.hosted) configureFedifyLogging(log, config.logLevel);
  // Every outgoing fetch (Fedify's too) connects to public addresses only, checked as it connects.
  pinOutboundConnections(config.allowPrivateAddress);
  const db = openDatabase(join(config.dataDir, "coopol.sqlite"));
  const kv = new SqliteKvStore(db.$client);
  const queue = new SqliteMessageQueue(db.$client, { logger: log });
  const federation = buildFederation(config, kv, queue, log);
  const services: Services = { config, db, log, kv, federation, events: new EventBus(), jobs: options.hosted ? databaseJobClock(db) : undefined, remote: remoteActors(() => services) };
  // The section's handle must not be a member's username (it would take over their account).
  if (findUserByUsername(db, config.handle)) {
    db.$client.close();
    throw new ConfigError(`COOPOL_HANDLE « ${config.handle} » est déjà le nom d'utilisateur d'un membre : choisissez un autre nom pour la section.`);
  }
  ensureInstanceActors(db, config);
  syncDeclaredLinks(db, config);

  const app = Fastify({
    // pino's Logger is what fastify wraps; its types disagree on a detail only.
    // Request lines only at debug level: a small instance's log stays readable.
    loggerInstance: log.child({ component: "http" }, { level: log.level === "debug" || log.level === "trace" ? log.level : "warn" }) as unknown as FastifyBaseLogger,
    bodyLimit: config.bodyLimit,
    // Only a reverse proxy on this machine (or one named in COOPOL_TRUSTED_PROXIES) may say who the client is (X-Forwarded-For).
    trustProxy: config.trustedProxies,
    // `/api/v1/instance/` is `/api/v1/instance`, as Mastodon's router has it
    // (some client libraries add the slash); harmless for the web pages too.
    routerOptions: { ignoreTrailingSlash: true },
  });
  limitJsonDepth(app);
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: config.bodyLimit });
  registerFederationBridge(app, services);
  await registerWeb(app, services);
  await registerMastodonApi(app, services);
  registerMediaFiles(app, services);
  app.get("/healthz", () => ({ status: "ok" }));
  registerDirectoryDocument(app, services);

  const setupUrl = options.hosted ? null : prepareFirstRun(db, config);
  const worker = new AbortController();
  let queueDone: Promise<void> | null = null;
  let stopPurging: (() => void) | null = null;
  let stopReminders: (() => void) | null = null;
  let stopPolls: (() => void) | null = null;
  let stopTerritory: (() => void) | null = null;
  let stopDiscovery: (() => void) | null = null;
  let stopOutbox: (() => Promise<void>) | null = null;
  let stopPush: (() => void) | null = null;
  let stopDigests: (() => void) | null = null;
  let stopMembershipChecks: (() => void) | null = null;

  const instance: Instance = {
    app,
    services,
    setupUrl,
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      instance.start();
      return address;
    },
    start() {
      if (queueDone) return;
      queueDone = federation.startQueue(services, { signal: worker.signal });
      // What the last run recorded but did not hand to the queue goes out now.
      stopOutbox = startOutboxWorker(services);
      stopPurging = purgeExpiredPeriodically(kv, log, undefined, services.jobs);
      stopReminders = repeat(log, "event reminders", REMINDER_ROUND_MS, () => runReminders(services), services.jobs, false);
      stopPolls = repeat(log, "ended polls", 60_000, () => closeEndedPolls(services), services.jobs, false);
      stopTerritory = startTerritoryJobs(services);
      stopDiscovery = startGroupDiscovery(services);
      stopPush = startPush(services);
      stopDigests = repeat(log, "notification digests", 15 * 60_000, () => sendDigests(services), services.jobs, !!config.smtp);
      // A safety net (changes are pushed as they happen): not a reason to load an unloaded hosted instance.
      stopMembershipChecks = repeat(log, "membership re-checks", 15 * 60_000, () => recheckAttestedMembers(services), services.jobs, false);
    },
    async close() {
      worker.abort();
      stopPurging?.();
      stopReminders?.();
      stopPolls?.();
      stopTerritory?.();
      stopDiscovery?.();
      stopPush?.();
      stopDigests?.();
      stopMembershipChecks?.();
      await app.close();
      await stopOutbox?.();
      await queueDone?.catch(() => {});
      db.$client.close();
    },
  };
  return instance;
}

/**
 * fastify's JSON parser, after a scan of the body's nesting: a body nested
 * 200,000 levels deep parses, then overflows the stack of whatever walks it (a 500).
 */
function limitJsonDepth(app: FastifyInstance): void {
  // fastify's own protections stay as configured (prototype and constructor poisoning refused).
  const { onProtoPoisoning = "error", onConstructorPoisoning = "error" } = app.initialConfig;
  const parse = app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning);
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (jsonTooDeep(body as string)) return done(new UserError("json_too_deep", 400, { max: MAX_JSON_DEPTH }), undefined);
    parse(request, body as string, done);
  });
}
