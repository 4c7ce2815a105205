// Post audiences that follow the party rather than the social graph: "my
// fédération" (`federation`) and "the whole party" (`party`). Who is in them
// is decided by the party's own records — the directory, or without one the
// territory links — never by follows, so that no one outside the party ever
// receives, fetches or reads such a post (membership is special-category data).
import type { Services } from "../services.ts";
import type { Visibility } from "../storage/schema.ts";
import type { Db } from "../storage/db.ts";
import type { ActorRow } from "../federation/actors.ts";
import { linkedChildren, linkedParent, linkedSiblings } from "../territory/links.ts";
import { federationNodes, federationOrigins, holdsDirectory, isPartyDomain, listPartyNodes, ourFederationUri } from "./directory.ts";

export const PARTY_AUDIENCES = ["federation", "party"] as const;
export type PartyAudience = (typeof PARTY_AUDIENCES)[number];

export function isPartyAudience(visibility: Visibility | string): visibility is PartyAudience {
  return (PARTY_AUDIENCES as readonly string[]).includes(visibility);
}

/** The party audiences this instance can address now (a fédération-wide one needs a fédération). */
export function availableAudiences(services: Services): PartyAudience[] {
  const { config, db } = services;
  // Asked for every page with the post form: each table read once, the directory's document never.
  const parent = config.kind === "national" ? undefined : linkedParent(db);
  const federation = config.kind === "federation" || (config.kind === "section" && !!parent);
  const party = !!parent || holdsDirectory(db) || linkedChildren(db).length > 0;
  return [...(federation ? (["federation"] as const) : []), ...(party ? (["party"] as const) : [])];
}

/**
 * Whether an actor (by URI) is on a server of the audience as this instance
 * sees it: for `federation`, our fédération and the nodes under it; for
 * `party`, any node of the party. Used for what we receive and for who may fetch.
 */
export function inAudience(services: Services, audience: PartyAudience, actorUri: string): boolean {
  const url = new URL(actorUri);
  if (url.origin === new URL(services.config.origin).origin) return false;
  return audience === "federation" ? federationOrigins(services).has(url.origin) : isPartyDomain(services.db, url.host);
}

/**
 * The node actors a post for this audience is delivered to (each on its own
 * server; never our own): with a directory, the nodes it lists (bounded by its
 * size); without, the nodes we are linked with.
 */
export function audienceNodeUris(services: Services, audience: PartyAudience): string[] {
  const { db } = services;
  const federationUri = ourFederationUri(services);
  if (audience === "federation" && !federationUri) return [];
  const listed = audience === "federation" ? federationNodes(db, federationUri!) : holdsDirectory(db) ? listPartyNodes(db) : null;
  const uris = listed ? listed.map((n) => n.actorUri) : linkedNodeUris(db);
  const own = new URL(services.config.origin).origin;
  const byOrigin = new Map<string, string>();
  for (const uri of uris) {
    const origin = new URL(uri).origin;
    if (origin !== own && !byOrigin.has(origin)) byOrigin.set(origin, uri);
  }
  return [...byOrigin.values()];
}

/** The nodes we have a territory link with: our fédération, its other sections, our sections. */
function linkedNodeUris(db: Db): string[] {
  return [linkedParent(db), ...linkedChildren(db)].filter((a): a is ActorRow => !!a).map((a) => a.uri).concat(linkedSiblings(db));
}
