// Moving an instance: one `.tar.gz` holding a consistent copy of the database,
// the uploads and a manifest (`coopol export`), restored on another host under
// the same origin (`coopol import`). Plain functions on a data directory, so the
// CLI, backups and host mode share them.
//
// Archive layout: manifest.json (first), coopol.sqlite, media/<file>.
// The actor keys, the delivery queue (`fedify_queue`), the outbox and the
// circuit breaker's state are all rows of coopol.sqlite: they travel with it,
// so followers keep verifying the same keys and pending deliveries go out from
// the new place.
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { create, extract, type ReadEntry } from "tar";
import type { Config } from "../config.ts";
import { UserError } from "../errors.ts";
import { FILE_NAME, MEDIA_MAX_BYTES, mediaDirOf } from "../media/media.ts";
import { SOFTWARE_VERSION } from "../members/stats.ts";
import { snapshotDatabase } from "./snapshot.ts";

/** The archive format this version writes and the newest it reads. */
export const ARCHIVE_FORMAT = 1;
export const DATABASE_FILE = "coopol.sqlite";
const MANIFEST = "manifest.json";

/** Bounds on what an archive may make `import` write (the largest database we would believe in, a manifest listing every upload). */
const MAX_DATABASE_BYTES = 64 * 1024 ** 3;
const MAX_MANIFEST_BYTES = 64 * 1024 ** 2;
const MAX_ENTRIES = 1_000_000;

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: number;
  coopol_version: string;
  created_at: string;
  origin: string;
  handle: string;
  kind: string;
  name: string;
  territory: string | null;
  parent: string | null;
  children: string[];
  /** The instance's non-secret settings, as the environment variables to set on the new host. */
  configuration: Record<string, string>;
  keys: string;
  files: ManifestFile[];
}

/** What an export or import is doing, for the CLI to print (sizes in bytes). */
export type Progress =
  | { step: "database"; bytes: number }
  | { step: "media"; files: number; bytes: number }
  | { step: "archive"; file: string; bytes: number }
  | { step: "verified"; files: number; bytes: number };

/**
 * The settings another host needs to run the same instance, as environment
 * variables. Secrets (COOPOL_SMTP_URL holds a password) and host-specific
 * values (COOPOL_DATA, PORT, HOST) are left out.
 */
export function configurationEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {
    COOPOL_ORIGIN: config.origin,
    COOPOL_KIND: config.kind,
    COOPOL_NAME: config.name,
    COOPOL_HANDLE: config.handle,
    COOPOL_BODY_LIMIT: String(config.bodyLimit),
    COOPOL_GROUPS_NEED_APPROVAL: String(config.groupsNeedApproval),
    COOPOL_DIGEST_HOURS: String(config.digestHours),
    LOG_LEVEL: config.logLevel,
  };
  if (config.territory) env.COOPOL_TERRITORY = config.territory;
  if (config.parent) env.COOPOL_PARENT = config.parent;
  if (config.children.length) env.COOPOL_CHILDREN = config.children.join(",");
  if (config.smtp) env.COOPOL_SMTP_FROM = config.smtp.from;
  return env;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Writes an archive of the instance in `dataDir` to `outFile`, while its
 * server may be running. The database is copied first, then the uploads:
 * an upload is written before the row that names it, so every file the copied
 * database refers to is already there.
 */
