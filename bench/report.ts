// The text tables and number formats of the benchmark's reports, shared so
// that every scenario prints its figures the same way, and what a scenario
// file needs to run alone.

/** Milliseconds, with the precision the size of the figure deserves. */
export const ms = (x: number) => (x >= 100 ? `${Math.round(x)} ms` : x >= 1 ? `${x.toFixed(1)} ms` : `${x.toFixed(2)} ms`);
/** autocannon measures latency in whole milliseconds. */
export const lat = (x: number) => (x < 1 ? "< 1 ms" : `${Math.round(x)} ms`);
/** A rate or count: whole (with thousands separators) from 100 on, one decimal below. */
export const num = (x: number) => (x >= 100 ? Math.round(x).toLocaleString("en") : x.toFixed(1));
export const mib = (m: number) => `${m.toFixed(1)} MiB`;

/** A table in monospace text: the first column left-aligned, the others right-aligned. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  return [line(head), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

// ---------------------------------------------------------------- a scenario run alone (`node bench/<scenario>.ts`)

/** The number given as `--name=N` on the command line, if any. */
export function numberOption(argv: string[], name: string): number | undefined {
  const arg = argv.find((a) => a.startsWith(`--${name}=`));
  return arg ? Number(arg.slice(name.length + 3)) : undefined;
}

/** Runs a scenario and prints its report to stdout; a crash goes to stderr with exit code 1. */
export function runAlone<R extends { load: string }>(name: string, run: () => Promise<R>, report: (result: R) => string[]): void {
  const began = performance.now();
  run()
    .then((r) => {
      process.stdout.write(`\nLoad average (1 min) before the run: ${r.load}\n${report(r).join("\n")}\nTotal run time: ${((performance.now() - began) / 1000).toFixed(0)} s\n`);
    })
    .catch((error) => {
      process.stderr.write(`${name} benchmark crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    });
}
