// What the host's operator does to hosted instances, shared by the CLI
// (`coopol host …`) and the operator's page (/host): add, list, suspend,
// resume, remove (archived first), import an archive, back up every instance. The running host reads the registry at each
// request, so a change made by the CLI applies without a restart.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { exportInstance, importInstance, printable, type Manifest, type Progress } from "../portable/archive.ts";
import { backupInstance } from "../portable/backup.ts";
import type { Config, InstanceKind } from "../config.ts";
import { UserError } from "../errors.ts";
import { ensureInstanceActors } from "../federation/actors.ts";
import { prepareFirstRun } from "../members/setup.ts";
import { openDatabase } from "../storage/db.ts";
import { configFor, normaliseDomain, type HostedInstance, type Registry } from "./registry.ts";

export interface NewInstance {
  /** The domain (https:// is assumed), or a whole origin (http:// for tests and development). */
  domain: string;
  name?: string;
  handle?: string;
  kind?: string;
  territory?: string;
  parent?: string;
  children?: string[];
}

/**
 * The registry entry and Config of a new instance, checked as `npm start`
 * checks its variables (config.ts: a ConfigError names what is wrong), and
 * refused when the domain is taken or its directory holds data.
 */
function newEntry(registry: Registry, input: NewInstance, hostEnv: NodeJS.ProcessEnv): { entry: HostedInstance; config: Config } {
  const text = input.domain.trim();
  const origin = /^https?:\/\//i.test(text) ? text : `https://${text}`;
  let domain: string | null = null;
  try {
    domain = normaliseDomain(new URL(origin).host);
  } catch {
    // refused below
  }
  if (!domain) throw new UserError("host_domain_invalid", 400, { domain: text });
  if (registry.get(domain)) throw new UserError("host_domain_taken", 409, { domain });
  const dataDir = registry.dataDirOf(domain);
  const config = configFor(
    {
      origin,
      dataDir,
      name: input.name?.trim() ?? "",
      handle: input.handle?.trim() ?? "",
      kind: (input.kind?.trim() || "section") as InstanceKind,
      territory: input.territory?.trim() || null,
      parent: input.parent?.trim() || null,
      children: input.children ?? [],
    },
    hostEnv,
  );
  const entry: HostedInstance = {
    domain,
    origin: config.origin,
    dataDir,
    name: config.name,
    handle: config.handle,
    kind: config.kind,
    territory: config.territory,
    parent: config.parent,
    children: config.children,
    state: "active",
    createdAt: Date.now(),
    lastActivityAt: null,
    nextWakeAt: null,
  };
  // A directory left by an instance removed without its archive step would mix two instances' data.
  if (existsSync(dataDir) && readdirSync(dataDir).length) throw new UserError("host_domain_taken", 409, { domain });
  return { entry, config };
}

/**
 * Into the registry. `wake`: loaded at the next sweep, for work that cannot
 * wait for a first visitor. Anything else runs at the first request: adding
 * 500 instances must not keep the scheduler busy waking each one once.
 */
function register(registry: Registry, entry: HostedInstance, wake: boolean): void {
  registry.insert(entry);
  registry.setRest(entry.domain, entry.createdAt, wake ? entry.createdAt : null);
}

/** Adds an instance: registry row, data directory, database, actors. Returns its first-run link. */
export function addInstance(registry: Registry, input: NewInstance, hostEnv: NodeJS.ProcessEnv = process.env): { entry: HostedInstance; setupUrl: string } {
  const { entry, config } = newEntry(registry, input, hostEnv);
  const db = openDatabase(join(entry.dataDir, "coopol.sqlite"));
  try {
    ensureInstanceActors(db, config);
    // A new instance has nothing to deliver, no member to remind or e-mail, and a section
    // with a parent waits for its fédération's request. A fédération (or national node)
    // declaring its children must ask each to be linked: that cannot wait for a visit.
    register(registry, entry, config.children.length > 0);
    return { entry, setupUrl: prepareFirstRun(db, config)! };
  } finally {
    db.$client.close();
  }
}

/**
 * Restores an archive (`coopol export`, `coopol backup`, `host remove`) as a
 * new hosted instance, under the archive's own origin: its registry entry is
 * the manifest's settings, checked as `host add` checks them. The data is
 * restored beside the instances first and moved into place only once the
 * archive and its settings are checked, so a refusal leaves nothing behind.
 */
