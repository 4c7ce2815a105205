// Backups: a timestamped archive of the instance (the same as `coopol export`,
// restored with `coopol import`), taken while the server runs, keeping the
// last few.
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { UserError } from "../errors.ts";
import { exportInstance, type Manifest, type Progress } from "./archive.ts";

export const DEFAULT_KEEP = 7;

/** coopol-<handle>-20261206-031500-123Z.tar.gz: names sort in time order. */
export function backupName(handle: string, at: Date): string {
  const stamp = at.toISOString().replace(/[-:]/g, "").replace("T", "-").replace(".", "-");
  return `coopol-${handle}-${stamp}.tar.gz`;
}

function isBackupOf(handle: string, name: string): boolean {
  return name.startsWith(`coopol-${handle}-`) && /-\d{8}-\d{6}-\d{3}Z\.tar\.gz$/.test(name) && name.length === backupName(handle, new Date(0)).length;
}

export function parseKeep(text: string | undefined): number {
  if (text === undefined) return DEFAULT_KEEP;
  const keep = Number(text);
  if (!Number.isInteger(keep) || keep < 1 || keep > 1000) throw new UserError("portable_keep_invalid", 2);
  return keep;
}

/**
 * Writes a new backup of the instance into `outDir`, then deletes this
 * instance's oldest backups there beyond `keep` (other files are left alone).
 */
export async function backupInstance(
  dataDir: string,
  config: Config,
  outDir: string,
  options: { keep?: number; now?: Date; progress?: (p: Progress) => void } = {},
): Promise<{ file: string; manifest: Manifest; removed: string[] }> {
  const file = join(outDir, backupName(config.handle, options.now ?? new Date()));
  const manifest = await exportInstance(dataDir, config, file, options.progress);
  const ours = readdirSync(outDir).filter((name) => isBackupOf(config.handle, name)).sort();
  const removed = ours.slice(0, Math.max(0, ours.length - (options.keep ?? DEFAULT_KEEP))).map((name) => join(outDir, name));
  for (const old of removed) rmSync(old, { force: true });
  return { file, manifest, removed };
}
