// Announce: a remote actor boosts a post (ours or anyone's).
import type { InboxContext } from "@fedify/fedify";
import type { Announce } from "@fedify/vocab";
import { eq, sql } from "drizzle-orm";
import type { Services } from "../../services.ts";
import type { Db } from "../../storage/db.ts";
import { newId } from "../../storage/ids.ts";
import { posts } from "../../storage/schema.ts";
import { fanOut, findPostByUri } from "../../posts/posts.ts";
import { resolveNoteObject } from "../notes.ts";
import { senderOf } from "./common.ts";
import { notify } from "../../notifications/notifications.ts";
import { onTerritoryAnnounce } from "./territory.ts";
import { afterGroupBoost, onGroupAnnounce, relayedByGroupAlready } from "./group.ts";

export async function onAnnounce(ctx: InboxContext<Services>, announce: Announce): Promise<void> {
  const { db } = ctx.data;
  // A fédération relaying its sections' results, or its national level's campaigns.
  if (await onTerritoryAnnounce(ctx, announce)) return;
  // A thematic group relaying an activity (FEP-1b12) rather than boosting a post.
  if (await onGroupAnnounce(ctx, announce)) return;
  if (!announce.id || !announce.objectId) return;
  if (findPostByUri(db, announce.id.href)) return;
  const resolved = await resolveNoteObject(ctx, announce.objectId);
  const original = resolved?.post;
  // Only public and unlisted posts can be boosted.
  if (!original || (original.visibility !== "public" && original.visibility !== "unlisted")) {
    ctx.data.log.info({ activity: announce.id.href, object: announce.objectId.href }, "announce: not a public post here, ignored");
    return;
  }
  const actor = await senderOf(ctx, announce);
  if (!actor) return;
  // A public group relays a post both as an activity and as this boost: the members have it already.
  const relayed = relayedByGroupAlready(ctx, actor, original);
  const reblog = db.transaction((tx) => {
    const row = tx
      .insert(posts)
      .values({ id: newId(), uri: announce.id!.href, actorId: actor.id, reblogOfId: original.id, visibility: "public", publishedAt: announce.published?.epochMilliseconds ?? Date.now() })
      .onConflictDoNothing()
      .returning()
      .get();
    if (!row) return null;
    tx.update(posts).set({ reblogsCount: sql`${posts.reblogsCount} + 1` }).where(eq(posts.id, original.id)).run();
    if (!relayed) fanOut(tx, row);
    return row;
  });
  if (!reblog) return;
  await afterGroupBoost(ctx, actor, original, resolved!.note);
  notify(ctx.data, { recipientActorId: original.actorId, type: "reblog", fromActorId: actor.id, postId: original.id });
  if (!relayed) ctx.data.events.emit("post.created", reblog);
}
