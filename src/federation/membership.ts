// GET /users/<name>/membership: a member's signed attestation
// (src/party/attestations.ts). Party membership is special-category data, so
// it is answered only to a request signed by a party node's actor, or by the
// member themself; never to an anonymous or outside reader.
import type { Services } from "../services.ts";
import { findUserByUsername } from "../members/members.ts";
import { issueAttestation } from "../party/attestations.ts";
import { isPartyDomain } from "../party/directory.ts";

const HEADERS = { "content-type": "application/activity+json", "cache-control": "private, no-store", vary: "Accept, Signature, Authorization" };

export async function membershipResponse(services: Services, request: Request, username: string): Promise<Response> {
  const user = findUserByUsername(services.db, username);
  if (!user) return Response.json({ error: "No such member." }, { status: 404, headers: HEADERS });
  const ctx = services.federation.createContext(request, services);
  const key = await ctx.getSignedKey().catch(() => null);
  if (!key?.id) return Response.json({ error: "Sign this request as a node of the party." }, { status: 401, headers: HEADERS });
  // The key's own server vouches for it: that server must be a party node, or the key the member's.
  const subject = `${services.config.origin}/users/${user.username}`;
  const own = key.ownerId?.href === subject && key.id.origin === services.config.origin;
  if (!own && !isPartyDomain(services.db, key.id.host)) return Response.json({ error: "Only nodes of the party may read this." }, { status: 403, headers: HEADERS });
  return Response.json(await issueAttestation(services, user), { headers: HEADERS });
}
