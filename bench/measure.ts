// What every scenario of the benchmark measures with: percentiles of timed
// samples, a loop timing an in-process call, one autocannon run against a
// server turned into the figures the reports print, and waiting for a server
// to reach a state. One copy here, so that the scenarios' figures are made
// the same way and can be compared.
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import type { Server } from "./servers.ts";

/** Progress lines go to stderr: stdout carries the report alone. */
export const log = (line: string) => process.stderr.write(`· ${line}\n`);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The 1-minute load average: other work on the machine skews every figure. */
export const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ")[0]!;

/** The value below which a share `p` of the sorted samples lies (NaN when there are none). */
export function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! : Number.NaN;
}

export interface Summary {
  runs: number;
  p50: number;
  p99: number;
  perSecond: number;
}

/** Sorts the samples (in ms) in place and sums them up. */
export function summarize(samples: number[]): Summary {
  const total = samples.reduce((a, b) => a + b, 0);
  samples.sort((a, b) => a - b);
  return { runs: samples.length, p50: percentile(samples, 0.5), p99: percentile(samples, 0.99), perSecond: (samples.length * 1000) / total };
}

export interface Timing extends Summary {
  name: string;
  /** Rows returned by the call, when it returns an array. */
  rows: number;
}

/**
 * Times an in-process call after 5 untimed ones (statement cache, JIT): at
 * most `maxRuns` times, and no longer than `budgetMs` once 20 samples are in.
 */
export function timeLoop(name: string, maxRuns: number, budgetMs: number, work: () => unknown): Timing {
  let rows = 0;
  for (let i = 0; i < 5; i++) {
    const result = work();
    rows = Array.isArray(result) ? result.length : 0;
  }
  const samples: number[] = [];
  const began = performance.now();
  while (samples.length < maxRuns && (samples.length < 20 || performance.now() - began < budgetMs)) {
    const t0 = performance.now();
    work();
    samples.push(performance.now() - t0);
  }
  return { name, ...summarize(samples), rows };
}

/** The figures of one HTTP load run, as the reports' tables show them. */
export interface LoadFigure {
  /** Answers with the expected status per second. */
  rps: number;
  p50: number;
  p99: number;
  total: number;
  /** Answers with another status, errors and timeouts. */
  bad: number;
  /** Server CPU time per request, in ms, and its share of one core. */
  cpuMs: number;
  cpuCore: number;
  note?: string;
}

export type LoadOptions = Omit<Parameters<typeof autocannon>[0], "duration">;

/**
 * One autocannon run: a warm-up (not counted), then `durationS` seconds, with
 * the server's CPU time read around the measured part only. autocannon
 * measures latency in whole milliseconds.
 */
export async function measureLoad(
  server: Pick<Server, "cpuSeconds">,
  options: LoadOptions,
  { warmupS = 1, durationS = 5, expect = 200 }: { warmupS?: number; durationS?: number; expect?: number } = {},
): Promise<LoadFigure> {
  await autocannon({ ...options, duration: warmupS });
  const cpuBefore = server.cpuSeconds();
  const result = await autocannon({ ...options, duration: durationS });
  const cpu = server.cpuSeconds() - cpuBefore;
  const good = result.statusCodeStats[String(expect)]?.count ?? 0;
  const total = result.requests.total;
  return {
    rps: good / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total,
    bad: total - good + result.errors + result.timeouts,
    cpuMs: (cpu * 1000) / Math.max(1, total),
    cpuCore: cpu / result.duration,
    note: good === total ? undefined : `status codes: ${JSON.stringify(Object.fromEntries(Object.entries(result.statusCodeStats).map(([k, v]) => [k, v.count])))}`,
  };
}

/**
 * Polls `check` every `pollMs` until it gives a value. Without `progress` it
 * gives up `limitMs` after the start; with it, only once `progress` has not
 * changed for `limitMs` (a slow but moving run is not a stuck one). The poll
 * interval is the resolution of any time measured up to the result.
 */
export async function waitFor<T>(
  what: string | (() => string),
  check: () => T | undefined | null | false,
  limitMs: number,
  { pollMs = 50, progress }: { pollMs?: number; progress?: () => number } = {},
): Promise<T> {
  let last = progress?.() ?? 0;
  let lastChange = Date.now();
  for (;;) {
    const value = check();
    if (value) return value;
    const now = progress?.() ?? 0;
    if (now !== last) [last, lastChange] = [now, Date.now()];
    if (Date.now() - lastChange > limitMs) throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await sleep(pollMs);
  }
}
