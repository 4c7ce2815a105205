// The party's hierarchy with six real instances, each its own process and
// SQLite file: one national node, two fédérations, three sections. Campaigns
// go down, results and reports go up, each only to the declared parent; a
// section refuses a fédération it did not declare; a fédération restarted
// mid-way loses no report; duplicates and edits are counted right.
import t from "tap";
import { eventually, freePort, startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";
import { postSigned, signerFor } from "./helpers/signing.ts";
import { WIRE_CONTEXT, resultObject, toWire } from "../src/federation/territory.ts";

interface Node {
  instance: TestInstance;
  handle: string;
  token: string;
}

const host = (port: number) => `127.0.0.1:${port}`;
let nat: Node, f1: Node, f2: Node, s1: Node, s2: Node, s3: Node;
const all = () => [nat, f1, f2, s1, s2, s3];

async function api(node: Node, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${node.instance.origin}/api/coopol/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${node.token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

function linkState(node: Node, role: string, handle: string): string | undefined {
  return node.instance.query<{ state: string }>("select state from territory_links where role = ? and handle = ?", role, handle)[0]?.state;
}

/** Whether a string appears anywhere in what an instance stored or queued. */
function holds(node: Node, text: string): boolean {
  const like = `%${text}%`;
  const found = (sql: string) => node.instance.query(sql, ...Array(sql.split("?").length - 1).fill(like)).length > 0;
  return (
    found("select 1 from action_results where uri like ?") ||
    found("select 1 from reports where uri like ?") ||
    found("select 1 from fedify_kv where key like ? or value like ?") ||
    found("select 1 from fedify_queue where message like ?") ||
    found("select 1 from posts where content like ?")
  );
}

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
    instance.addMember("sec", "secretary");
    instance.addMember("marie");
    return { instance, handle: h[name], token: "" };
  };
  // Sections first, then fédérations, then national: each asks the nodes
  // below it for the link as it starts.
  s1 = await start("s1", { COOPOL_NAME: "Section Paris 11", COOPOL_TERRITORY: "75111", COOPOL_PARENT: `@${h.f1}` });
  s2 = await start("s2", { COOPOL_NAME: "Section Paris 12", COOPOL_TERRITORY: "75112", COOPOL_PARENT: h.f1 });
  s3 = await start("s3", { COOPOL_NAME: "Section Marseille 1", COOPOL_TERRITORY: "13201", COOPOL_PARENT: h.f2 });
  f1 = await start("f1", { COOPOL_KIND: "federation", COOPOL_NAME: "Fédération de Paris", COOPOL_TERRITORY: "75", COOPOL_PARENT: h.nat, COOPOL_CHILDREN: `${h.s1}, ${h.s2}` });
  // Fédération 13 also claims section s1, which did not declare it.
  f2 = await start("f2", { COOPOL_KIND: "federation", COOPOL_NAME: "Fédération des Bouches-du-Rhône", COOPOL_TERRITORY: "13", COOPOL_PARENT: h.nat, COOPOL_CHILDREN: `${h.s3} ${h.s1}` });
  nat = await start("nat", { COOPOL_KIND: "national", COOPOL_NAME: "National", COOPOL_CHILDREN: `${h.f1},${h.f2}` });
  for (const node of all()) node.token = await apiToken(node.instance.origin, "sec");
});

t.teardown(async () => {
  await Promise.all(all().filter(Boolean).map((n) => n.instance.stop()));
});

t.test("links: each node accepts only the parent it declared", async (t) => {
  await eventually(() => linkState(f1, "child", s1.handle) === "linked" && linkState(f1, "child", s2.handle) === "linked", 20_000, "fédération 75 linked to its sections");
  await eventually(() => linkState(f2, "child", s3.handle) === "linked", 20_000, "fédération 13 linked to s3");
  await eventually(() => linkState(nat, "child", f1.handle) === "linked" && linkState(nat, "child", f2.handle) === "linked", 20_000, "national linked to both fédérations");
  t.equal(linkState(s1, "parent", f1.handle), "linked", "s1 shows its fédération as linked");
  t.equal(linkState(f1, "parent", nat.handle), "linked", "f1 shows national as linked");

  await eventually(() => linkState(f2, "child", s1.handle) === "refused", 20_000, "s1 refused fédération 13");
  const s1Territory = await api(s1, "GET", "/territory");
  t.equal(s1Territory.status, 200);
  t.equal(s1Territory.json.kind, "section");
  t.equal(s1Territory.json.parent.state, "linked");
  t.ok(s1Territory.json.refused.some((r: { handle: string }) => r.handle === f2.handle), "s1's administrators see the refused oversight attempt");
  const f2Territory = await api(f2, "GET", "/territory");
  t.same(f2Territory.json.children.map((c: { handle: string; state: string }) => [c.handle, c.state]).sort(), [[s1.handle, "refused"], [s3.handle, "linked"]].sort());
  // The refusing section never became f2's follower target: f2 gets nothing from s1 later either.
});

