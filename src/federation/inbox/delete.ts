// Delete: a post (or a whole account) is gone from its server.
import type { InboxContext } from "@fedify/fedify";
import type { Delete } from "@fedify/vocab";
import { eq } from "drizzle-orm";
import type { Services } from "../../services.ts";
import { actors } from "../../storage/schema.ts";
import { eraseRemoteActor } from "../../members/erasure.ts";
import { findPostByUri, removePost } from "../../posts/posts.ts";
import { localGroupLinks, onGroupPostChanged } from "./group.ts";

export async function onDelete(ctx: InboxContext<Services>, del: Delete): Promise<void> {
  const { db } = ctx.data;
  const objectId = del.objectId;
  if (!objectId || !del.actorId || objectId.origin !== del.actorId.origin) return;
  const actor = db.select().from(actors).where(eq(actors.uri, del.actorId.href)).get();
  if (!actor || actor.local) return;
  if (objectId.href === actor.uri) {
    // The account itself is erased: everything we hold of it goes (members/erasure.ts).
    eraseRemoteActor(db, actor);
    return;
  }
  const post = findPostByUri(db, objectId.href);
  if (!post || post.actorId !== actor.id) return;
  const inGroups = localGroupLinks(ctx, post);
  removePost(ctx.data, post);
  await onGroupPostChanged(ctx, inGroups, post, actor, del);
}
