// `npm test`: type-checks, makes sure the headless Chromium the browser tests
// need is there (Debian's package: browsers cannot be downloaded here), then
// runs the whole tap suite. Exits non-zero on any failure.
import { spawnSync } from "node:child_process";
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

step("Vérification des types (tsc)", "tsc", ["--noEmit", "-p", "."]);
ensureChromium();
step("Tests (tap)", "tap", process.argv.slice(2), { ...process.env, CHROMIUM_PATH: CHROMIUM });