let campaignUri = "";

t.test("a national campaign reaches every section, through the fédérations", async (t) => {
  const created = await api(nat, "POST", "/campaigns", {
    title: "Municipales 2026",
    description: "Porte-à-porte dans tous les quartiers.",
    starts_at: "2026-01-10T00:00:00Z",
    ends_at: "2099-03-15T00:00:00Z",
    goals: { doors: 1000, leaflets: 5000 },
    materials: [{ name: "Tract A5", url: "https://exemple.fr/tract.pdf" }],
  });
  t.equal(created.status, 200, JSON.stringify(created.json));
  campaignUri = created.json.uri;
  for (const node of [f1, f2, s1, s2, s3]) {
    await eventually(() => node.instance.query("select 1 from campaigns where uri = ?", campaignUri).length > 0, 20_000, `campaign on ${node.instance.name}`);
  }
  const onS3 = (await api(s3, "GET", "/campaigns")).json.find((c: { uri: string }) => c.uri === campaignUri);
  t.equal(onS3.level, "national");
  t.same(onS3.goals, { doors: 1000, leaflets: 5000 });
  t.equal(onS3.owner_uri, `${nat.instance.origin}/users/national`, "the owner is the national node, even relayed by the fédération");
  t.equal(onS3.joined, false);
  t.equal((await api(s1, "POST", `/campaigns/${(await api(s1, "GET", "/campaigns")).json.find((c: { uri: string }) => c.uri === campaignUri).id}/join`, {})).json.joined, true);
});

/** A field action on a section, with a shift Marie signs up for, and the secretary's result. */
async function actionWithResult(node: Node, figures: Record<string, number>): Promise<{ actionId: string; result: any }> {
  const campaign = (await api(node, "GET", "/campaigns")).json.find((c: { uri: string }) => c.uri === campaignUri);
  const action = await api(node, "POST", "/actions", {
    campaign_id: campaign.id,
    type: "door_to_door",
    title: "Porte-à-porte rue Oberkampf",
    start: "2026-02-07T09:00:00Z",
    meeting_point: "Métro Parmentier",
    area: "Bureaux de vote 1101 à 1104",
    shifts: [{ start: "2026-02-07T09:00:00Z", end: "2026-02-07T11:00:00Z", capacity: 4 }],
  });
  if (action.status !== 200) throw new Error(JSON.stringify(action.json));
  const result = await api(node, "POST", `/actions/${action.json.id}/results`, { figures, comment: "Bon accueil" });
  if (result.status !== 200) throw new Error(JSON.stringify(result.json));
  return { actionId: action.json.id, result: result.json };
}

const doorsOn = (node: Node) => node.instance.query<{ n: number }>("select coalesce(sum(doors), 0) as n from action_results where campaign_uri = ? and deleted_at is null", campaignUri)[0]!.n;

let s1Result: any;
let s1ActionId = "";

