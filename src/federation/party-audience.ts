// The wire side of the party's post audiences (src/party/audiences.ts): the
// Note says who it is for in a Coopol payload, {type: "Audience", id,
// audience: "federation" | "party", federation?: <fédération node actor>}
// (docs/federation.md), and a receiver keeps it only from a server of that
// audience as it itself sees it. Such a Note is never addressed to Public nor
// to followers: other software reads it as a direct message to no one.
import { PropertyValue, type Note, type Question } from "@fedify/vocab";
import { canSee } from "../posts/visibility.ts";
import type { Services } from "../services.ts";
import type { PostRow } from "../posts/posts.ts";
import type { Visibility } from "../storage/schema.ts";
import { inAudience, isPartyAudience, type PartyAudience } from "../party/audiences.ts";
import { ourFederationUri } from "../party/directory.ts";
import { PAYLOAD_NAME, readPayload } from "./territory.ts";
import type { ActorRow } from "./actors.ts";

/** The payload our Note carries when it is for the fédération or the party. */
export function audienceMarkers(services: Services, post: PostRow): PropertyValue[] {
  if (!isPartyAudience(post.visibility)) return [];
  const federation = post.visibility === "federation" ? ourFederationUri(services) : undefined;
  return [new PropertyValue({ name: PAYLOAD_NAME, value: JSON.stringify({ type: "Audience", id: post.uri, audience: post.visibility, ...(federation ? { federation } : {}) }) })];
}

/**
 * The audience a received Note claims, as we accept it: null when it claims
 * none (ordinary addressing applies), "refused" when it claims one we cannot
 * vouch for — an unknown audience, a sender outside it, another fédération —
 * and the Note must then not be stored at all.
 */
export async function receivedAudience(services: Services, note: Note | Question, author: ActorRow): Promise<PartyAudience | "refused" | null> {
  const payload = await readPayload(note).catch(() => null);
  if (payload?.type !== "Audience") return null;
  const audience = String(payload.audience) as Visibility;
  if (!isPartyAudience(audience) || !inAudience(services, audience, author.uri)) return "refused";
  if (audience === "federation" && (typeof payload.federation !== "string" || payload.federation !== ourFederationUri(services))) return "refused";
  return audience;
}

/**
 * Whether a remote actor may react to one of our posts (like it, vote on its
 * poll): the ordinary rule, or, for a post of the fédération or the party, an
 * actor whose server is in that audience as we see it. Its server shows the
 * post to its card-holders only, so a reaction from there comes from one.
 */
export function remoteMayRead(services: Services, actor: ActorRow, post: Pick<PostRow, "visibility" | "actorId" | "sympathisants" | "id">): boolean {
  if (canSee(services.db, { kind: "remote", actorId: actor.id }, post)) return true;
  return isPartyAudience(post.visibility) && inAudience(services, post.visibility, actor.uri);
}
