// Starting the processes the benchmark measures: a Coopol instance exactly as
// `npm start` runs it (`node src/main.ts`), the bare baseline server, or the floor server (the fixed stack alone), each
// on a fresh temporary data directory and a free port on 127.0.0.1.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
// The same free-port helper the tests use.
import { freePort, loopbackEnv, queryDatabase } from "../test/helpers/instances.ts";

export const ROOT = new URL("..", import.meta.url).pathname;

export type ServerKind = "coopol" | "baseline" | "floor";

const ENTRY: Record<ServerKind, string> = {
  coopol: join(ROOT, "src/main.ts"),
  baseline: join(ROOT, "bench/baseline-server.ts"),
  floor: join(ROOT, "bench/floor-server.ts"),
};

/**
 * Extra Node options for the measured servers only (not the benchmark
 * process), e.g. COOPOL_BENCH_NODE_ARGS="--max-semi-space-size=8" to try a
 * GC setting, or "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile.
 */
const NODE_ARGS = (process.env.COOPOL_BENCH_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);


export interface Memory {
  /** Resident set size now, in MiB (VmRSS). */
  rss: number;
  /** Highest resident set size so far, in MiB (VmHWM). */
  peak: number;
}

/** Reads a process's memory from /proc/<pid>/status (Linux only). */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    return match ? Number(match[1]) / 1024 : Number.NaN;
  };
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

/**
 * CPU time a process has used so far (user + system, all its threads), in
 * seconds, from /proc/<pid>/stat. Linux counts it in ticks of 1/100 s.
 */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces: count fields after its ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export interface Server {
  kind: ServerKind;
  name: string;
  port: number;
  origin: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  pid: number;
  /** Milliseconds from spawn to the first 200 from /healthz. */
  startMs: number;
  output: string[];
  memory(): Memory;
  cpuSeconds(): number;
  /** Runs Coopol's admin CLI on this server's data directory. */
  cli(args: string[], stdin?: string): { status: number | null; stdout: string; stderr: string };
  /** A read-only query on the server's SQLite file. */
  query<T>(sql: string, ...params: unknown[]): T[];
  stop(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  dispose(): Promise<void>;
}

/**
 * Spawns a server and resolves once /healthz answers 200, with the time that
 * took. The port is polled every 5 ms. By default the data directory is a new,
 * empty one that the server owns; `dataDir` runs it on an existing one, which
 * is then never deleted here. `env` adds or overrides environment variables.
 */
export async function startServer(kind: ServerKind, name: string, options: { dataDir?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Server> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), `coopol-bench-${name}-`));
  const removeData = () => {
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const env = loopbackEnv(port, dataDir, `Bench ${name}`, `bench_${name}`, options.env);
  const output: string[] = [];
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, [...NODE_ARGS, ENTRY[kind]], { env, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString()));

  let stopping = false;
  let running = false;
  child.once("exit", (code, signal) => {
    // During start-up the error thrown below already carries the output.
    if (!running || stopping) return;
    // Coopol exits with 0 only from its SIGTERM/SIGINT handler: someone outside stopped it.
    const why = code === 0 ? "exit 0: it received SIGTERM or SIGINT from outside the benchmark" : (signal ?? `exit ${code}`);
    process.stderr.write(`\n!! ${kind} ${name} (pid ${child.pid}) stopped unexpectedly (${why}):\n${output.join("")}\n`);
  });

  let startMs = Number.NaN;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      removeData();
      throw new Error(`${kind} ${name} exited during start-up:\n${output.join("")}`);
    }
    try {
      const res = await request(`${origin}/healthz`, { reset: true });
      await res.body.dump();
      if (res.statusCode === 200) {
        startMs = performance.now() - started;
        running = true;
        break;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  if (Number.isNaN(startMs)) {
    child.kill("SIGKILL");
    removeData();
    throw new Error(`${kind} ${name} did not answer in time:\n${output.join("")}`);
  }

  const stop = async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    });
  };

  return {
    kind,
    name,
    port,
    origin,
    dataDir,
    env,
    pid: child.pid!,
    startMs,
    output,
    memory: () => memoryOf(child.pid!),
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    cli(args, stdin) {
      const result = spawnSync(process.execPath, [join(ROOT, "src/cli/main.ts"), ...args], { env, input: stdin ?? "", encoding: "utf8" });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    query: <T>(sql: string, ...params: unknown[]): T[] => queryDatabase<T>(dataDir, sql, ...params),
    stop,
    async dispose() {
      await stop();
      removeData();
    },
  };
}