export async function exportInstance(dataDir: string, config: Config, outFile: string, progress: (p: Progress) => void = () => {}): Promise<Manifest> {
  const database = join(dataDir, DATABASE_FILE);
  if (!existsSync(database)) throw new UserError("portable_no_database", 1, { dir: dataDir });
  const out = resolve(outFile);
  if (existsSync(out)) throw new UserError("portable_out_exists", 1, { file: out });
  mkdirSync(dirname(out), { recursive: true });
  // Work next to the archive: the operator chose a place with room for it.
  const staging = mkdtempSync(join(dirname(out), ".coopol-export-"));
  const partial = `${out}.partial-${randomBytes(4).toString("hex")}`;
  try {
    const snapshot = join(staging, DATABASE_FILE);
    snapshotDatabase(database, snapshot);
    const files: ManifestFile[] = [{ path: DATABASE_FILE, size: statSync(snapshot).size, sha256: await sha256(snapshot) }];
    progress({ step: "database", bytes: files[0]!.size });

    // Archive path → file on disk.
    const sources = new Map<string, string>([[DATABASE_FILE, snapshot]]);
    const media = mediaDirOf(dataDir);
    let mediaBytes = 0;
    for (const name of existsSync(media) ? readdirSync(media).sort() : []) {
      const file = join(media, name);
      if (!FILE_NAME.test(name) || !statSync(file).isFile()) continue;
      const entry = { path: `media/${name}`, size: statSync(file).size, sha256: await sha256(file) };
      files.push(entry);
      sources.set(entry.path, file);
      mediaBytes += entry.size;
    }
    progress({ step: "media", files: files.length - 1, bytes: mediaBytes });

    const manifest: Manifest = {
      format: ARCHIVE_FORMAT,
      coopol_version: SOFTWARE_VERSION,
      created_at: new Date().toISOString(),
      origin: config.origin,
      handle: config.handle,
      kind: config.kind,
      name: config.name,
      territory: config.territory,
      parent: config.parent,
      children: config.children,
      configuration: configurationEnv(config),
      keys: "The actors' private keys are in coopol.sqlite (table actor_keys): keep this archive as secret as the database.",
      files,
    };
    const manifestFile = join(staging, MANIFEST);
    writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });
    sources.set(MANIFEST, manifestFile);

    // node-tar names an entry after the path it was given; paths relative to
    // the root reach files in two folders, and each entry is renamed to its
    // archive path before its header is written.
    const byGiven = new Map<string, string>();
    const given = [MANIFEST, ...files.map((f) => f.path)].map((path) => {
      const fromRoot = relative("/", resolve(sources.get(path)!));
      byGiven.set(fromRoot, path);
      return fromRoot;
    });
    await create(
      {
        file: partial,
        gzip: true,
        portable: true,
        cwd: "/",
        mode: 0o600,
        onWriteEntry: (entry) => {
          entry.path = byGiven.get(entry.path) ?? entry.path;
        },
      },
      given,
    );
    renameSync(partial, out);
    progress({ step: "archive", file: out, bytes: statSync(out).size });
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    rmSync(partial, { force: true });
  }
}

/** Text read from an archive, fit to show in the operator's terminal: short, no control characters (escape sequences). */
export function printable(value: unknown): string {
  return String(value ?? "").slice(0, 200).replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}

/** Where an entry of an archive may go, or null: our three kinds of names, nothing else. */
function entryPath(path: string, type: string): string | null {
  const name = path.replace(/^\.\//, "").replace(/\/$/, "");
  if (type === "Directory") return name === "" || name === "." || name === "media" ? name : null;
  if (type !== "File" && type !== "OldFile" && type !== "ContiguousFile") return null;
  if (name === MANIFEST || name === DATABASE_FILE) return name;
  const media = /^media\/([^/]+)$/.exec(name);
  return media && FILE_NAME.test(media[1]!) ? name : null;
}

function maxSize(name: string): number {
  return name === DATABASE_FILE ? MAX_DATABASE_BYTES : name === MANIFEST ? MAX_MANIFEST_BYTES : MEDIA_MAX_BYTES;
}

function readManifest(file: string, archive: string): Manifest {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new UserError("portable_not_archive", 1, { file: archive });
  }
  if (typeof manifest !== "object" || manifest === null || !Number.isInteger(manifest.format) || typeof manifest.origin !== "string" || !Array.isArray(manifest.files)) {
    throw new UserError("portable_not_archive", 1, { file: archive });
  }
  if (manifest.format > ARCHIVE_FORMAT) throw new UserError("portable_format_newer", 1, { format: manifest.format, supported: ARCHIVE_FORMAT });
  const seen = new Set<string>();
  for (const f of manifest.files) {
    const ok = typeof f === "object" && f !== null && typeof f.path === "string" && entryPath(f.path, "File") === f.path && f.path !== MANIFEST
      && Number.isSafeInteger(f.size) && typeof f.sha256 === "string" && /^[0-9a-f]{64}$/.test(f.sha256) && !seen.has(f.path);
    if (!ok) throw new UserError("portable_not_archive", 1, { file: archive });
    seen.add(f.path);
  }
  if (!seen.has(DATABASE_FILE)) throw new UserError("portable_not_archive", 1, { file: archive });
  return manifest;
}

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(dir, join(prefix, d.name)) : [join(prefix, d.name)],
  );
}

