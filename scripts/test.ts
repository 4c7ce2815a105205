// `npm test`: type-checks, makes sure the headless Chromium the browser tests
// need is there (Debian's package: browsers cannot be downloaded here), then
// runs the whole tap suite. Exits non-zero on any failure.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function step(title: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  process.stdout.write(`\n▶ ${title}\n`);
  const result = spawnSync(command, args, { stdio: "inherit", env });
  if (result.status !== 0) {
    process.stderr.write(`✗ ${title} : échec (code ${result.status ?? result.signal})\n`);
    process.exit(result.status ?? 1);
  }
}

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    process.stderr.write(`Chromium est absent (${CHROMIUM}). Installez-le : sudo apt-get install -y chromium\n`);
    process.exit(1);
  }
  step("Installation de Chromium (paquet Debian, une seule fois)", "sh", ["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null"]);
}

/** Runs tap, echoing its output as it comes, and ends with one plain "N passed, N failed" line. */
function runTap(args: string[]): Promise<number> {
  process.stdout.write("\n▶ Tests (tap)\n");
  // Plain TAP when the output is a log file (CI), the friendlier report in a terminal.
  const reporter = process.stdout.isTTY ? [] : ["--reporter=tap"];
  const child = spawn("tap", [...reporter, ...args], { stdio: ["inherit", "pipe", "inherit"], env: { ...process.env, CHROMIUM_PATH: CHROMIUM } });
  let tail = "";
  child.stdout.on("data", (chunk: Buffer) => {
    process.stdout.write(chunk);
    tail = (tail + chunk.toString()).slice(-4096);
  });
  return new Promise((resolve) => {
    child.on("close", (code) => {
      const summary = /# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/.exec(tail);
      if (summary) process.stdout.write(`\ntests: ${summary[2]} passed, ${summary[3] ?? 0} failed\n`);
      resolve(code ?? 1);
    });
  });
}

// tap compiles its plugin list into node_modules; ours drops its TypeScript
// plugin (Node 24 runs .ts itself), so a fresh install must rebuild it once.
step("Préparation de tap", "tap", ["build"]);
step("Vérification des types (tsc)", "tsc", ["--noEmit", "-p", "."]);
ensureChromium();
process.exitCode = await runTap(process.argv.slice(2));
