// What a Group actor document says about itself. The section's node actor and
// thematic groups are both `Group`s: a `coopol:kind` profile field tells them
// apart (section, federation or national; or group), and a thematic group
// lists its themes as Hashtag tags and says whether it is members-only.
// Fields are schema:PropertyValue attachments because Fedify writes only the
// vocabulary it knows (see territory.ts), and Mastodon shows them as profile fields.
import type { Context } from "@fedify/fedify";
import { Hashtag, PropertyValue, type Actor } from "@fedify/vocab";
import type { Services } from "../services.ts";
import { GROUP_VISIBILITIES, type GroupVisibility } from "../storage/schema.ts";
import { groupOfActor, rememberRemoteGroup, themesOf } from "../groups/groups.ts";
import type { ActorRow } from "./actors.ts";
import { tagUrl } from "./convert.ts";
import type { Db } from "../storage/db.ts";

export const KIND_FIELD = "coopol:kind";
export const VISIBILITY_FIELD = "coopol:visibility";

export function groupActorExtras(ctx: Context<Services>, row: ActorRow): { attachments: PropertyValue[]; tags: Hashtag[] } {
  const { db, config } = ctx.data;
  const group = row.local ? groupOfActor(db, row.id) : undefined;
  if (!group) return { attachments: [new PropertyValue({ name: KIND_FIELD, value: config.kind })], tags: [] };
  return {
    attachments: [new PropertyValue({ name: KIND_FIELD, value: "group" }), new PropertyValue({ name: VISIBILITY_FIELD, value: group.visibility })],
    tags: themesOf(group).map((theme) => new Hashtag({ href: new URL(tagUrl(config.origin, theme)), name: `#${theme}` })),
  };
}

/** A remote Group whose document says it is a Coopol thematic group is remembered for the directory. */
export async function readRemoteGroup(db: Db, actor: Actor, row: ActorRow): Promise<void> {
  if (row.type !== "Group") return;
  let kind: string | null = null;
  let visibility: GroupVisibility | undefined;
  for await (const item of actor.getAttachments()) {
    if (!(item instanceof PropertyValue)) continue;
    const name = item.name?.toString();
    const value = String(item.value ?? "");
    if (name === KIND_FIELD) kind = value;
    if (name === VISIBILITY_FIELD && (GROUP_VISIBILITIES as readonly string[]).includes(value)) visibility = value as GroupVisibility;
  }
  if (kind !== "group") return;
  const themes: string[] = [];
  for await (const tag of actor.getTags()) {
    if (tag instanceof Hashtag && tag.name) themes.push(tag.name.toString().replace(/^#/, "").toLowerCase());
  }
  rememberRemoteGroup(db, row, { themes, visibility });
}
