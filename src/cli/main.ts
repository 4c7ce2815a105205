// The admin command line: `npx coopol <command>`. It works on the instance's
// data directory directly (same COOPOL_* variables as the server), so operators
// and scripts need no browser. Messages are in French, like the web pages' default.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, loadHostConfig, type Config } from "../config.ts";
import { configFor, normaliseDomain, Registry } from "../host/registry.ts";
import { UserError } from "../errors.ts";
import { createInvitation } from "../members/invitations.ts";
import { createMember, disableMember, enableMember, listMembers, parseRole, setRole } from "../members/members.ts";
import { ensureInstanceActors } from "../federation/actors.ts";
import { openDatabase, type OpenDb } from "../storage/db.ts";
import { configurationEnv, exportInstance, importInstance, printable, type Manifest, type Progress } from "../portable/archive.ts";
import { backupInstance, parseKeep } from "../portable/backup.ts";
import { translator } from "../web/i18n.ts";

const USAGE = `Utilisation : coopol <commande> [options]

  member add --username NOM [--display-name "Nom affiché"] [--role member] [--password-file FICHIER]
             (sans --password-file, le mot de passe est lu sur l'entrée standard)
  member list [--json]
  member set-role --username NOM --role ROLE
  member disable --username NOM
  member enable --username NOM
  invite create [--role member] [--days 7]
  export --out FICHIER.tar.gz       (archive de l'instance, serveur en marche ou non)
  import --archive FICHIER.tar.gz   (dans un COOPOL_DATA vide, même COOPOL_ORIGIN)
  backup --out DOSSIER [--keep 7]   (sauvegarde datée ; garde les 7 dernières)

Rôles : member, sympathisant, secretary, moderator, admin.
Les variables COOPOL_DATA, COOPOL_ORIGIN… sont celles du serveur (docs/configuration.md).

Hébergement de plusieurs instances (COOPOL_HOST_DATA, docs/hosting.md) :
  host add --domain DOMAINE --name "Nom" [--kind section] [--territory 75111] [--parent compte@domaine] [--children a@x,b@y]
  host list [--json]
  host suspend|resume|remove --domain DOMAINE
  host import --archive FICHIER.tar.gz   (une instance venue d'ailleurs, sous son domaine)
  host backup --out DOSSIER [--keep 7]   (toutes les instances, serveur en marche)
  export|backup --domain DOMAINE …       (une instance hébergée)
  member …|invite … --domain DOMAINE   (les commandes ci-dessus, sur une instance hébergée)`;

const t = translator("fr");

async function readPassword(file: string | undefined): Promise<string> {
  if (file) return readFileSync(file, "utf8").replace(/\r?\n$/, "");
  if (process.stdin.isTTY) process.stderr.write("Mot de passe : ");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

function need(value: string | undefined, name: string): string {
  if (!value) throw new UserError("cli_missing_option", 2, { name });
  return value;
}

const FILE_COMMANDS = ["export", "import", "backup"];

function size(bytes: number): string {
  const units = ["o", "Kio", "Mio", "Gio"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toLocaleString("fr-FR", { maximumFractionDigits: unit ? 1 : 0 })} ${units[unit]}`;
}

function progressLine(p: Progress): string {
  switch (p.step) {
    case "database":
      return `Base de données copiée (copie cohérente) : ${size(p.bytes)}.`;
    case "media":
      return `Médias : ${p.files} fichier(s), ${size(p.bytes)}.`;
    case "archive":
      return `Archive écrite : ${p.file} (${size(p.bytes)}).`;
    case "verified":
      return `Archive vérifiée : ${p.files} fichier(s), ${size(p.bytes)}, empreintes conformes.`;
  }
}

/**
 * Commands on the data directory as a whole. They run before the database is
 * opened: `import` needs an empty directory, `export` and `backup` copy the
 * file as it is (with its own connection) while the server may be running.
 */
export async function runFileCommand(argv: string[], config: Config, out: (line: string) => void): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: { out: { type: "string" }, archive: { type: "string" }, keep: { type: "string" }, domain: { type: "string" } }, strict: true });
  const report = (p: Progress) => out(progressLine(p));
  switch (command) {
    case "export":
      out(`Export de ${config.origin} (${config.dataDir})…`);
      await exportInstance(config.dataDir, config, need(values.out, "--out"), report);
      out("Gardez cette archive en lieu sûr : elle contient les données des membres et les clés privées des comptes.");
      return;
    case "import": {
      const manifest = await importInstance(need(values.archive, "--archive"), config.dataDir, { origin: config.origin }, report);
      out(`Instance ${manifest.origin} restaurée dans ${config.dataDir} (archive du ${printable(manifest.created_at)}).`);
      for (const line of configurationDifferences(manifest, config)) out(line);
      out("Démarrez le serveur : la base sera mise à niveau et les envois en attente repartiront.");
      return;
    }
    case "backup": {
      const keep = parseKeep(values.keep);
      const result = await backupInstance(config.dataDir, config, need(values.out, "--out"), { keep, progress: report });
      for (const old of result.removed) out(`Ancienne sauvegarde supprimée : ${old}`);
      return;
    }
  }
}

/** The archive's settings that differ from this configuration, for the operator to check. */
function configurationDifferences(manifest: Manifest, config: Config): string[] {
  const here = configurationEnv(config);
  const there = typeof manifest.configuration === "object" && manifest.configuration !== null ? manifest.configuration : {};
  // Only the variables we write: the manifest is text from a file, shown in a terminal.
  const names = Object.keys(here).concat(Object.keys(there).filter((name) => /^COOPOL_[A-Z_]{1,40}$/.test(name) && !(name in here)));
  const differ = names.filter((name) => name !== "LOG_LEVEL" && printable(here[name]) !== printable(there[name])).slice(0, 20);
  if (differ.length === 0) return [];
  return [
    "Attention : la configuration d'ici diffère de celle de l'instance exportée :",
    ...differ.map((name) => `  ${name} : ici « ${printable(here[name])} », dans l'archive « ${printable(there[name])} »`),
  ];
}