/**
 * Restores an archive into `dataDir`, which must be empty or absent, for the
 * instance at `origin` (the archive's own: a move keeps the domain, since
 * other servers know the instance by its URIs; host mode leaves it out and
 * checks the manifest's origin itself). Nothing is written to
 * `dataDir` until every entry is checked. Migrations run at the next start.
 */
export async function importInstance(archive: string, dataDir: string, options: { origin?: string }, progress: (p: Progress) => void = () => {}): Promise<Manifest> {
  if (!existsSync(archive) || !statSync(archive).isFile()) throw new UserError("portable_archive_missing", 1, { file: archive });
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) throw new UserError("portable_data_not_empty", 1, { dir: dataDir });
  const created = !existsSync(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // Inside the data directory: its parent may not be ours to write (systemd's /var/lib).
  const staging = mkdtempSync(join(dataDir, ".import-"));
  let done = false;
  try {
    let refused: string | null = null;
    let entries = 0;
    const filter = (path: string, entry: ReadEntry | { size: number }) => {
      const type = "type" in entry ? entry.type : "File";
      const name = entryPath(path, type);
      entries += 1;
      if (name === null || entry.size > maxSize(name) || entries > MAX_ENTRIES) refused ??= path;
      return refused === null;
    };
    try {
      await extract({ file: archive, cwd: staging, strict: true, filter, preserveOwner: false, noChmod: true });
    } catch {
      if (refused === null) throw new UserError("portable_not_archive", 1, { file: archive });
    }
    if (refused !== null) throw new UserError("portable_unsafe_entry", 1, { path: printable(refused) });
    if (!existsSync(join(staging, MANIFEST))) throw new UserError("portable_not_archive", 1, { file: archive });
    const manifest = readManifest(join(staging, MANIFEST), archive);
    if (options.origin !== undefined && manifest.origin !== options.origin) throw new UserError("portable_origin_mismatch", 1, { archive: manifest.origin, target: options.origin });

    const listed = new Set(manifest.files.map((f) => f.path));
    for (const path of filesUnder(staging)) {
      if (path !== MANIFEST && !listed.has(path)) throw new UserError("portable_checksum", 1, { path });
    }
    let bytes = 0;
    for (const f of manifest.files) {
      const file = join(staging, f.path);
      if (!existsSync(file) || statSync(file).size !== f.size || (await sha256(file)) !== f.sha256) throw new UserError("portable_checksum", 1, { path: f.path });
      bytes += f.size;
    }
    progress({ step: "verified", files: manifest.files.length, bytes });

    // Members' data: readable by the service's user only, whatever modes the archive carried.
    for (const f of manifest.files) chmodSync(join(staging, f.path), 0o600);
    renameSync(join(staging, DATABASE_FILE), join(dataDir, DATABASE_FILE));
    if (existsSync(join(staging, "media"))) {
      chmodSync(join(staging, "media"), 0o700);
      renameSync(join(staging, "media"), mediaDirOf(dataDir));
    }
    done = true;
    return manifest;
  } finally {
    rmSync(staging, { recursive: true, force: true });
    if (!done && created) rmSync(dataDir, { recursive: true, force: true });
  }
}
