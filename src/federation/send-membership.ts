// What a section sends when a member's attested status changes: an `Update`
// from its node actor carrying the new signed attestation, to the servers of
// the remote groups the member belongs to (or asked to join), so they re-check
// at once. Party servers only: the status is special-category data, and a
// group elsewhere in the fediverse has no use for it.
import { Object as APObject, PropertyValue, Update } from "@fedify/vocab";
import { and, eq } from "drizzle-orm";
import type { Services } from "../services.ts";
import { actors, follows, users } from "../storage/schema.ts";
import { ATTESTATION_FIELD, issueAttestation } from "../party/attestations.ts";
import { isPartyDomain } from "../party/directory.ts";
import { membershipUrl, nodeActor, type ActorRow } from "./actors.ts";
import { activityKey } from "./activity-ids.ts";
import { deliver } from "./send.ts";

export async function membershipChanged(services: Services, member: ActorRow): Promise<void> {
  const { db } = services;
  const user = db.select().from(users).where(eq(users.actorId, member.id)).get();
  if (!user) return;
  const groupsJoined = db
    .select({ actor: actors })
    .from(follows)
    .innerJoin(actors, eq(actors.id, follows.followingId))
    .where(and(eq(follows.followerId, member.id), eq(actors.local, false), eq(actors.type, "Group")))
    .all()
    .map((r) => r.actor)
    .filter((group) => isPartyDomain(services.db, group.domain));
  if (groupsJoined.length === 0) return;
  const attestation = await issueAttestation(services, user);
  const node = nodeActor(services);
  await deliver(services, node, groupsJoined, new Update({
    id: new URL(`${node.uri}#membership/${activityKey()}`),
    actor: new URL(node.uri),
    object: new APObject({
      id: new URL(membershipUrl(member.uri)),
      attribution: new URL(node.uri),
      // As text: the proof covers the attestation's exact JSON, which Fedify would re-compact if it were embedded.
      attachments: [new PropertyValue({ name: ATTESTATION_FIELD, value: JSON.stringify(attestation) })],
    }),
    tos: groupsJoined.map((g) => new URL(g.uri)),
  }));
}
