// Instance configuration, read once from the environment at start-up.
// Every variable is documented in docs/configuration.md; keep both in step.
import { isIP } from "node:net";
import { resolve } from "node:path";

export const INSTANCE_KINDS = ["section", "federation", "national"] as const;
export type InstanceKind = (typeof INSTANCE_KINDS)[number];

export interface Config {
  /** Public origin, e.g. https://paris11.example.org: every ActivityPub id starts with it. */
  origin: string;
  host: string;
  port: number;
  /** Directory holding the SQLite file, uploads and the first-run token. */
  dataDir: string;
  kind: InstanceKind;
  name: string;
  /** Handle of the section's own Group actor: @<handle>@<host>. */
  handle: string;
  /** INSEE code: a département (2 or 3 characters) or a commune (5). */
  territory: string | null;
  /** The node above this one, as user@host: a section's fédération, a fédération's national node. */
  parent: string | null;
  /** The nodes this one oversees, as user@host: a fédération's sections, national's fédérations. */
  children: string[];
  /** Largest request body accepted, in bytes (inbox and forms). */
  bodyLimit: number;
  logLevel: string;
  /**
   * Lets Fedify fetch actors on private and loopback addresses. Only for tests
   * and local development: in production it would open the door to SSRF.
   */
  allowPrivateAddress: boolean;
  /** Outgoing e-mail (event reminders); null when COOPOL_SMTP_URL is not set. */
  smtp: SmtpConfig | null;
  /** Whether a member's proposed thematic group waits for a secretary's or admin's approval. */
  groupsNeedApproval: boolean;
  /** At most one e-mail digest of unread notifications per member every so many hours. */
  digestHours: number;
  /**
   * The national node whose signed directory of the party's nodes this node
   * trusts, as user@host; null: the root of its own territory chain.
   */
  national: string | null;
  /** The federation mode at first start (admins change it on the web afterwards). */
  federationMode: FederationMode;
  /** The reverse proxies whose X-Forwarded-For names the client: this machine's, and COOPOL_TRUSTED_PROXIES. */
  trustedProxies: string[];
}

export const FEDERATION_MODES = ["open", "blocklist", "party_only"] as const;
export type FederationMode = (typeof FEDERATION_MODES)[number];

export interface SmtpConfig {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://…:465 (TLS from the start). */
  url: string;
  /** Sender, "Name <address>" or a bare address. */
  from: string;
}

