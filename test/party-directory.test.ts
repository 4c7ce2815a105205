// The party directory with real instances: one national node, two
// fédérations, three sections (each its own process and SQLite file). The
// national node's signed list of nodes reaches every node through the
// fédérations; nodes keep it when national stops; a forged, older or
// oversized directory is refused; the federation modes keep non-party
// servers out.
import t from "tap";
import { eventually, freePort, startInstance, type TestInstance } from "./helpers/instances.ts";

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
const listed = (node: Node) => node.instance.query<{ actor_uri: string; domain: string; kind: string; parent_uri: string | null }>("select * from party_nodes order by actor_uri");

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
    for (const n of all()) console.error(n.instance.name, held(n), listed(n).map((r) => r.actor_uri), n.instance.output.join("").split("\n").filter((l) => /party|territory|directory/i.test(l)).slice(-15).join("\n"));
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