export async function importHostedInstance(registry: Registry, archive: string, progress?: (p: Progress) => void, hostEnv: NodeJS.ProcessEnv = process.env): Promise<{ entry: HostedInstance; manifest: Manifest }> {
  const staging = join(registry.hostData, "instances", `.import-${randomBytes(6).toString("hex")}`);
  try {
    const manifest = await importInstance(archive, staging, {}, progress);
    const text = (value: unknown) => (typeof value === "string" ? value : undefined);
    const { entry } = newEntry(
      registry,
      {
        domain: manifest.origin,
        name: text(manifest.name),
        handle: text(manifest.handle),
        kind: text(manifest.kind),
        territory: text(manifest.territory),
        parent: text(manifest.parent),
        children: Array.isArray(manifest.children) ? manifest.children.filter((c): c is string => typeof c === "string") : [],
      },
      hostEnv,
    );
    // Other servers know the instance by its URIs: the origin must stay the very same.
    if (entry.origin !== manifest.origin) throw new UserError("portable_origin_mismatch", 1, { archive: printable(manifest.origin), target: entry.origin });
    rmSync(entry.dataDir, { recursive: true, force: true });
    renameSync(staging, entry.dataDir);
    // Its pending deliveries (queue, outbox) go out from here without waiting for a visitor.
    register(registry, entry, true);
    return { entry, manifest };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

export interface ListedInstance extends HostedInstance {
  /** Bytes on disk (database, its WAL, media). */
  size: number;
}

export function listInstances(registry: Registry): ListedInstance[] {
  return registry.list().map((entry) => ({ ...entry, size: directorySize(entry.dataDir) }));
}

function directorySize(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const stat = statSync(join(dir, name), { throwIfNoEntry: false });
    if (stat?.isFile()) total += stat.size;
  }
  return total;
}

function existing(registry: Registry, domainText: string): HostedInstance {
  const domain = normaliseDomain(domainText) ?? domainText;
  const entry = registry.get(domain);
  if (!entry) throw new UserError("host_not_found", 404, { domain });
  return entry;
}

/**
 * The operator's page removes an instance only once its domain is typed again
 * (as /members asks for the username): a click on the wrong row loses nothing.
 */
export function confirmRemoval(registry: Registry, domain: string, typed: string): HostedInstance {
  const entry = existing(registry, domain);
  if (typed.trim().toLowerCase() !== entry.domain) throw new UserError("host_remove_confirm", 422, { domain: entry.domain });
  return entry;
}

/** An instance hosted here, by its domain (as typed or listed). */
export function hostedInstance(registry: Registry, domain: string): HostedInstance {
  return existing(registry, domain);
}

/** Suspended: peers get 410 Gone, browsers a page saying so, and its jobs stop (the host unloads it). */
export function suspendInstance(registry: Registry, domain: string): HostedInstance {
  const entry = existing(registry, domain);
  registry.setState(entry.domain, "suspended");
  return { ...entry, state: "suspended" };
}

export function resumeInstance(registry: Registry, domain: string): HostedInstance {
  const entry = existing(registry, domain);
  registry.setState(entry.domain, "active");
  // What piled up while suspended runs at the next sweep.
  registry.setRest(entry.domain, entry.lastActivityAt ?? Date.now(), Date.now());
  return { ...entry, state: "active" };
}

/**
 * Removes an instance: suspended first (the host stops serving and unloads
 * it), archived, then its registry row and data directory are deleted.
 * `beforeDelete` lets the running host close the instance's database first.
 */
export async function removeInstance(registry: Registry, domain: string, beforeDelete: (domain: string) => Promise<void> = async () => {}): Promise<{ archive: string }> {
  const entry = existing(registry, domain);
  registry.setState(entry.domain, "suspended");
  const archive = await archiveInstance(registry, entry);
  await beforeDelete(entry.domain);
  registry.delete(entry.domain);
  rmSync(entry.dataDir, { recursive: true, force: true });
  return { archive };
}

/**
 * The instance's archive, as `coopol export` writes it (src/portable): a
 * consistent copy of its database while the host may still have it open,
 * its media and manifest, importable elsewhere with `coopol import`.
 */
export async function archiveInstance(registry: Registry, entry: HostedInstance): Promise<string> {
  const archives = join(registry.hostData, "archives");
  mkdirSync(archives, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const file = join(archives, `${entry.domain}-${stamp}.tar.gz`);
  await exportInstance(entry.dataDir, configFor(entry), file);
  return file;
}

export interface HostBackup {
  domain: string;
  file?: string;
  removed?: string[];
  error?: unknown;
}

/**
 * A backup of every instance of the host, while it runs: for each, in
 * `<outDir>/<domain>/`, the archive `coopol backup` writes (a consistent
 * copy of its database, by `VACUUM INTO`, then its media),
 * keeping its last `keep`. Each instance's copy is consistent on its own;
 * instances are independent servers, so no copy needs another's moment.
 * One instance failing does not stop the others.
 */
export async function backupHost(
  registry: Registry,
  outDir: string,
  options: { keep?: number; hostEnv?: NodeJS.ProcessEnv; started?: (entry: HostedInstance, index: number, count: number) => void; progress?: (p: Progress) => void } = {},
): Promise<HostBackup[]> {
  const entries = registry.list();
  const results: HostBackup[] = [];
  for (const [index, entry] of entries.entries()) {
    options.started?.(entry, index, entries.length);
    try {
      const done = await backupInstance(entry.dataDir, configFor(entry, options.hostEnv), join(outDir, entry.domain), { keep: options.keep, progress: options.progress });
      results.push({ domain: entry.domain, file: done.file, removed: done.removed });
    } catch (error) {
      results.push({ domain: entry.domain, error });
    }
  }
  return results;
}
