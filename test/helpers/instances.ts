// Starts real Coopol instances for tests: each one a separate Node process
// (`node src/main.ts`) with its own SQLite file and its own origin on
// 127.0.0.1, exactly as `npm start` runs it. Nothing is mocked.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { request } from "undici";
import { WebSession } from "./browser-session.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** Rows of a query on an instance's SQLite file (its data directory), read-only, while it runs. */
export function queryDatabase<T>(dataDir: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(join(dataDir, "coopol.sqlite"), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface TestInstance {
  name: string;
  origin: string;
  port: number;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** Output of the process, for diagnosing a failed test. */
  output: string[];
  setupUrl: string | null;
  /** The server's process id while it runs (to read its memory from /proc). */
  pid(): number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Kills the process at once (SIGKILL): a crash, nothing is closed cleanly. */
  crash(): Promise<void>;
  /** Runs the admin CLI against this instance's data. */
  cli(args: string[], stdin?: string): { status: number | null; stdout: string; stderr: string };
  addMember(username: string, role?: string, password?: string): void;
  /** A read-only handle on the instance's SQLite file. */
  query<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[];
}

export const PASSWORD = "correct horse battery";

/**
 * The environment of an instance on 127.0.0.1 (tests and benchmark): its own
 * port, origin and data directory, a name and handle, private addresses
 * allowed (the instances fetch each other's keys and actors there). `extra`
 * (e.g. COOPOL_KIND, COOPOL_CHILDREN) wins over these defaults.
 */
export function loopbackEnv(port: number, dataDir: string, name: string, handle: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: String(port),
    HOST: "127.0.0.1",
    COOPOL_ORIGIN: `http://127.0.0.1:${port}`,
    COOPOL_DATA: dataDir,
    COOPOL_NAME: name,
    COOPOL_HANDLE: handle.replace(/[^a-z0-9_]/g, "_"),
    COOPOL_ALLOW_PRIVATE_ADDRESS: "true",
    LOG_LEVEL: "warn",
    ...extra,
  };
}

export async function startInstance(name: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<TestInstance> {
  // A port given in advance lets nodes name each other before they start (COOPOL_PARENT…).
  const port = extraEnv.PORT ? Number(extraEnv.PORT) : await freePort();
  const origin = `http://127.0.0.1:${port}`;
  // A data directory given in advance lets a test start an instance on restored data (coopol import).
  const dataDir = extraEnv.COOPOL_DATA ?? mkdtempSync(join(tmpdir(), `coopol-${name}-`));
  const env = loopbackEnv(port, dataDir, `Section ${name}`, `section_${name}`, { LOG_LEVEL: process.env.COOPOL_TEST_LOG ?? "warn", ...extraEnv });
  let child: ChildProcess | null = null;
  const output: string[] = [];
  const instance: TestInstance = {
    name,
    origin,
    port,
    dataDir,
    env,
    output,
    setupUrl: null,
    pid: () => child?.pid,
    async start() {
      child = spawn(process.execPath, [join(ROOT, "src/main.ts")], { env, stdio: ["ignore", "pipe", "pipe"] });
      const collect = (chunk: Buffer) => {
        const text = chunk.toString();
        output.push(text);
        if (process.env.COOPOL_TEST_LOG) process.stderr.write(`[${name}] ${text}`);
        const link = /(http:\/\/\S+\/setup\/\S+)/.exec(text);
        if (link) instance.setupUrl = link[1]!;
      };
      child.stdout!.on("data", collect);
      child.stderr!.on("data", collect);
      // Generous: on a loaded 2-core machine (CI running two test files, each starting several
      // processes) a start has taken over 20 s; a healthy start takes about 1 s.
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`instance ${name} exited: ${output.join("")}`);
        try {
          const res = await request(`${origin}/healthz`);
          await res.body.dump();
          if (res.statusCode === 200) return;
        } catch {
          // not listening yet
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`instance ${name} did not start: ${output.join("")}`);
    },
    async stop() {
      await stopProcess(child);
      child = null;
    },
    async crash() {
      await stopProcess(child, "SIGKILL");
      child = null;
    },
    cli(args, stdin) {
      const result = spawnSync(process.execPath, [join(ROOT, "src/cli/main.ts"), ...args], { env, input: stdin ?? "", encoding: "utf8" });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    addMember(username, role = "member", password = PASSWORD) {
      const file = join(dataDir, `pw-${username}`);
      writeFileSync(file, password, { mode: 0o600 });
      const result = instance.cli(["member", "add", "--username", username, "--role", role, "--password-file", file]);
      if (result.status !== 0) throw new Error(`member add ${username}: ${result.stderr}`);
    },
    query: (sql, ...params) => queryDatabase(dataDir, sql, ...params),
  };
  await instance.start();
  return instance;
}

/** Stops a server process and waits for its exit: SIGTERM (then SIGKILL after 5 s), or SIGKILL at once. */
export async function stopProcess(running: ChildProcess | null, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
  if (!running || running.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    running.once("exit", () => resolve());
    running.kill(signal);
    if (signal === "SIGTERM") setTimeout(() => running.kill("SIGKILL"), 5000).unref();
  });
}

/** Waits until `check` returns a truthy value, or fails after `ms`. */
export async function eventually<T>(check: () => T | Promise<T>, ms = 15_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** A web session of a member of `instance`, logged in with the tests' PASSWORD. */
export async function memberSession(instance: { origin: string }, username: string): Promise<WebSession> {
  const session = new WebSession(instance.origin);
  await session.login(username, PASSWORD);
  return session;
}

/** A follow's state on `instance`, by the follower's and the followed actor's URIs. */
export function followState(instance: TestInstance, followerUri: string, followingUri: string): "none" | "pending" | "accepted" {
  const row = instance.query<{ accepted_at: number | null }>(
    "select accepted_at from follows join actors f on f.id = follows.follower_id join actors g on g.id = follows.following_id where f.uri = ? and g.uri = ?",
    followerUri,
    followingUri,
  )[0];
  return !row ? "none" : row.accepted_at ? "accepted" : "pending";
}
