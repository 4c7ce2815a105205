// Federation modes, as Mastodon, Lemmy and GoToSocial offer them:
// - open: every server (the default);
// - blocklist: every server but the domains the admins named: `silence`
//   (their posts stay out of public timelines, their follows wait for
//   approval) or `suspend` (nothing in or out, existing follows dropped);
// - party_only: the party directory's nodes only (isPartyDomain), plus the
//   domains the admins allow.
// Inbound activities are refused in one place (federation/guard.ts), outbound
// deliveries in one place (federation/send.ts deliver). Public documents
// (actors, WebFinger, public posts) are still answered to anyone: they are
// public on the web anyway, and a party-only node must stay discoverable by
// the party's own servers before they are in the directory.
import { eq, inArray, or } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { actors, federationDomains, follows, settings, type DomainPolicy } from "../storage/schema.ts";
import { FEDERATION_MODES, type FederationMode } from "../config.ts";
import { isPartyDomain } from "./directory.ts";

const MODE_KEY = "federation.mode";

export type DomainRow = typeof federationDomains.$inferSelect;

/** The mode in force: the admins' choice on the web, else COOPOL_FEDERATION_MODE. */
export function federationMode(services: Pick<Services, "db" | "config">): FederationMode {
  const stored = services.db.select().from(settings).where(eq(settings.key, MODE_KEY)).get()?.value;
  return FEDERATION_MODES.find((m) => m === stored) ?? services.config.federationMode;
}

export function setFederationMode(db: Db, mode: string): void {
  if (!FEDERATION_MODES.some((m) => m === mode)) throw new UserError("federation_mode_invalid", 400);
  db.insert(settings).values({ key: MODE_KEY, value: mode }).onConflictDoUpdate({ target: settings.key, set: { value: mode } }).run();
}

function policyOf(db: Db, domain: string): DomainPolicy | undefined {
  return db.select({ policy: federationDomains.policy }).from(federationDomains).where(eq(federationDomains.domain, domain.toLowerCase())).get()?.policy;
}

/** Whether this instance exchanges activities with a server (host, with its port if any). */
export function mayFederate(services: Pick<Services, "db" | "config">, domain: string): boolean {
  return federationFilter(services)(domain);
}

/** The same question for many servers (a delivery's recipients): the mode is read once. */
export function federationFilter(services: Pick<Services, "db" | "config">): (domain: string) => boolean {
  const { db, config } = services;
  const own = new URL(config.origin).host;
  const mode = federationMode(services);
  if (mode === "open") return () => true;
  const declared = declaredDomains(config);
  return (domain) => {
    const host = domain.toLowerCase();
    if (host === own) return true;
    if (mode === "blocklist") return policyOf(db, host) !== "suspend";
    return policyOf(db, host) === "allow" || declared.has(host) || isPartyDomain(db, host);
  };
}

/** The servers of the parent and children this node declares: the links must be made before any directory lists them. */
function declaredDomains(config: Services["config"]): Set<string> {
  return new Set([config.parent, ...config.children].filter((h): h is string => !!h).map((h) => h.split("@")[1]!));
}

/** Whether a server's posts stay out of public timelines and its follows wait for approval. */
export function isSilenced(services: Pick<Services, "db" | "config">, domain: string): boolean {
  return federationMode(services) === "blocklist" && policyOf(services.db, domain) === "silence";
}

/** Silenced domains, for the public timelines' WHERE clause (empty unless in blocklist mode). */
export function silencedDomains(services: Pick<Services, "db" | "config">): string[] {
  if (federationMode(services) !== "blocklist") return [];
  return services.db.select({ domain: federationDomains.domain }).from(federationDomains).where(eq(federationDomains.policy, "silence")).all().map((r) => r.domain);
}

export function domainPolicies(db: Db): DomainRow[] {
  return db.select().from(federationDomains).orderBy(federationDomains.policy, federationDomains.domain).all();
}

/** A domain as admins type it (or a profile address): its host, lower case. */
export function normalizeDomain(text: string): string {
  const value = text.trim().toLowerCase();
  try {
    if (/^https?:\/\//.test(value)) return new URL(value).host;
  } catch {
    // read below
  }
  const host = value.replace(/^@?[^@]*@/, "").replace(/\/.*$/, "");
  if (!/^[a-z0-9.-]+(:\d+)?$/.test(host) || !host.includes(".") && !host.includes(":")) throw new UserError("federation_domain_invalid", 400, { domain: text.slice(0, 100) });
  return host;
}

/**
 * Names a domain (allow, silence or suspend) with a reason. Suspending drops
 * every follow between our accounts and theirs, both ways, as Mastodon does.
 */
export function setDomainPolicy(services: Pick<Services, "db" | "config">, domainText: string, policy: DomainPolicy, reason: string): string {
  const { db, config } = services;
  const domain = normalizeDomain(domainText);
  if (domain === new URL(config.origin).host) throw new UserError("federation_domain_self", 400);
  const values = { policy, reason: reason.trim().slice(0, 500) };
  db.transaction((tx) => {
    tx.insert(federationDomains).values({ domain, ...values }).onConflictDoUpdate({ target: federationDomains.domain, set: values }).run();
    if (policy === "suspend") {
      const theirs = tx.select({ id: actors.id }).from(actors).where(eq(actors.domain, domain)).all().map((a) => a.id);
      if (theirs.length) tx.delete(follows).where(or(inArray(follows.followerId, theirs), inArray(follows.followingId, theirs))).run();
    }
  });
  return domain;
}

export function removeDomainPolicy(db: Db, domain: string): void {
  db.delete(federationDomains).where(eq(federationDomains.domain, domain.toLowerCase())).run();
}
