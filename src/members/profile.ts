// A member's public profile: display name, biography, and whether follow
// requests need approval (a locked account).
import { eq } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Services } from "../services.ts";
import { actors } from "../storage/schema.ts";
import { formatText, tagUrl } from "../posts/content.ts";
import { record } from "../outbox/outbox.ts";
import { actorOf, type Actor, type User } from "./members.ts";

export interface ProfileChanges {
  displayName?: string;
  /** Plain text, turned into safe HTML. */
  bio?: string;
  locked?: boolean;
  /** Addresses of images already stored (see media/media.ts). */
  avatarUrl?: string;
  headerUrl?: string;
}

export async function updateProfile(services: Services, user: User, changes: ProfileChanges): Promise<Actor> {
  const { db, config } = services;
  const name = changes.displayName?.trim();
  if (name !== undefined && name.length > 100) throw new UserError("display_name_too_long", 422);
  if (changes.bio !== undefined && changes.bio.length > 1000) throw new UserError("bio_too_long", 422);
  return db.transaction((tx) => {
    const actor = tx
      .update(actors)
      .set({
        ...(name !== undefined ? { name: name || user.username } : {}),
        ...(changes.bio !== undefined
          ? { summary: changes.bio.trim() ? formatText(changes.bio, { mentionUrl: () => null, tagUrl: (tag) => tagUrl(config.origin, tag) }) : "" }
          : {}),
        ...(changes.locked !== undefined ? { locked: changes.locked } : {}),
        ...(changes.avatarUrl !== undefined ? { avatarUrl: changes.avatarUrl } : {}),
        ...(changes.headerUrl !== undefined ? { headerUrl: changes.headerUrl } : {}),
        updatedAt: Date.now(),
      })
      .where(eq(actors.id, actorOf(tx, user).id))
      .returning()
      .get();
    record(tx, { kind: "profile.updated", actorId: actor.id });
    return actor;
  });
}
