// The party directory with real instances: one national node, two
// fédérations, three sections (each its own process and SQLite file). The
// national node's signed list of nodes reaches every node through the
// fédérations; nodes keep it when national stops; a forged, older or
// oversized directory is refused; the federation modes keep non-party
// servers out.
import t from "tap";
import { webcrypto } from "node:crypto";
import { importJwk } from "@fedify/fedify";
import { eventually, freePort, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { startFakePeer, type FakePeer } from "./helpers/fake-peer.ts";
import { loadConfig } from "../src/config.ts";
import { createInstance } from "../src/app.ts";
import { acceptDirectory, signedDirectory } from "../src/party/directory.ts";
import { isPartyDomain } from "../src/party/directory.ts";

// Six processes on a busy 2-core machine take a while to start.
t.setTimeout(600_000);

interface Node {
  instance: TestInstance;
  handle: string;
  uri: string;
}

const host = (port: number) => `127.0.0.1:${port}`;
let nat: Node, f1: Node, f2: Node, s1: Node, s2: Node, s3: Node;
const all = () => [nat, f1, f2, s1, s2, s3];

const held = (node: Node) => node.instance.query<{ version: number; national_uri: string }>("select version, national_uri from party_directory")[0];
const listed = (node: Node) => node.instance.query<{ actor_uri: string; domain: string; kind: string; territory: string | null; parent_uri: string | null }>("select * from party_nodes order by actor_uri");

t.before(async () => {
  const ports = { nat: await freePort(), f1: await freePort(), f2: await freePort(), s1: await freePort(), s2: await freePort(), s3: await freePort() };
  const handle = (name: string, port: number) => `${name}@${host(port)}`;
  const h = {
    nat: handle("national", ports.nat),
    f1: handle("federation_75", ports.f1),
    f2: handle("federation_13", ports.f2),
    s1: handle("section_s1", ports.s1),
    s2: handle("section_s2", ports.s2),
    s3: handle("section_s3", ports.s3),
  };
  const start = async (name: keyof typeof ports, env: Record<string, string>) => {
    const instance = await startInstance(name, { PORT: String(ports[name]), COOPOL_HANDLE: h[name].split("@")[0]!, ...env });
    instance.addMember("chief", "admin");
    return { instance, handle: h[name], uri: `http://${host(ports[name])}/users/${h[name].split("@")[0]}` };
  };
  s1 = await start("s1", { COOPOL_NAME: "Section Paris 11", COOPOL_TERRITORY: "75111", COOPOL_PARENT: h.f1 });
  s2 = await start("s2", { COOPOL_NAME: "Section Paris 12", COOPOL_TERRITORY: "75112", COOPOL_PARENT: h.f1 });
  s3 = await start("s3", { COOPOL_NAME: "Section Marseille 1", COOPOL_TERRITORY: "13201", COOPOL_PARENT: h.f2, COOPOL_NATIONAL: h.nat });
  f1 = await start("f1", { COOPOL_KIND: "federation", COOPOL_NAME: "Fédération de Paris", COOPOL_TERRITORY: "75", COOPOL_PARENT: h.nat, COOPOL_CHILDREN: `${h.s1}, ${h.s2}` });
  f2 = await start("f2", { COOPOL_KIND: "federation", COOPOL_NAME: "Fédération des Bouches-du-Rhône", COOPOL_TERRITORY: "13", COOPOL_PARENT: h.nat, COOPOL_CHILDREN: h.s3 });
  nat = await start("nat", { COOPOL_KIND: "national", COOPOL_NAME: "National", COOPOL_CHILDREN: `${h.f1},${h.f2}` });
  // On a loaded machine a parent's first look-up of a child may time out; it asks again
  // at its next start (else in 5 minutes): restart it rather than wait.
  const linked = (parent: Node, child: Node) => parent.instance.query("select 1 from territory_links where role = 'child' and handle = ? and state = 'linked'", child.handle).length > 0;
  for (const [parent, child] of [[f1, s1], [f1, s2], [f2, s3], [nat, f1], [nat, f2]] as const) {
    await eventually(() => linked(parent, child), 20_000, "link").catch(async () => {
      await parent.instance.stop();
      await parent.instance.start();
      await eventually(() => linked(parent, child), 60_000, `${parent.handle} → ${child.handle}`);
    });
  }
});

t.teardown(async () => {
  await Promise.all(all().filter(Boolean).map((n) => n.instance.stop()));
});

t.test("the national node's directory reaches every node, signed, through the fédérations", async (t) => {
  const everyone = all().map((n) => n.uri).sort();
  await eventually(
    () => all().every((n) => JSON.stringify(listed(n).map((r) => r.actor_uri)) === JSON.stringify(everyone) && held(n)?.version === held(nat)?.version),
    90_000,
    "the same six-node directory on every node",
  ).catch((error) => {
    for (const n of all()) console.error(n.instance.name, held(n), listed(n).map((r) => r.actor_uri), n.instance.output.join("").split("\n").filter((l) => /party|territory|directory|"level":50/i.test(l)).slice(-8).join("\n"));
    throw error;
  });
  const entries = listed(s3);
  t.equal(entries.find((e) => e.actor_uri === s1.uri)?.parent_uri, f1.uri, "a section is listed under its fédération");
  t.equal(entries.find((e) => e.actor_uri === f2.uri)?.kind, "federation");
  t.equal(held(s3)!.national_uri, nat.uri, "signed by the national node");
  // What a section serves onward is national's document, byte for byte, with its proof.
  const served = (await (await fetch(`${s1.instance.origin}/party/directory`)).json()) as any;
  t.equal(served.attributedTo, nat.uri);
  t.equal(served.proof.cryptosuite, "eddsa-jcs-2022");
  t.match(served.proof.verificationMethod, new RegExp(`^${nat.uri}#`));
});

const session = async (node: Node) => {
  const web = new WebSession(node.instance.origin);
  await web.login("chief", PASSWORD);
  return web;
};
const everyoneHas = (uri: string, present: boolean) => all().every((n) => listed(n).some((r) => r.actor_uri === uri) === present);

t.test("a node removed, then put back, by national admins is forgotten, then known, everywhere", async (t) => {
  const web = await session(nat);
  const removed = await web.post("/territory/directory/edits", { actor: s2.handle, action: "remove", kind: "section", parent: "", reason: "section dissoute" });
  t.equal(removed.status, 303, "the form publishes a new version");
  await eventually(() => everyoneHas(s2.uri, false), 60_000, "s2 out of every copy");
  t.equal(held(s1)!.version, held(nat)!.version);
  const page = await web.get("/territory/directory");
  t.match(page.body, "section dissoute", "the edit is listed with its reason");
  t.equal((await web.post("/territory/directory/edits/forget", { actor: s2.uri })).status, 303);
  await eventually(() => everyoneHas(s2.uri, true), 60_000, "s2 back in every copy");
  // Names and territories come from the fédérations (their sections' figures carry the territory).
  await eventually(() => listed(s3).find((r) => r.actor_uri === s2.uri)?.territory === "75112", 60_000, "s2's territory in s3's copy");
  // A section's members see the directory, searchable.
  const section = await (await session(s3)).get("/territory/directory?q=paris");
  t.match(section.body, "<td>Section Paris 11</td>", "named as its fédération reports it");
  t.match(section.body, "<td>75112</td>", "with its territory");
  t.notMatch(section.body, "<td>Section Marseille 1</td>");
});

t.test("party-only mode refuses a server outside the directory, until admins allow it; suspend drops follows", async (t) => {
  const peer: FakePeer = await startFakePeer();
  t.teardown(() => peer.close());
  const stranger = `${peer.origin}/users/stranger`;
  peer.addActor(stranger);
  const follow = (node: Node, n: number) => ({ "@context": "https://www.w3.org/ns/activitystreams", id: `${stranger}#follows/${n}`, type: "Follow", actor: stranger, object: node.uri });
  const inbox = (node: Node) => `${node.uri}/inbox`;
  const peerHost = new URL(peer.origin).host;

  const admin = await session(s3);
  t.equal((await admin.post("/admin/federation/mode", { mode: "party_only" })).status, 303);
  const refused = await peer.send(inbox(s3), follow(s3, 1), stranger);
  t.equal(refused.status, 403, "a Follow from outside the party is refused");
  t.match(refused.body, "federation mode", "with a plain reason");
  t.equal((await admin.post("/admin/federation/domains", { domain: peerHost, policy: "allow", reason: "partenaire" })).status, 303);
  t.match((await admin.get("/admin/federation")).body, "partenaire");
  t.equal((await peer.send(inbox(s3), follow(s3, 2), stranger)).status, 202, "admitted once allowed");
  await eventually(() => peer.received.some((a) => a.type === "Accept"), 30_000, "the Accept sent to the allowed server");

  // Outbound: the allowed server gets the section's public events, like its fédération (which follows
  // the section's node); once the allowance is removed, party-only sends it nothing more.
  const publicEvent = async (title: string) =>
    (await admin.post("/events", { title, start: "2031-06-01T18:00", timezone: "Europe/Paris", category: "debate", audience: "public", organiser: "section", join_mode: "open" })).status;
  const eventOn = (node: Node, title: string) => node.instance.query("select 1 from events where title = ?", title).length > 0;
  const peerGot = (title: string) => peer.received.some((a) => JSON.stringify(a).includes(title));
  t.equal(await publicEvent("Réunion publique avant"), 303);
  await eventually(() => eventOn(f2, "Réunion publique avant") && peerGot("Réunion publique avant"), 60_000, "the fédération and the allowed server have the first event");
  t.equal((await admin.post("/admin/federation/domains/remove", { domain: peerHost })).status, 303);
  t.equal(await publicEvent("Réunion publique après"), 303);
  await eventually(() => eventOn(f2, "Réunion publique après"), 60_000, "the fédération has the second event");
  t.notOk(peerGot("Réunion publique après"), "party-only sends nothing to a server no longer allowed");

  // Blocklist on s1: the stranger follows, then is suspended: its follow is dropped, its activities refused.
  const admin1 = await session(s1);
  t.equal((await admin1.post("/admin/federation/mode", { mode: "blocklist" })).status, 303);
  t.equal((await peer.send(inbox(s1), follow(s1, 3), stranger)).status, 202);
  const follows = () => s1.instance.query("select 1 from follows join actors on actors.id = follows.follower_id where actors.uri = ?", stranger).length;
  await eventually(() => follows() === 1, 30_000, "the stranger's follow kept");
  t.equal((await admin1.post("/admin/federation/domains", { domain: peerHost, policy: "suspend", reason: "spam" })).status, 303);
  t.equal(follows(), 0, "suspending drops the follow");
  t.equal((await peer.send(inbox(s1), follow(s1, 4), stranger)).status, 403, "and refuses what it sends");
});

t.test("with national stopped, nodes keep their copy; forged, older or oversized directories are refused", async (t) => {
  await nat.instance.stop();
  const s3Domain = new URL(s3.uri).host;
  t.ok(listed(s3).length >= 6, "the copy is kept");
  // The section's own code, on its own database (the process keeps running): what its inbox would do with these documents.
  const local = await createInstance(loadConfig({ ...s3.instance.env, LOG_LEVEL: "silent" }));
  t.teardown(() => local.close());
  const services = local.services;
  t.ok(isPartyDomain(services.db, new URL(f1.uri).host), "isPartyDomain answers from the copy");
  t.notOk(isPartyDomain(services.db, "elsewhere.example"), "a server not listed is not the party's");
  t.ok(isPartyDomain(services.db, s3Domain));

  const keyOf = async (node: Node, username: string) => {
    const row = node.instance.query<{ private_jwk: string }>("select private_jwk from actor_keys join actors on actors.id = actor_keys.actor_id where actors.username = ? and actors.local = 1 and algorithm = 'Ed25519'", username)[0]!;
    return (await importJwk(JSON.parse(row.private_jwk), "private")) as webcrypto.CryptoKey;
  };
  const genuine = JSON.parse(s3.instance.query<{ document: string }>("select document from party_directory")[0]!.document);
  const natKey = { privateKey: await keyOf(nat, "national"), keyId: genuine.proof.verificationMethod as string };
  const entries = genuine.nodes.map((n: any) => ({ actorUri: n.id, kind: n.kind, name: n.name ?? null, territory: n.territory ?? null, parentUri: n.parent ?? null }));
  const version = held(s3)!.version;

  const tampered = { ...genuine, version: version + 5, nodes: [...genuine.nodes, { id: "https://intruder.example/users/x", kind: "section" }] };
  t.same(await acceptDirectory(services, JSON.stringify(tampered)), { accepted: false, reason: "bad_proof" }, "an altered document fails its proof");
  const fed = await signedDirectory(f2.uri, genuine.id, version + 10, entries, { privateKey: await keyOf(f2, "federation_13"), keyId: `${f2.uri}#ed25519-key` });
  t.same(await acceptDirectory(services, JSON.stringify(fed)), { accepted: false, reason: "not_national" }, "a fédération's own directory is refused");
  const older = await signedDirectory(nat.uri, genuine.id, version - 1, entries, natKey);
  t.same(await acceptDirectory(services, JSON.stringify(older)), { accepted: false, reason: "older" }, "an older version is refused");
  const many = Array.from({ length: 20_001 }, (_, i) => ({ actorUri: `https://s${i}.example/users/s`, kind: "section" as const, name: null, territory: null, parentUri: null }));
  const huge = await signedDirectory(nat.uri, genuine.id, version + 20, many, natKey);
  t.same(await acceptDirectory(services, JSON.stringify(huge)), { accepted: false, reason: "too_large" }, "an oversized one is refused");
  t.same(await acceptDirectory(services, JSON.stringify({ ...genuine, proof: undefined })), { accepted: false, reason: "older" });
  const unsigned = { ...(await signedDirectory(nat.uri, genuine.id, version + 30, entries, natKey)), proof: undefined };
  t.same(await acceptDirectory(services, JSON.stringify(unsigned)), { accepted: false, reason: "unsigned" }, "an unsigned one is refused");
  t.equal(held(s3)!.version, version, "the copy is unchanged");
  // A newer one signed by national is taken even while national is down (its key was kept).
  const newer = await signedDirectory(nat.uri, genuine.id, version + 40, entries.filter((e: any) => e.actorUri !== s1.uri), natKey);
  t.same(await acceptDirectory(services, JSON.stringify(newer)), { accepted: true, version: version + 40 });
  t.notOk(isPartyDomain(services.db, new URL(s1.uri).host), "a node no longer listed is no longer the party's");
});
