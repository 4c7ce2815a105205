// The instance's own actors as ActivityPub sees them (their documents, keys
// and handles), built from their rows (actors.ts): a Person per member, the
// node's Group, the instance's Application, and the thematic groups.
import { Application, Endpoints, Group, Image, Person, PropertyValue } from "@fedify/vocab";
import type { Context, Federation } from "@fedify/fedify";
import { eq, sql } from "drizzle-orm";
import type { Services } from "../services.ts";
import { preparedOnce } from "../storage/prepared.ts";
import { actors, users } from "../storage/schema.ts";
import { ACTOR_PATH, aliasesOf, findLocalActor, keyPairsOf, MEMBERSHIP_FIELD, membershipUrl, type ActorRow } from "./actors.ts";
import { groupActorExtras } from "./group-actor.ts";
import { instant } from "./time.ts";

const disabledAtQuery = preparedOnce((db) =>
  db.select({ disabledAt: users.disabledAt }).from(users).where(eq(users.actorId, sql.placeholder("actorId"))).prepare(),
);

export async function buildActor(ctx: Context<Services>, row: ActorRow) {
  const identifier = row.username;
  const keys = await ctx.getActorKeyPairs(identifier);
  const values = {
    id: ctx.getActorUri(identifier),
    preferredUsername: identifier,
    name: row.name,
    summary: row.summary || null,
    url: row.url ? new URL(row.url) : null,
    inbox: ctx.getInboxUri(identifier),
    outbox: ctx.getOutboxUri(identifier),
    followers: ctx.getFollowersUri(identifier),
    following: ctx.getFollowingUri(identifier),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
    manuallyApprovesFollowers: row.locked,
    discoverable: row.type !== "Application",
    published: instant(row.createdAt),
    icon: row.avatarUrl ? new Image({ url: new URL(row.avatarUrl) }) : null,
    publicKey: keys[0]?.cryptographicKey ?? null,
    assertionMethods: keys.map((k) => k.multikey),
  };
  if (row.type === "Group") return new Group({ ...values, ...groupActorExtras(ctx, row) });
  if (row.type === "Application") return new Application(values);
  // A member's other accounts (a transfer accepted here) and where a moved account went;
  // where party nodes read the member's attestation: the address only, never the status.
  const movedTo = row.movedToId ? ctx.data.db.select({ uri: actors.uri }).from(actors).where(eq(actors.id, row.movedToId)).get() : undefined;
  return new Person({
    ...values,
    aliases: aliasesOf(row).map((uri) => new URL(uri)),
    successor: movedTo ? new URL(movedTo.uri) : null,
    attachments: row.deletedAt ? [] : [new PropertyValue({ name: MEMBERSHIP_FIELD, value: membershipUrl(values.id.href) })],
  });
}

export function registerActors(federation: Federation<Services>): void {
  federation
    .setActorDispatcher(ACTOR_PATH, async (ctx, identifier) => {
      const row = findLocalActor(ctx.data.db, identifier);
      if (!row) return null;
      // A disabled member's actor stays resolvable (their posts exist) but says nothing new.
      return buildActor(ctx, row);
    })
    .setKeyPairsDispatcher(async (ctx, identifier) => {
      const row = findLocalActor(ctx.data.db, identifier);
      return row ? keyPairsOf(ctx.data.db, row.id) : [];
    })
    .mapHandle((ctx, username) => {
      const row = findLocalActor(ctx.data.db, username.toLowerCase());
      // An erased account's document stays (its keys sign its Delete), but its handle leads nowhere.
      if (!row || row.deletedAt) return null;
      if (row.type === "Person") {
        const user = disabledAtQuery(ctx.data.db).get({ actorId: row.id });
        if (user?.disabledAt) return null;
      }
      return row.username;
    });
}
