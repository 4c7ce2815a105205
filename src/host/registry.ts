// The host's registry: which instances one host process serves, in a small
// SQLite file of its own, `<COOPOL_HOST_DATA>/host.sqlite`. The CLI and the
// running host both write it (a JSON file would need locking for that); one
// table, created here, so no migration tool is needed yet (docs/hosting.md).
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { loadConfig, pickHostWide, type Config, type InstanceKind } from "../config.ts";

export type HostedState = "active" | "suspended";

export interface HostedInstance {
  /** The request's Host: the origin's host name, and port when not the default. */
  domain: string;
  origin: string;
  dataDir: string;
  name: string;
  handle: string;
  kind: InstanceKind;
  territory: string | null;
  parent: string | null;
  children: string[];
  state: HostedState;
  createdAt: number;
  /** Last request answered, as of the last time the instance was evicted or listed. */
  lastActivityAt: number | null;
  /** When an evicted instance has work due (queue, outbox, polls, periodic jobs). */
  nextWakeAt: number | null;
}

interface Row {
  domain: string;
  origin: string;
  name: string;
  handle: string;
  kind: string;
  territory: string | null;
  parent: string | null;
  children: string;
  state: string;
  created_at: number;
  last_activity_at: number | null;
  next_wake_at: number | null;
}

/** Host names as requests carry them: letters, digits, dots and dashes, an optional port. */
const DOMAIN = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$/;

export function normaliseDomain(text: string): string | null {
  // A default port written out (example.org:443) is the same host as the origin's (URL.host leaves it out).
  const value = text.trim().toLowerCase().replace(/:(443|80)$/, "").replace(/\.$/, "");
  return DOMAIN.test(value) && !value.includes("..") ? value : null;
}

export class Registry {
  readonly hostData: string;
  readonly #db: Database.Database;

  constructor(hostData: string) {
    this.hostData = resolve(hostData);
    mkdirSync(join(this.hostData, "instances"), { recursive: true });
    this.#db = new Database(join(this.hostData, "host.sqlite"));
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("busy_timeout = 5000");
    this.#db.exec(`create table if not exists instances (
      domain text primary key,
      origin text not null unique,
      name text not null,
      handle text not null,
      kind text not null,
      territory text,
      parent text,
      children text not null default '[]',
      state text not null default 'active',
      created_at integer not null,
      last_activity_at integer,
      next_wake_at integer
    );
    create index if not exists instances_wake on instances (state, next_wake_at);`);
  }

  dataDirOf(domain: string): string {
    return join(this.hostData, "instances", domain);
  }

  #entry(row: Row): HostedInstance {
    return {
      domain: row.domain,
      origin: row.origin,
      dataDir: this.dataDirOf(row.domain),
      name: row.name,
      handle: row.handle,
      kind: row.kind as InstanceKind,
      territory: row.territory,
      parent: row.parent,
      children: JSON.parse(row.children) as string[],
      state: row.state as HostedState,
      createdAt: row.created_at,
      lastActivityAt: row.last_activity_at,
      nextWakeAt: row.next_wake_at,
    };
  }

  /** Read at every request: prepared once. */
  #byDomain: Database.Statement | null = null;

  get(domain: string): HostedInstance | null {
    this.#byDomain ??= this.#db.prepare("select * from instances where domain = ?");
    const row = this.#byDomain.get(domain) as Row | undefined;
    return row ? this.#entry(row) : null;
  }

  list(): HostedInstance[] {
    return (this.#db.prepare("select * from instances order by domain").all() as Row[]).map((row) => this.#entry(row));
  }

  insert(entry: HostedInstance): void {
    this.#db
      .prepare("insert into instances (domain, origin, name, handle, kind, territory, parent, children, state, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .run(entry.domain, entry.origin, entry.name, entry.handle, entry.kind, entry.territory, entry.parent, JSON.stringify(entry.children), entry.state, entry.createdAt);
  }

  setState(domain: string, state: HostedState): void {
    this.#db.prepare("update instances set state = ? where domain = ?").run(state, domain);
  }

  /** Written when an instance is evicted: its last request, and when it must run again. */
  setRest(domain: string, lastActivityAt: number, nextWakeAt: number | null): void {
    this.#db.prepare("update instances set last_activity_at = ?, next_wake_at = ? where domain = ?").run(lastActivityAt, nextWakeAt, domain);
  }

  delete(domain: string): void {
    this.#db.prepare("delete from instances where domain = ?").run(domain);
  }

  /** Active instances whose work is due, the longest waiting first (a fair turn for each). */
  due(now: number, limit: number): string[] {
    return (this.#db.prepare("select domain from instances where state = 'active' and next_wake_at <= ? order by next_wake_at limit ?").all(now, limit) as Array<{ domain: string }>).map((r) => r.domain);
  }

  close(): void {
    this.#db.close();
  }
}

/**
 * An instance's Config: its registry entry plus the host-wide settings, read
 * by `loadConfig` itself, so a hosted instance obeys the same rules as one
 * started with `npm start`.
 */
export function configFor(entry: Pick<HostedInstance, "origin" | "dataDir" | "name" | "handle" | "kind" | "territory" | "parent" | "children">, hostEnv: NodeJS.ProcessEnv = process.env): Config {
  const env: NodeJS.ProcessEnv = pickHostWide(hostEnv);
  Object.assign(env, {
    COOPOL_ORIGIN: entry.origin,
    COOPOL_DATA: entry.dataDir,
    COOPOL_NAME: entry.name,
    COOPOL_HANDLE: entry.handle,
    COOPOL_KIND: entry.kind,
    COOPOL_TERRITORY: entry.territory ?? "",
    COOPOL_PARENT: entry.parent ?? "",
    COOPOL_CHILDREN: entry.children.join(","),
  });
  return loadConfig(env);
}