export async function run(argv: string[], config: Config, db: OpenDb, out: (line: string) => void): Promise<void> {
  const [group, command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      username: { type: "string" },
      "display-name": { type: "string" },
      role: { type: "string" },
      "password-file": { type: "string" },
      days: { type: "string" },
      json: { type: "boolean" },
      domain: { type: "string" },
    },
    strict: true,
  });
  const key = `${group ?? ""} ${command ?? ""}`;
  switch (key) {
    case "member add": {
      const password = await readPassword(values["password-file"]);
      const user = await createMember(db, config, {
        username: need(values.username, "--username"),
        displayName: values["display-name"],
        password,
        role: parseRole(values.role ?? "member"),
      });
      out(`Compte créé : @${user.username} (${t(`role.${user.role}`)}).`);
      return;
    }
    case "member list": {
      const rows = listMembers(db);
      if (values.json) {
        out(JSON.stringify(rows.map((m) => ({ username: m.username, displayName: m.displayName, role: m.role, disabled: !!m.disabledAt }))));
        return;
      }
      if (rows.length === 0) out("Aucun compte pour l'instant.");
      for (const m of rows) out(`${m.username}\t${m.displayName}\t${m.role}${m.disabledAt ? "\tdésactivé" : ""}`);
      return;
    }
    case "member set-role": {
      const user = setRole(db, need(values.username, "--username"), parseRole(need(values.role, "--role")));
      out(`@${user.username} a maintenant le rôle ${t(`role.${user.role}`)}.`);
      return;
    }
    case "member disable": {
      const user = disableMember(db, need(values.username, "--username"));
      out(`Le compte @${user.username} est désactivé ; ses sessions sont fermées.`);
      return;
    }
    case "member enable": {
      const user = enableMember(db, need(values.username, "--username"));
      out(`Le compte @${user.username} est réactivé.`);
      return;
    }
    case "invite create": {
      const days = values.days ? Number(values.days) : undefined;
      const invitation = createInvitation(db, config, { role: parseRole(values.role ?? "member"), days });
      out(invitation.url);
      out(`(à usage unique, valable jusqu'au ${new Date(invitation.expiresAt).toLocaleString("fr-FR", { timeZone: "Europe/Paris" })})`);
      return;
    }
    default:
      throw new UserError("cli_usage", 2);
  }
}

/** The value of `--domain` (or `--domain=…`) anywhere in the arguments. */
function domainOption(argv: string[]): string | undefined {
  const at = argv.indexOf("--domain");
  if (at >= 0) return argv[at + 1];
  return argv.find((a) => a.startsWith("--domain="))?.slice("--domain=".length);
}

