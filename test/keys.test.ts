// Actor keys are made on first use. Concurrent first requests for a new
// member's actor document must all show the one key pair that is stored, not
// each a pair of its own (only one of which would be kept). Checked on a real
// instance process.
import { createPublicKey } from "node:crypto";
import t from "tap";
import { request } from "undici";
import { startInstance, type TestInstance } from "./helpers/instances.ts";

let ka: TestInstance;

t.before(async () => {
  ka = await startInstance("ka");
});

t.teardown(async () => {
  await ka?.stop();
});

interface ActorDocument {
  publicKey?: { id?: string; publicKeyPem?: string };
  assertionMethod?: Array<{ id?: string; publicKeyMultibase?: string }> | { id?: string; publicKeyMultibase?: string };
}

async function actorDocument(username: string): Promise<ActorDocument> {
  const res = await request(`${ka.origin}/users/${username}`, { headers: { accept: "application/activity+json" } });
  if (res.statusCode !== 200) throw new Error(`GET /users/${username}: ${res.statusCode}`);
  return (await res.body.json()) as ActorDocument;
}

const pemOf = (jwk: string) => createPublicKey({ key: JSON.parse(jwk), format: "jwk" }).export({ type: "spki", format: "pem" }).toString();
const flat = (pem: string | undefined) => (pem ?? "").replace(/\s+/g, "");
const multibases = (document: ActorDocument) =>
  [document.assertionMethod ?? []].flat().map((m) => m.publicKeyMultibase ?? "").sort().join(" ");

t.test("ten concurrent first requests for a new member's actor all show the stored keys", async (t) => {
  ka.addMember("carol");
  t.equal(ka.query("select 1 from actor_keys k join actors a on a.id = k.actor_id where a.username = 'carol'").length, 0, "carol has no keys yet");

  const documents = await Promise.all(Array.from({ length: 10 }, () => actorDocument("carol")));
  const pems = new Set(documents.map((d) => flat(d.publicKey?.publicKeyPem)));
  t.equal(pems.size, 1, "one RSA public key across the ten answers");
  t.notOk(pems.has(""), "every answer has an RSA public key");
  t.equal(new Set(documents.map(multibases)).size, 1, "one set of assertion methods (RSA and Ed25519) across the ten answers");

  const stored = ka.query<{ algorithm: string; public_jwk: string }>(
    "select algorithm, public_jwk from actor_keys k join actors a on a.id = k.actor_id where a.username = 'carol' order by algorithm",
  );
  t.same(stored.map((r) => r.algorithm), ["Ed25519", "RSASSA-PKCS1-v1_5"], "one stored pair per algorithm");
  const rsa = stored.find((r) => r.algorithm === "RSASSA-PKCS1-v1_5")!;
  t.equal([...pems][0], flat(pemOf(rsa.public_jwk)), "the key shown is the stored one");

  // Later requests (from the in-memory cache) show the same key.
  const again = await actorDocument("carol");
  t.equal(flat(again.publicKey?.publicKeyPem), [...pems][0], "a later request shows the same key");
  t.equal(multibases(again), multibases(documents[0]!), "and the same assertion methods");
});

t.test("members get distinct keys", async (t) => {
  ka.addMember("dan");
  const [carol, dan] = await Promise.all([actorDocument("carol"), actorDocument("dan")]);
  t.not(flat(carol.publicKey?.publicKeyPem), flat(dan.publicKey?.publicKeyPem), "carol and dan do not share a key");
});
