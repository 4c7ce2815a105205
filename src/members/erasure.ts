// Erasing an account (GDPR art. 17): a member deleting their own account, a
// secretary removing one, or another server telling us that one of its
// accounts is gone (an actor `Delete`, src/federation/inbox/delete.ts). One
// function drops what points at the actor, for both (docs/security.md,
// "Erasure").
import { rmSync } from "node:fs";
import { join } from "node:path";
import { and, eq, isNotNull, or, sql } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { actors, follows, media, posts, sessions, users } from "../storage/schema.ts";
import { mediaDir } from "../media/media.ts";
import { record } from "../outbox/outbox.ts";
import { actorOf, canManageMembers, countOtherManagers, type User } from "./members.ts";
import { verifyPassword } from "./passwords.ts";

interface Reference {
  table: string;
  column: string;
  notNull: boolean;
}

/**
 * Every column that points at `actors` or `users`, read from SQLite's own
 * foreign keys, so a table added later is covered without a list to keep.
 */
function referencesTo(db: Db, target: "actors" | "users"): Reference[] {
  return db.all<Reference>(sql`
    select m.name as "table", f."from" as "column", i."notnull" as "notNull"
    from sqlite_master m
    join pragma_foreign_key_list(m.name) f
    join pragma_table_info(m.name) i on i.name = f."from"
    where m.type = 'table' and f."table" = ${target}`);
}

/** Nullable links that must not survive as orphans: an access token without its member would become an app's token. */
const DELETE_EVEN_IF_NULLABLE = new Set(["oauth_tokens.user_id", "group_bans.actor_id", "invitations.created_by"]);
/** Kept with a local tombstone: its keys sign the `Delete` receivers verify. */
const KEPT_FOR_TOMBSTONE = new Set(["actor_keys.actor_id", "users.actor_id"]);

function dropReferences(db: Db, target: "actors" | "users", id: number, keep: Set<string>): void {
  for (const ref of referencesTo(db, target)) {
    const key = `${ref.table}.${ref.column}`;
    if (keep.has(key)) continue;
    const table = sql.identifier(ref.table);
    const column = sql.identifier(ref.column);
    if (ref.notNull || DELETE_EVEN_IF_NULLABLE.has(key)) db.run(sql`delete from ${table} where ${column} = ${id}`);
    else db.run(sql`update ${table} set ${column} = null where ${column} = ${id}`);
  }
}

/**
 * Drops everything of an actor's on this instance: posts (and others' boosts
 * of them), likes, follows both ways, answers to events, poll votes, stances,
 * group roles and bans, notifications from them, media, and what they
 * organised. Call it in a transaction. Counters of other people's posts are
 * corrected first. Results sent up keep their numbers: only their
 * `recorded_by` link goes (with the user row, eraseMember).
 */
export function eraseActorData(db: Db, actorId: number, options: { keepKeys: boolean }): void {
  const id = actorId;
  db.run(sql`update posts set favourites_count = max(favourites_count - 1, 0) where id in (select post_id from likes where actor_id = ${id})`);
  db.run(sql`update posts set replies_count = max(replies_count - (select count(*) from posts r where r.in_reply_to_id = posts.id and r.actor_id = ${id}), 0)
    where id in (select in_reply_to_id from posts where actor_id = ${id} and in_reply_to_id is not null)`);
  db.run(sql`update posts set reblogs_count = max(reblogs_count - (select count(*) from posts r where r.reblog_of_id = posts.id and r.actor_id = ${id}), 0)
    where id in (select reblog_of_id from posts where actor_id = ${id} and reblog_of_id is not null)`);
  // Others' boosts of the actor's posts go with them, as when one post is deleted.
  db.run(sql`delete from posts where reblog_of_id in (select id from posts where actor_id = ${id})`);
  // Media of others attached to the actor's events lose the link, not the file.
  db.run(sql`update media set event_id = null where event_id in (select id from events where actor_id = ${id})`);
  dropReferences(db, "actors", id, options.keepKeys ? KEPT_FOR_TOMBSTONE : new Set(["users.actor_id"]));
}

/**
 * Erases a local member: their data as above, then their account (sessions,
 * tokens, push subscriptions, invitations made, e-mail…); the actor row stays
 * as a tombstone with its keys, so its name is never given to someone else
 * and the `Delete` sent to every server we know can be verified. Other
 * servers are told through the outbox ("account.deleted").
 */
export function eraseMember(services: Services, user: User): void {
  const { db } = services;
  if (canManageMembers(user.role) && countOtherManagers(db, user.id) === 0) throw new UserError("last_manager");
  const actor = actorOf(db, user);
  const files = db.select({ fileName: media.fileName }).from(media).where(and(eq(media.actorId, actor.id), isNotNull(media.fileName))).all();
  db.transaction((tx) => {
    tx.delete(sessions).where(eq(sessions.userId, user.id)).run();
    eraseActorData(tx, actor.id, { keepKeys: true });
    dropReferences(tx, "users", user.id, new Set());
    tx.delete(users).where(eq(users.id, user.id)).run();
    tx.update(actors)
      .set({ name: "", summary: "", url: null, avatarUrl: null, headerUrl: null, alsoKnownAs: null, locked: false, deletedAt: Date.now(), updatedAt: Date.now() })
      .where(eq(actors.id, actor.id))
      .run();
    record(tx, { kind: "account.deleted", actorId: actor.id });
  });
  // Their uploaded files go once the rows are gone (a file left behind by a crash here is never served).
  for (const { fileName } of files) if (fileName && /^[\w.-]+$/.test(fileName)) rmSync(join(mediaDir(services), fileName), { force: true });
  services.events.emit("member.changed", { userId: user.id });
}

/** A member deletes their own account: the password is asked again. */
export async function deleteOwnAccount(services: Services, user: User, password: string): Promise<void> {
  if (!(await verifyPassword(password, user.passwordHash))) throw new UserError("password_current_wrong", 403);
  eraseMember(services, user);
}

/**
 * A remote account is gone: drop what we held of it; its row stays, emptied,
 * so it cannot come back through a cached document. A group or a party node
 * (not a person) only loses its posts and follows: campaigns, links and group
 * records that name it are the hierarchy's and the groups' business.
 */
export function eraseRemoteActor(db: Db, actor: Pick<typeof actors.$inferSelect, "id" | "type">): void {
  const actorId = actor.id;
  if (actor.type !== "Person") {
    db.transaction((tx) => {
      tx.delete(posts).where(eq(posts.actorId, actorId)).run();
      tx.delete(follows).where(or(eq(follows.followerId, actorId), eq(follows.followingId, actorId))).run();
    });
    return;
  }
  db.transaction((tx) => {
    eraseActorData(tx, actorId, { keepKeys: false });
    tx.update(actors)
      .set({ name: "", summary: "", avatarUrl: null, headerUrl: null, alsoKnownAs: null, deletedAt: Date.now(), updatedAt: Date.now() })
      .where(eq(actors.id, actorId))
      .run();
  });
}
