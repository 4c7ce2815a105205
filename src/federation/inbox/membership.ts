// Update carrying a membership attestation (src/party/attestations.ts): a
// section tells the servers of its member's groups that the member's status
// changed. The attestation proves itself (its issuer's signature), whoever
// relays it; a verified, newer one is kept, and local groups re-check the member.
import type { InboxContext } from "@fedify/fedify";
import { Object as APObject, PropertyValue, type Update } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { ATTESTATION_FIELD, ATTESTATION_LIMITS, receiveAttestation } from "../../party/attestations.ts";
import { recheckRemoteMember } from "../../groups/groups.ts";
import { jsonTooDeep } from "../../bounds.ts";
import { actorByUri } from "../remote.ts";
import { sameOrigin } from "./common.ts";

/** The attestation an Update's object carries, as text, if it carries one. */
export async function attestationIn(object: unknown): Promise<string | null> {
  if (!(object instanceof APObject)) return null;
  for await (const item of object.getAttachments()) {
    if (item instanceof PropertyValue && item.name?.toString() === ATTESTATION_FIELD) return String(item.value ?? "");
  }
  return null;
}

export async function onMembershipUpdate(ctx: InboxContext<Services>, update: Update, object: APObject, text: string): Promise<void> {
  if (!sameOrigin(object.id, update.actorId)) return;
  if (text.length > ATTESTATION_LIMITS.bytes || jsonTooDeep(text)) return;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return;
  }
  const services = ctx.data;
  const received = await receiveAttestation(services, json, (uri) => actorByUri(services.db, uri));
  if (received) await recheckRemoteMember(services, received.actor, received.status);
}