/** A configuration problem, shown to the operator as one plain sentence. */
export class ConfigError extends Error {}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export function slugify(text: string): string {
  return text
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 30);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = parseInteger(env.PORT, 3000, "PORT", 1, 65535);
  const host = env.HOST?.trim() || "127.0.0.1";

  const originText = env.COOPOL_ORIGIN?.trim() || `http://localhost:${port}`;
  let origin: URL;
  try {
    origin = new URL(originText);
  } catch {
    throw new ConfigError(
      `COOPOL_ORIGIN « ${originText} » n'est pas une adresse valide (exemple : https://paris11.exemple.fr).`,
    );
  }
  if (origin.protocol !== "https:" && origin.protocol !== "http:") {
    throw new ConfigError(`COOPOL_ORIGIN doit commencer par https:// (ou http:// en développement), pas « ${origin.protocol} ».`);
  }
  if (origin.pathname !== "/" || origin.search || origin.hash) {
    throw new ConfigError(`COOPOL_ORIGIN doit être une origine sans chemin, par exemple ${origin.origin}.`);
  }

  const kindText = (env.COOPOL_KIND?.trim() || "section") as InstanceKind;
  if (!INSTANCE_KINDS.includes(kindText)) {
    throw new ConfigError(
      `COOPOL_KIND vaut « ${kindText} » : les valeurs possibles sont ${INSTANCE_KINDS.join(", ")}.`,
    );
  }

  const name = env.COOPOL_NAME?.trim() || defaultName(kindText);
  if (name.length > 100) throw new ConfigError("COOPOL_NAME est trop long (100 caractères au plus).");

  const handle = env.COOPOL_HANDLE?.trim() || slugify(name) || kindText;
  if (!/^[a-z0-9_]{1,30}$/.test(handle)) {
    throw new ConfigError(
      `COOPOL_HANDLE « ${handle} » ne convient pas : lettres minuscules, chiffres et _ seulement (30 au plus).`,
    );
  }
  // "instance" is the instance's own Application actor.
  if (handle === "instance") throw new ConfigError("COOPOL_HANDLE ne peut pas valoir « instance » : ce nom est réservé au serveur lui-même.");

  const territory = env.COOPOL_TERRITORY?.trim() || null;
  if (territory !== null && !/^(\d{2}|2[AB]|97\d|\d{5}|2[AB]\d{3})$/.test(territory)) {
    throw new ConfigError(
      `COOPOL_TERRITORY « ${territory} » n'est pas un code INSEE de département (ex. 75, 2A, 971) ni de commune (ex. 75111).`,
    );
  }

  const parent = parseHandle(env.COOPOL_PARENT, "COOPOL_PARENT");
  if (parent && kindText === "national") throw new ConfigError("COOPOL_PARENT : le niveau national n'a pas de niveau au-dessus de lui.");
  const children = (env.COOPOL_CHILDREN ?? "")
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((text) => parseHandle(text, "COOPOL_CHILDREN")!);
  if (children.length && kindText === "section") {
    throw new ConfigError("COOPOL_CHILDREN : une section ne supervise aucune autre instance (seules une fédération ou le national le font).");
  }

  const national = parseHandle(env.COOPOL_NATIONAL, "COOPOL_NATIONAL");
  const federationMode = (env.COOPOL_FEDERATION_MODE?.trim() || "open") as FederationMode;
  if (!FEDERATION_MODES.includes(federationMode)) {
    throw new ConfigError(`COOPOL_FEDERATION_MODE vaut « ${env.COOPOL_FEDERATION_MODE} » : les valeurs possibles sont open, blocklist et party_only.`);
  }

  const logLevel = env.LOG_LEVEL?.trim() || "info";
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL vaut « ${logLevel} » : les valeurs possibles sont ${LOG_LEVELS.join(", ")}.`);
  }

  return {
    origin: origin.origin,
    host,
    port,
    dataDir: resolve(env.COOPOL_DATA?.trim() || "data"),
    kind: kindText,
    name,
    handle,
    territory,
    parent,
    children: [...new Set(children)],
    bodyLimit: parseInteger(env.COOPOL_BODY_LIMIT, 1024 * 1024, "COOPOL_BODY_LIMIT", 1024, 100 * 1024 * 1024),
    logLevel,
    allowPrivateAddress: parseBoolean(env.COOPOL_ALLOW_PRIVATE_ADDRESS, false, "COOPOL_ALLOW_PRIVATE_ADDRESS"),
    smtp: parseSmtp(env.COOPOL_SMTP_URL, env.COOPOL_SMTP_FROM),
    groupsNeedApproval: parseBoolean(env.COOPOL_GROUPS_NEED_APPROVAL, false, "COOPOL_GROUPS_NEED_APPROVAL"),
    digestHours: parseInteger(env.COOPOL_DIGEST_HOURS, 24, "COOPOL_DIGEST_HOURS", 1, 168),
    national,
    federationMode,
    trustedProxies: parseProxies(env.COOPOL_TRUSTED_PROXIES),
  };
}

/** Host mode (src/host, docs/hosting.md): one process serving many instances. */
export interface HostConfig {
  /** `<dataDir>/host.sqlite` (the registry), `instances/<domain>/`, `archives/`. */
  dataDir: string;
  host: string;
  port: number;
  /** The operator's page (/host) is served only when set; 20 characters at least. */
  adminToken: string | null;
  /** An instance with no request for this long (and nothing due) is unloaded. */
  idleMs: number;
  maxLoaded: number;
  /** Never more instances in memory than this, even when those beyond maxLoaded are in use. */
  ceiling: number;
  minResidencyMs: number;
  workSliceMs: number;
  sweepMs: number;
  /** Instances woken per sweep, and how long each stays loaded at least. */
  wakeConcurrency: number;
  wakeKeepMs: number;
  logLevel: string;
}

export function loadHostConfig(env: NodeJS.ProcessEnv = process.env): HostConfig {
  const dataDir = env.COOPOL_HOST_DATA?.trim();
  if (!dataDir) throw new ConfigError("COOPOL_HOST_DATA n'est pas renseignée : indiquez le dossier des données de l'hébergement (exemple : /var/lib/coopol-host).");
  const adminToken = env.COOPOL_HOST_ADMIN_TOKEN?.trim() || null;
  if (adminToken !== null && adminToken.length < 20) throw new ConfigError("COOPOL_HOST_ADMIN_TOKEN est trop court : 20 caractères au moins (par exemple la sortie de « openssl rand -base64 32 »).");
  // The instances' own variables are checked the same way (loadConfig), with the host's values.
  const logLevel = loadConfig({ ...pickHostWide(env), COOPOL_DATA: dataDir }).logLevel;
  const maxLoaded = parseInteger(env.COOPOL_HOST_MAX_LOADED, 50, "COOPOL_HOST_MAX_LOADED", 1, 10_000);
  return {
    dataDir: resolve(dataDir),
    host: env.HOST?.trim() || "127.0.0.1",
    port: parseInteger(env.PORT, 3000, "PORT", 1, 65535),
    adminToken,
    idleMs: parseInteger(env.COOPOL_HOST_IDLE_SECONDS, 600, "COOPOL_HOST_IDLE_SECONDS", 1, 86_400) * 1000,
    maxLoaded,
    ceiling: parseInteger(env.COOPOL_HOST_LOADED_CEILING, 2 * maxLoaded, "COOPOL_HOST_LOADED_CEILING", maxLoaded, 20_000),
    minResidencyMs: parseInteger(env.COOPOL_HOST_MIN_RESIDENCY_SECONDS, 20, "COOPOL_HOST_MIN_RESIDENCY_SECONDS", 0, 3600) * 1000,
    workSliceMs: parseInteger(env.COOPOL_HOST_WORK_SLICE_SECONDS, 300, "COOPOL_HOST_WORK_SLICE_SECONDS", 1, 86_400) * 1000,
    sweepMs: parseInteger(env.COOPOL_HOST_SWEEP_SECONDS, 5, "COOPOL_HOST_SWEEP_SECONDS", 1, 3600) * 1000,
    wakeConcurrency: parseInteger(env.COOPOL_HOST_WAKE_CONCURRENCY, 2, "COOPOL_HOST_WAKE_CONCURRENCY", 1, 100),
    wakeKeepMs: parseInteger(env.COOPOL_HOST_WAKE_KEEP_SECONDS, 30, "COOPOL_HOST_WAKE_KEEP_SECONDS", 1, 3600) * 1000,
    logLevel,
  };
}

/** The variables every hosted instance shares (SMTP, log level, limits); the rest comes from the registry. */
const HOST_WIDE = ["LOG_LEVEL", "COOPOL_BODY_LIMIT", "COOPOL_ALLOW_PRIVATE_ADDRESS", "COOPOL_SMTP_URL", "COOPOL_SMTP_FROM", "COOPOL_GROUPS_NEED_APPROVAL", "COOPOL_DIGEST_HOURS", "COOPOL_TRUSTED_PROXIES"];

export function pickHostWide(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const picked: NodeJS.ProcessEnv = {};
  for (const name of HOST_WIDE) if (env[name] !== undefined) picked[name] = env[name];
  return picked;
}

/** A bare e-mail address, or "Name <address>": what a From header holds. */
export const MAIL_ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

function parseSmtp(urlText: string | undefined, fromText: string | undefined): SmtpConfig | null {
  const text = urlText?.trim();
  const from = fromText?.trim() ?? "";
  if (!text) {
    if (from) throw new ConfigError("COOPOL_SMTP_FROM est renseignée mais pas COOPOL_SMTP_URL : indiquez aussi le serveur d'envoi (exemple : smtp://utilisateur:motdepasse@smtp.exemple.fr:587).");
    return null;
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError("COOPOL_SMTP_URL n'est pas une adresse valide (exemple : smtp://utilisateur:motdepasse@smtp.exemple.fr:587). Un caractère spécial du mot de passe (@, :, /) doit être écrit en %XX.");
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:") {
    throw new ConfigError(`COOPOL_SMTP_URL doit commencer par smtp:// (port 587, STARTTLS) ou smtps:// (port 465), pas « ${url.protocol} ».`);
  }
  if (!url.hostname) throw new ConfigError("COOPOL_SMTP_URL ne donne pas de nom de serveur (exemple : smtp://utilisateur:motdepasse@smtp.exemple.fr:587).");
  if (!from) throw new ConfigError("COOPOL_SMTP_URL est renseignée mais pas COOPOL_SMTP_FROM : indiquez l'adresse d'expédition des e-mails (exemple : Section Paris 11e <ne-pas-repondre@paris11.exemple.fr>).");
  const address = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;
  if (!MAIL_ADDRESS.test(address.trim())) {
    throw new ConfigError(`COOPOL_SMTP_FROM « ${from} » n'est pas une adresse e-mail (exemple : Section Paris 11e <ne-pas-repondre@paris11.exemple.fr>).`);
  }
  return { url: url.href, from };
}

