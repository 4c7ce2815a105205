// A real host process (`node src/host/main.ts`) for tests, with the CLI on
// its data, its operator's page (which instances are loaded) and its registry.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { request } from "undici";
import { WebSession } from "./browser-session.ts";
import { eventually, freePort, PASSWORD, queryDatabase, stopProcess } from "./instances.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
export const OPERATOR_TOKEN = "operator-token-for-tests-0123456789";

type CliResult = { status: number | null; stdout: string; stderr: string };

export interface Host {
  port: number;
  hostData: string;
  env: NodeJS.ProcessEnv;
  cli(args: string[]): CliResult;
  cliAsync(args: string[]): Promise<CliResult>;
  /** The process's output, for diagnosing a failed test. */
  output: string[];
  /** Whether this host has the instance loaded, as its operator's page says. */
  loaded(domain: string): Promise<boolean>;
  registryRow(domain: string): { state: string; last_activity_at: number | null; next_wake_at: number | null } | undefined;
  /** Adds an instance on this loopback address and the host's port (`host add`). */
  add(address: string, name: string, extra?: string[]): HostedTestInstance;
  stop(): Promise<void>;
}

export interface HostedTestInstance {
  domain: string;
  origin: string;
  dataDir: string;
  setupUrl: string | null;
  addMember(username: string, password?: string): void;
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[];
}

/**
 * Starts a host (listening on `env.HOST`, 127.0.0.1 by default). `prepare`
 * adds instances before it starts, so that each finds the others at its first
 * wake-up. The caller stops it (`stop()`, e.g. in `t.teardown`); it never
 * outlives the test process.
 */
export async function startHost(options: { hostData?: string; port?: number; env?: NodeJS.ProcessEnv; prepare?: (host: Host) => void } = {}): Promise<Host> {
  const port = options.port ?? (await freePort());
  const hostData = options.hostData ?? mkdtempSync(join(tmpdir(), "coopol-host-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    COOPOL_HOST_DATA: hostData,
    HOST: "127.0.0.1",
    PORT: String(port),
    COOPOL_ALLOW_PRIVATE_ADDRESS: "true",
    COOPOL_HOST_ADMIN_TOKEN: OPERATOR_TOKEN,
    COOPOL_HOST_SWEEP_SECONDS: "1",
    COOPOL_HOST_WAKE_KEEP_SECONDS: "1",
    LOG_LEVEL: process.env.COOPOL_TEST_LOG ?? "warn",
    ...options.env,
  };
  const cliArgs = (args: string[]) => [join(ROOT, "src/cli/main.ts"), ...args];
  const output: string[] = [];
  let child: ChildProcess | null = null;
  let operator: Promise<WebSession> | null = null;
  const host: Host = {
    port,
    hostData,
    env,
    output,
    cli(args) {
      const r = spawnSync(process.execPath, cliArgs(args), { env, encoding: "utf8" });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    cliAsync: (args) =>
      new Promise((resolve) => {
        const c = spawn(process.execPath, cliArgs(args), { env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        c.stdout.on("data", (d: Buffer) => (stdout += d));
        c.stderr.on("data", (d: Buffer) => (stderr += d));
        c.on("exit", (status) => resolve({ status, stdout, stderr }));
      }),
    async loaded(domain) {
      // Logged in once, by the first of concurrent calls.
      operator ??= (async () => {
        const session = new WebSession(`http://127.0.0.1:${port}`);
        await session.post("/host/login", { token: OPERATOR_TOKEN }, { csrf: false });
        return session;
      })();
      const row = (await (await operator).get("/host")).body.split("<tr>").find((r) => r.includes(`>${domain}<`));
      if (!row) throw new Error(`${domain} not listed`);
      return row.includes("chargée");
    },
    registryRow(domain) {
      const db = new Database(join(hostData, "host.sqlite"), { readonly: true });
      try {
        return db.prepare("select state, last_activity_at, next_wake_at from instances where domain = ?").get(domain) as never;
      } finally {
        db.close();
      }
    },
    add(address, name, extra = []) {
      const domain = `${address}:${port}`;
      const added = host.cli(["host", "add", "--domain", `http://${domain}`, "--name", name, ...extra]);
      if (added.status !== 0) throw new Error(`host add ${domain}: ${added.stderr}`);
      const dataDir = join(hostData, "instances", domain);
      return {
        domain,
        origin: `http://${domain}`,
        dataDir,
        setupUrl: /(http:\/\/\S+\/setup\/\S+)/.exec(added.stdout)?.[1] ?? null,
        addMember(username, password = PASSWORD) {
          const file = join(hostData, `pw-${domain}-${username}`);
          writeFileSync(file, password, { mode: 0o600 });
          const result = host.cli(["member", "add", "--domain", domain, "--username", username, "--password-file", file]);
          if (result.status !== 0) throw new Error(`member add ${username}: ${result.stderr}`);
        },
        query: <T>(sql: string, ...params: unknown[]): T[] => queryDatabase<T>(dataDir, sql, ...params),
      };
    },
    stop: () => stopProcess(child),
  };
  options.prepare?.(host);
  const started = spawn(process.execPath, [join(ROOT, "src/host/main.ts")], { env, stdio: ["ignore", "pipe", "pipe"] });
  child = started;
  started.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  started.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  // Even when the test's set-up throws (no teardown then), the host does not outlive it.
  process.once("exit", () => started.kill("SIGKILL"));
  await eventually(async () => {
    if (started.exitCode !== null) throw new Error(`host exited: ${output.join("")}`);
    const res = await request(`http://127.0.0.1:${port}/healthz`).catch(() => null);
    await res?.body.dump();
    return res?.statusCode === 200 || res?.statusCode === 421;
  }, 20_000, "the host listens");
  return host;
}