/** `coopol host …`: the host's registry (src/host/provision.ts, shared with the operator's page). */
export async function runHost(argv: string[], registry: Registry, out: (line: string) => void): Promise<void> {
  const [, command, ...rest] = argv;
  // Loaded here only: the member commands start faster without the archiver.
  const { addInstance, backupHost, importHostedInstance, listInstances, removeInstance, resumeInstance, suspendInstance } = await import("../host/provision.ts");
  const { values } = parseArgs({
    args: rest,
    options: {
      domain: { type: "string" },
      name: { type: "string" },
      kind: { type: "string" },
      territory: { type: "string" },
      parent: { type: "string" },
      children: { type: "string" },
      handle: { type: "string" },
      json: { type: "boolean" },
      archive: { type: "string" },
      out: { type: "string" },
      keep: { type: "string" },
    },
    strict: true,
  });
  const report = (p: Progress) => out(`  ${progressLine(p)}`);
  switch (command) {
    case "add": {
      const { entry, setupUrl } = addInstance(registry, {
        domain: need(values.domain, "--domain"),
        name: values.name,
        handle: values.handle,
        kind: values.kind,
        territory: values.territory,
        parent: values.parent,
        children: values.children?.split(/[\s,]+/).filter(Boolean),
      });
      out(`Instance créée : ${entry.origin} (${t(`kind.${entry.kind}`)}, @${entry.handle}@${entry.domain}).`);
      out(`Première connexion / First run (lien à usage unique pour le ou la secrétaire) :`);
      out(setupUrl);
      return;
    }
    case "list": {
      const rows = listInstances(registry);
      if (values.json) {
        out(JSON.stringify(rows.map(({ domain, origin, name, handle, kind, territory, parent, children, state, createdAt, lastActivityAt, size }) => ({ domain, origin, name, handle, kind, territory, parent, children, state, createdAt, lastActivityAt, size }))));
        return;
      }
      if (rows.length === 0) out("Aucune instance hébergée pour l'instant.");
      for (const r of rows) {
        const last = r.lastActivityAt ? new Date(r.lastActivityAt).toISOString() : "-";
        out(`${r.domain}\t${r.name}\t${r.kind}\t${t(`host.state.${r.state}`)}\t${Math.ceil(r.size / 1024)} Kio\t${last}`);
      }
      return;
    }
    case "suspend":
      out(t("host.suspended", { domain: suspendInstance(registry, need(values.domain, "--domain")).domain }));
      return;
    case "resume":
      out(t("host.resumed", { domain: resumeInstance(registry, need(values.domain, "--domain")).domain }));
      return;
    case "remove": {
      const domain = need(values.domain, "--domain");
      const { archive } = await removeInstance(registry, domain);
      out(t("host.removed", { domain, archive }));
      return;
    }
    case "import": {
      const { entry, manifest } = await importHostedInstance(registry, need(values.archive, "--archive"), report);
      out(t("host.imported", { domain: entry.domain, origin: entry.origin, date: printable(manifest.created_at) }));
      return;
    }
    case "backup": {
      const keep = parseKeep(values.keep);
      const results = await backupHost(registry, need(values.out, "--out"), {
        keep,
        started: (entry, index, count) => out(t("host.backup.instance", { domain: entry.domain, index: index + 1, count })),
        progress: report,
      });
      const failed = results.filter((r) => r.error !== undefined);
      for (const r of results) for (const old of r.removed ?? []) out(`Ancienne sauvegarde supprimée : ${old}`);
      for (const r of failed) out(t("host.backup.failed_one", { domain: r.domain, error: r.error instanceof UserError ? t(r.error.code, r.error.params) : String(r.error) }));
      out(t("host.backup.done", { done: results.length - failed.length, count: results.length }));
      if (failed.length) throw new UserError("host_backup_failed", 1, { count: failed.length });
      return;
    }
    default:
      throw new UserError("cli_usage", 2);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv[0] === "help" || argv.includes("--help")) {
    process.stdout.write(USAGE + "\n");
    return;
  }
  const out = (line: string) => process.stdout.write(line + "\n");
  let config: Config;
  let registry: Registry | null = null;
  try {
    const domain = domainOption(argv);
    if (argv[0] === "host" || domain !== undefined) {
      registry = new Registry(loadHostConfig().dataDir);
      if (argv[0] === "host") return await report(() => runHost(argv, registry!, out));
      const entry = registry.get(normaliseDomain(domain ?? "") ?? "");
      if (!entry) return await report(() => Promise.reject(new UserError("host_not_found", 404, { domain: domain ?? "" })));
      config = configFor(entry);
    } else {
      config = loadConfig();
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Erreur de configuration : ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  } finally {
    registry?.close();
  }
  let db: OpenDb | null = null;
  try {
    if (FILE_COMMANDS.includes(argv[0]!)) {
      await report(() => runFileCommand(argv, config, out));
    } else {
      db = openDatabase(join(config.dataDir, "coopol.sqlite"));
      ensureInstanceActors(db, config);
      const open = db;
      await report(() => run(argv, config, open, out));
    }
  } finally {
    db?.$client.close();
  }
}

/** Runs a command; its refusals become one sentence and an exit code. */
async function report(command: () => Promise<void>): Promise<void> {
  try {
    await command();
  } catch (error) {
    if (error instanceof UserError) {
      const message = error.code === "cli_usage" ? USAGE : error.code === "cli_missing_option" ? `Option manquante : ${error.params.name}` : t(error.code, error.params);
      process.stderr.write(message + "\n");
      process.exit(error.status === 2 ? 2 : 1);
    }
    if (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    throw error;
  }
}

if (import.meta.main) await main();