function defaultName(kind: InstanceKind): string {
  return kind === "section" ? "Section" : kind === "federation" ? "Fédération" : "National";
}

/** A node's handle as people write it (@name@host or name@host), kept as name@host. */
export function parseHandle(text: string | undefined, name: string): string | null {
  const value = text?.trim().replace(/^@/, "").toLowerCase();
  if (!value) return null;
  if (!/^[a-z0-9_.-]+@[a-z0-9.-]+(:\d+)?$/.test(value)) {
    throw new ConfigError(`${name} : « ${text} » n'est pas une adresse de compte du type @federation_75@federation75.exemple.fr.`);
  }
  return value;
}

/**
 * Loopback always; more addresses or CIDR ranges when the proxy runs on
 * another machine (several hosts behind one proxy). Anyone at a trusted
 * address can name any client, and the login limits count by that name.
 */
function parseProxies(text: string | undefined): string[] {
  const extra = (text ?? "").split(/[\s,]+/).filter(Boolean);
  for (const item of extra) {
    const [address, bits, ...more] = item.split("/");
    const version = isIP(address ?? "");
    const max = version === 6 ? 128 : 32;
    if (!version || more.length || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
      throw new ConfigError(`COOPOL_TRUSTED_PROXIES : « ${item} » n'est ni une adresse IP ni une plage (exemple : 10.0.0.5, 10.0.0.0/24).`);
    }
  }
  return ["127.0.0.1", "::1", ...extra];
}

function parseInteger(text: string | undefined, fallback: number, name: string, min: number, max: number): number {
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} vaut « ${text} » : il faut un nombre entier entre ${min} et ${max}.`);
  }
  return value;
}

function parseBoolean(text: string | undefined, fallback: boolean, name: string): boolean {
  if (text === undefined || text.trim() === "") return fallback;
  if (["1", "true", "yes", "oui"].includes(text.toLowerCase())) return true;
  if (["0", "false", "no", "non"].includes(text.toLowerCase())) return false;
  throw new ConfigError(`${name} vaut « ${text} » : il faut true ou false.`);
}