t.test("results go up to the fédération and national, and nowhere else", async (t) => {
  const r1 = await actionWithResult(s1, { doors: 120, conversations: 30, leaflets: 200 });
  s1Result = r1.result;
  s1ActionId = r1.actionId;
  await actionWithResult(s2, { doors: 50, leaflets: 80 });
  await actionWithResult(s3, { doors: 10 });

  await eventually(() => doorsOn(f1) === 170, 20_000, "f1 totals");
  await eventually(() => doorsOn(f2) === 10, 20_000, "f2 totals");
  await eventually(() => doorsOn(nat) === 180, 20_000, "national totals");

  const board = await api(nat, "GET", "/dashboard");
  t.equal(board.status, 200);
  const byName = Object.fromEntries(board.json.rows.map((r: { name: string; totals: { doors: number } }) => [r.name, r.totals.doors]));
  t.same(byName, { "Fédération de Paris": 170, "Fédération des Bouches-du-Rhône": 10 }, "national sees results per fédération");
  const progress = board.json.campaigns.find((c: { campaign: { uri: string } }) => c.campaign.uri === campaignUri);
  t.equal(progress.totals.doors, 180);
  t.equal(progress.totals.leaflets, 280);
  t.same(progress.goals, { doors: 1000, leaflets: 5000 });
  const f1Board = await api(f1, "GET", "/dashboard");
  t.same(
    Object.fromEntries(f1Board.json.rows.map((r: { name: string; totals: { doors: number } }) => [r.name, r.totals.doors])),
    { "Section Paris 11": 120, "Section Paris 12": 50 },
    "the fédération sees results per section",
  );
  const csv = await fetch(`${f1.instance.origin}/api/coopol/v1/dashboard.csv`, { headers: { authorization: `Bearer ${f1.token}` } });
  t.match(await csv.text(), /Section Paris 11;section_s1@[^;]+;75111;\d+;\d+;\d+;\d+;1;120;30;200/);

  for (const other of [s2, s3, f2]) t.notOk(holds(other, s1Result.uri), `${other.instance.name} never received s1's result`);
  t.equal(s3.instance.query("select 1 from action_results where section_uri like ?", `%${s1.instance.origin}%`).length, 0);
});

t.test("a duplicate delivery counts once; an edited result replaces the old figure", async (t) => {
  // The same activity, signed by s1's node actor, delivered twice more.
  const signer = await signerFor(s1.instance, "section_s1");
  const activity = {
    "@context": WIRE_CONTEXT,
    id: `${s1Result.uri}#create-replayed`,
    type: "Create",
    actor: signer.actorUri,
    to: [`${f1.instance.origin}/users/federation_75`],
    object: toWire(resultObject(
      {
        uri: s1Result.uri,
        sectionUri: signer.actorUri,
        sectionName: "Section Paris 11",
        federationUri: null,
        campaignUri,
        campaignName: "Municipales 2026",
        actionType: "door_to_door",
        actionDate: Date.parse("2026-02-07T09:00:00Z"),
        metrics: { doors: 120, conversations: 30, leaflets: 200, calls: 0, posters: 0, contacts: 0 },
        comment: "Bon accueil",
        deleted: false,
        version: Date.parse(s1Result.updated_at),
      },
      [`${f1.instance.origin}/users/federation_75`],
    )),
  };
  for (let i = 0; i < 2; i++) {
    // A second apart: the same signature twice within a second would be refused as a replay.
    if (i) await new Promise((r) => setTimeout(r, 1100));
    t.equal((await postSigned(`${f1.instance.origin}/inbox`, activity, signer)).status, 202);
  }
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(doorsOn(f1), 170, "still 170 at the fédération");
  t.equal(f1.instance.query("select 1 from action_results where uri = ?", s1Result.uri).length, 1);

  // An older version arriving late changes nothing.
  const payload = JSON.parse((activity.object.attachment as Array<{ value: string }>)[0]!.value);
  const stale = { ...activity, id: `${s1Result.uri}#create-stale`, object: toWire({ ...payload, figures: { doors: 9999 }, updated: "2020-01-01T00:00:00.000Z" }) };
  t.equal((await postSigned(`${f1.instance.origin}/inbox`, stale, signer)).status, 202);

  // The secretary corrects the figure: 150 doors instead of 120.
  const edited = await api(s1, "POST", `/actions/${s1ActionId}/results`, { figures: { doors: 150, conversations: 30, leaflets: 200 } });
  t.equal(edited.status, 200);
  t.equal(edited.json.uri, s1Result.uri, "the same result, a new version");
  await eventually(() => doorsOn(f1) === 200, 20_000, "f1 replaced 120 by 150");
  await eventually(() => doorsOn(nat) === 210, 20_000, "national replaced it too");
});

