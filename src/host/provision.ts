// What the host's operator does to hosted instances, shared by the CLI
// (`coopol host …`) and the operator's page (/host): add, list, suspend,
// resume, remove (archived first). The running host reads the registry at each
// request, so a change made by the CLI applies without a restart.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { exportInstance } from "../portable/archive.ts";
import type { InstanceKind } from "../config.ts";
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

/** Adds an instance: registry row, data directory, database, actors. Returns its first-run link. */
export function addInstance(registry: Registry, input: NewInstance, hostEnv: NodeJS.ProcessEnv = process.env): { entry: HostedInstance; setupUrl: string } {
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
  // The same validation as `npm start` (config.ts): a ConfigError names what is wrong.
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
    nextWakeAt: Date.now(),
  };
  // A directory left by an instance removed without its archive step would mix two instances' data.
  if (existsSync(dataDir) && readdirSync(dataDir).length) throw new UserError("host_domain_taken", 409, { domain });
  const db = openDatabase(join(dataDir, "coopol.sqlite"));
  try {
    ensureInstanceActors(db, config);
    registry.insert(entry);
    // Woken once right away, so its start-up jobs (territory links…) run without waiting for a visitor.
    registry.setRest(domain, entry.createdAt, entry.createdAt);
    return { entry, setupUrl: prepareFirstRun(db, config)! };
  } finally {
    db.$client.close();
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
