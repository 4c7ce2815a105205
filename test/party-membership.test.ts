// Membership attestations between real instances: the party's hierarchy
// (a national node, two fédérations, a section in each: s1 hosts the groups,
// s2 of the other fédération is the members' home) and an instance outside
// the party (o). Sections trust each other through the national node's
// directory (src/party/directory.ts).
// A card-holder of s2 joins s1's party_only group, a sympathisant is refused
// there and accepted by a sympathisants group, an outsider is refused; the
// attestation is served to party nodes only; a member lowered to sympathisant
// is removed (Reject(Follow)) and no longer gets the group's posts; forged,
// expired, outside-signed and replayed attestations are refused.
import type { webcrypto } from "node:crypto";
import t from "tap";
import { importJwk } from "@fedify/fedify";
import { getDocumentLoader } from "@fedify/vocab-runtime";
import { memberSession as session, followState, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { startParty } from "./helpers/party.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { postSigned, signerFor, type Signer } from "./helpers/signing.ts";
import { signRequest } from "@fedify/fedify";
import { WIRE_CONTEXT } from "../src/federation/territory.ts";
import { ATTESTATION_FIELD, signAttestation } from "../src/party/attestations.ts";

let nat: TestInstance, f1: TestInstance, f2: TestInstance, s1: TestInstance, s2: TestInstance, o: TestInstance;
const host = (i: TestInstance) => `127.0.0.1:${i.port}`;
const AS = "https://www.w3.org/ns/activitystreams";
const contextLoader = getDocumentLoader({ allowPrivateAddress: true });



/** Asks to join a group of s1 from another instance (again if s1's group could not be looked up yet: a busy machine). */
async function join(web: WebSession, slug: string): Promise<void> {
  await eventually(async () => (await web.post("/groups/join", { handle: `@g_${slug}@${host(s1)}` })).status === 303, 20_000, `joining g_${slug}`);
}

/** What s1 kept of an actor's attestation. */
const checkOf = (actorUri: string) =>
  s1.query<{ status: string; seq: number }>("select status, seq from membership_checks join actors on actors.id = membership_checks.actor_id where actors.uri = ?", actorUri)[0];

/** A GET of an attestation, signed as `signer` (or anonymous). */
async function getMembership(url: string, signer?: Signer): Promise<{ status: number; json: any }> {
  let request = new Request(url, { headers: { accept: "application/activity+json" } });
  if (signer) request = await signRequest(request, signer.key, signer.keyId);
  const res = await fetch(request);
  const text = await res.text();
  return { status: res.status, json: text.startsWith("{") ? JSON.parse(text) : text };
}

/** An Update carrying an attestation, as a section sends it, pushed to s1's inbox signed as `signer`. */
let pushed = 0;
async function push(attestation: unknown, signer: Signer): Promise<number> {
  const origin = new URL(signer.actorUri).origin;
  const activity = {
    "@context": WIRE_CONTEXT,
    id: `${signer.actorUri}#membership/test-${++pushed}`,
    type: "Update",
    actor: signer.actorUri,
    to: [`${s1.origin}/users/g_parti`],
    object: {
      id: `${origin}/users/anyone/membership`,
      type: "Object",
      attributedTo: signer.actorUri,
      attachment: [{ type: "PropertyValue", name: ATTESTATION_FIELD, value: JSON.stringify(attestation) }],
    },
  };
  return (await postSigned(`${s1.origin}/inbox`, activity, signer)).status;
}

/** A node actor's Ed25519 key, read from its instance's database (to sign attestations as that node would). */
async function ed25519Of(instance: TestInstance, username: string): Promise<{ key: webcrypto.CryptoKey; keyId: URL }> {
  const actor = JSON.parse((await new WebSession(instance.origin).get(`/users/${username}`, { accept: "application/activity+json" })).body);
  const row = instance.query<{ private_jwk: string }>(
    "select private_jwk from actor_keys join actors on actors.id = actor_keys.actor_id where actors.username = ? and actors.local = 1 and algorithm = 'Ed25519'",
    username,
  )[0]!;
  const methods = [actor.assertionMethod].flat();
  return { key: (await importJwk(JSON.parse(row.private_jwk), "private")) as webcrypto.CryptoKey, keyId: new URL(methods.at(-1).id) };
}

let s1Node: Signer, s2Node: Signer, oNode: Signer;
const bob = () => `${s2.origin}/users/bob`;
const sam = () => `${s2.origin}/users/sam`;
const parti = () => `${s1.origin}/users/g_parti`;
const sympa = () => `${s1.origin}/users/g_sympa`;
let bobCardHolder: any;

// Six processes on a busy 2-core machine take a while to start.
t.setTimeout(600_000);

t.before(async () => {
  o = await startInstance("o", { COOPOL_HANDLE: "section_o" });
  // Linked, and the national node's directory on every node (sections trust each other through it).
  ({ nat, f1, f2, s1, s2 } = await startParty({
    nat: { kind: "national" },
    f1: { kind: "federation", parent: "nat" },
    f2: { kind: "federation", parent: "nat" },
    s1: { kind: "section", parent: "f1" },
    s2: { kind: "section", parent: "f2" },
  }));
  s1.addMember("alice");
  s2.addMember("bob");
  s2.addMember("sam", "sympathisant");
  s2.addMember("sec", "secretary");
  o.addMember("oscar");
  [s1Node, s2Node, oNode] = await Promise.all([signerFor(s1, "section_s1"), signerFor(s2, "section_s2"), signerFor(o, "section_o")]);
  const alice = await session(s1, "alice");
  t.equal((await alice.post("/groups", { name: "Parti", slug: "parti", policy: "party_only", visibility: "members" })).status, 303);
  t.equal((await alice.post("/groups", { name: "Sympathisants", slug: "sympa", policy: "sympathisants", visibility: "members" })).status, 303);
});

t.teardown(async () => {
  await Promise.all([nat, f1, f2, s1, s2, o].filter(Boolean).map((i) => i.stop()));
});

t.test("the attestation is listed in the actor document and served to party nodes only", async (t) => {
  const actor = JSON.parse((await new WebSession(s2.origin).get("/users/bob", { accept: "application/activity+json" })).body);
  const field = [actor.attachment].flat().find((a: { name?: string }) => a?.name === "coopol:membership");
  t.equal(field?.value, `${bob()}/membership`, "the actor document gives the address");
  t.notMatch(JSON.stringify(actor), /card_holder|sympathisant/, "but not the status");

  t.equal((await getMembership(`${bob()}/membership`)).status, 401, "anonymous: refused");
  t.equal((await getMembership(`${bob()}/membership`, oNode)).status, 403, "a node outside the party: refused");
  const got = await getMembership(`${bob()}/membership`, s1Node);
  t.equal(got.status, 200, "a sibling section reads it");
  t.ok(got.json.proof, "it carries a proof");
  t.equal(got.json.proof.cryptosuite, "eddsa-jcs-2022");
  const payload = JSON.parse(got.json.attachment.value ?? [got.json.attachment].flat()[0].value);
  t.match(payload, { subject: bob(), status: "card_holder", attributedTo: `${s2.origin}/users/section_s2`, sequence: 0 });
  bobCardHolder = got.json;
});

t.test("party_only admits an attested card-holder; sympathisants and outsiders are refused", async (t) => {
  const bobWeb = await session(s2, "bob");
  const samWeb = await session(s2, "sam");
  const oscarWeb = await session(o, "oscar");
  await join(bobWeb, "parti");
  await join(samWeb, "parti");
  await join(oscarWeb, "parti");
  await join(samWeb, "sympa");
  await join(bobWeb, "sympa");
  await eventually(() => followState(s2, bob(), parti()) === "accepted", 20_000, "bob accepted by party_only");
  await eventually(() => followState(s2, sam(), sympa()) === "accepted", 20_000, "sam accepted by sympathisants");
  await eventually(() => followState(s2, bob(), sympa()) === "accepted", 20_000, "bob accepted by sympathisants");
  await eventually(() => followState(s2, sam(), parti()) === "none", 20_000, "sam's request to party_only rejected");
  await eventually(() => followState(o, `${o.origin}/users/oscar`, parti()) === "none", 20_000, "oscar's request rejected");
  t.equal(followState(s1, sam(), parti()), "none");
  t.equal(followState(s1, `${o.origin}/users/oscar`, parti()), "none");
  t.match(checkOf(bob()), { status: "card_holder", seq: 0 }, "s1 keeps bob's attestation");
  t.match(checkOf(sam()), { status: "sympathisant", seq: 0 });
});

t.test("a member lowered to sympathisant leaves party_only and no longer gets its posts", async (t) => {
  const sec = await session(s2, "sec");
  t.equal((await sec.post("/members/bob/role", { role: "sympathisant" })).status, 303);
  await eventually(() => followState(s1, bob(), parti()) === "none", 20_000, "s1 removed bob from party_only");
  await eventually(() => followState(s2, bob(), parti()) === "none", 20_000, "bob's server got the Reject(Follow)");
  t.equal(followState(s1, bob(), sympa()), "accepted", "he stays in the sympathisants group");
  t.match(checkOf(bob()), { status: "sympathisant", seq: 1 });

  const alice = await session(s1, "alice");
  t.equal((await alice.post("/groups/sympa/threads", { title: "Ouvert", text: "Pour tous SYMPAPOST" })).status, 303);
  t.equal((await alice.post("/groups/parti/threads", { title: "Interne", text: "Réservé PARTIPOST" })).status, 303);
  await eventually(() => s2.query("select 1 from posts where content like '%SYMPAPOST%'").length > 0, 20_000, "the sympathisants group's post reached s2");
  t.equal(s2.query("select 1 from posts where content like '%PARTIPOST%'").length, 0, "party_only's post did not");
  t.equal(s1.query("select 1 from fedify_queue where message like '%PARTIPOST%'").length, 0, "nor is it queued for anyone");
});

t.test("forged, expired, outside-signed and replayed attestations are refused", async (t) => {
  const before = checkOf(bob());
  // Replay: the card-holder attestation from before the change, intact.
  t.equal(await push(bobCardHolder, s2Node), 202);
  // Forged: the status changed after signing, with a sequence number ahead.
  const forged = structuredClone(bobCardHolder);
  const payload = JSON.parse(forged.attachment.value);
  forged.attachment.value = JSON.stringify({ ...payload, sequence: 99 });
  t.equal(await push(forged, s2Node), 202);
  // Expired: signed with s2's real key, but over.
  const s2Key = await ed25519Of(s2, "section_s2");
  const day = 24 * 3600_000;
  const attestation = (over: Partial<Parameters<typeof signAttestation>[0]>) => ({
    id: `${bob()}/membership`,
    subject: bob(),
    issuer: `${s2.origin}/users/section_s2`,
    status: "card_holder" as const,
    since: Date.now() - 10 * day,
    sequence: 50,
    validFrom: Date.now() - 2 * day,
    validUntil: Date.now() - day,
    ...over,
  });
  t.equal(await push(await signAttestation(attestation({}), s2Key.key, s2Key.keyId, contextLoader), s2Node), 202);
  // Signed by a node outside the party, about its own member and about bob.
  const oKey = await ed25519Of(o, "section_o");
  const oscar = `${o.origin}/users/oscar`;
  const outside = attestation({ id: `${oscar}/membership`, subject: oscar, issuer: `${o.origin}/users/section_o`, validFrom: Date.now(), validUntil: Date.now() + day });
  t.equal(await push(await signAttestation(outside, oKey.key, oKey.keyId, contextLoader), oNode), 202);
  const outsideAboutBob = attestation({ issuer: `${o.origin}/users/section_o`, validFrom: Date.now(), validUntil: Date.now() + day });
  t.equal(await push(await signAttestation(outsideAboutBob, oKey.key, oKey.keyId, contextLoader), oNode), 202);
  // A fresh, genuine one is taken (the pushes above were read, not ignored).
  const fresh = await signAttestation(attestation({ status: "sympathisant", sequence: 2, validFrom: Date.now(), validUntil: Date.now() + day }), s2Key.key, s2Key.keyId, contextLoader);
  t.equal(await push(fresh, s2Node), 202);
  await eventually(() => checkOf(bob())?.seq === 2, 15_000, "the genuine newer attestation is kept");
  t.equal(before?.seq, 1);
  t.equal(checkOf(bob())?.status, "sympathisant", "none of the refused ones changed bob's status");
  t.notOk(checkOf(oscar), "nothing kept for the outside node's member");
  t.equal(followState(s1, bob(), parti()), "none", "bob is still out of party_only");
});

t.test("a section removed from the party's directory: its card-holders are refused by party_only after the next update", async (t) => {
  s2.addMember("carla");
  nat.addMember("chief", "admin");
  const carla = `${s2.origin}/users/carla`;
  const chief = await session(nat, "chief");
  const removed = await chief.post("/territory/directory/edits", { actor: `section_s2@${host(s2)}`, action: "remove", kind: "section", parent: "", reason: "section dissoute" });
  t.equal(removed.status, 303, "national's admin removes s2");
  await eventually(() => s1.query("select 1 from party_nodes where actor_uri = ?", `${s2.origin}/users/section_s2`).length === 0, 60_000, "s2 is out of s1's copy");
  // carla is a card-holder of s2, attested by s2's key: s2 is no party node any more.
  await join(await session(s2, "carla"), "parti");
  await eventually(() => followState(s2, carla, parti()) === "none", 20_000, "carla's request to party_only was rejected");
  t.equal(followState(s1, carla, parti()), "none", "and s1 keeps no membership");
});