t.test("reports go up only to the parent (and national when asked), acknowledged and read", async (t) => {
  const written = await api(s1, "POST", "/reports", { kind: "field", title: "Retour du porte-à-porte", body: "Beaucoup de questions sur le logement.", also_national: true });
  t.equal(written.status, 200, JSON.stringify(written.json));
  t.same(written.json.figures[campaignUri].door_to_door.doors, 150, "the report carries the section's figures per campaign and action type");
  const uri = written.json.uri;
  await eventually(() => f1.instance.query("select 1 from reports where uri = ?", uri).length > 0, 20_000, "report at f1");
  await eventually(() => nat.instance.query("select 1 from reports where uri = ?", uri).length > 0, 20_000, "report at national");
  await eventually(async () => (await api(s1, "GET", "/reports")).json[0].acknowledged_at, 20_000, "receipt acknowledged");

  const received = await api(f1, "GET", "/reports?direction=received");
  const mine = received.json.find((r: { uri: string }) => r.uri === uri);
  t.equal(mine.opened_at, null);
  t.equal((await api(f1, "GET", `/reports/${mine.id}`)).json.title, "Retour du porte-à-porte");
  const read = await eventually(async () => (await api(s1, "GET", "/reports")).json.find((r: { uri: string; read_at: string | null }) => r.uri === uri && r.read_at), 20_000, "read by the fédération");
  t.match(read.read_by, /Fédération de Paris/);

  const local = await api(s2, "POST", "/reports", { kind: "activity", title: "Bilan du mois", body: "Trois réunions." });
  await eventually(() => f1.instance.query("select 1 from reports where uri = ?", local.json.uri).length > 0, 20_000, "s2 report at f1");
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(nat.instance.query("select 1 from reports where uri = ?", local.json.uri).length, 0, "not sent on to national unless asked");
  for (const other of [s2, s3, f2]) t.notOk(holds(other, uri), `${other.instance.name} never received s1's report`);
  t.equal(s1.instance.query("select 1 from reports where uri = ?", local.json.uri).length, 0, "sections never see each other's reports");

  // A member (not a manager) cannot read received reports at the fédération.
  f1.instance.addMember("paul");
  const paul = { ...f1, token: await apiToken(f1.instance.origin, "paul") };
  t.equal((await api(paul, "GET", "/reports?direction=received")).status, 403);
});

t.test("a fédération restarted mid-way loses no report", async (t) => {
  await f1.instance.stop();
  const written = await api(s1, "POST", "/reports", { kind: "alert", title: "Alerte : local inondé", body: "Réunion déplacée." });
  t.equal(written.status, 200);
  await new Promise((r) => setTimeout(r, 1500));
  await f1.instance.start();
  await eventually(() => f1.instance.query("select 1 from reports where uri = ?", written.json.uri).length > 0, 45_000, "report delivered after the restart");
  t.pass("delivered by the sender's persistent queue");
});

t.test("directives come down as section-only posts; proposed actions can be adopted", async (t) => {
  const announce = await api(f1, "POST", "/directives", { kind: "announcement", title: "Réunion des secrétaires", body: "Samedi 10 h au siège." });
  t.equal(announce.status, 200, JSON.stringify(announce.json));
  for (const node of [s1, s2]) {
    await eventually(() => node.instance.query("select 1 from posts where visibility = 'section' and content like '%Réunion des secrétaires%'").length > 0, 20_000, `announcement on ${node.instance.name}`);
  }
  t.equal(s3.instance.query("select 1 from directives where uri = ?", announce.json.uri).length, 0, "another fédération's section gets nothing");
  t.equal(s1.instance.query("select 1 from posts where visibility = 'section' and content like '%Réunion des secrétaires%'").length, 1);

  const proposal = await api(nat, "POST", "/directives", {
    kind: "action_proposal",
    title: "Journée nationale de tractage",
    body: "Tous sur les marchés.",
    proposal: { type: "leafleting", campaign_uri: campaignUri, start: "2026-03-01T09:00:00Z", meeting_point: "Marché le plus proche" },
  });
  t.equal(proposal.status, 200, JSON.stringify(proposal.json));
  for (const node of [f1, f2, s1, s2, s3]) {
    await eventually(() => node.instance.query("select 1 from directives where uri = ?", proposal.json.uri).length > 0, 20_000, `proposal on ${node.instance.name}`);
  }
  const onS3 = (await api(s3, "GET", "/directives")).json.find((d: { uri: string }) => d.uri === proposal.json.uri);
  const adopted = await api(s3, "POST", `/directives/${onS3.id}/adopt`, {});
  t.equal(adopted.status, 200, JSON.stringify(adopted.json));
  t.equal(adopted.json.type, "leafleting");
  t.equal(adopted.json.title, "Journée nationale de tractage");
  t.equal((await api(s3, "POST", `/directives/${onS3.id}/adopt`, {})).status, 409, "adopted once");
  // The section can't send directives: it oversees nobody.
  t.equal((await api(s1, "POST", "/directives", { kind: "announcement", title: "x" })).status, 409);
});
