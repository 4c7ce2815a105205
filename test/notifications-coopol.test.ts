// Coopol's own notifications go to the right people and no one else, with
// two real instances: a fédération and a section linked to it (as in
// test/territory.test.ts). Managers (secretary, admin) hear of a report from
// below, of a campaign or directive from above; an action's coordinator and
// the section's secretaries of sign-ups, withdrawals and results; a group's
// moderators of a join request. Mastodon apps never see these types.
import t from "tap";
import { eventually, freePort, startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { PASSWORD } from "./helpers/instances.ts";

interface Node {
  instance: TestInstance;
  tokens: Record<string, string>;
}
let fed: Node;
let sec: Node;

async function api(node: Node, who: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${node.instance.origin}${path.startsWith("/api/") ? path : `/api/coopol/v1${path}`}`, {
    method,
    headers: { authorization: `Bearer ${node.tokens[who]}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** The types of a member's notifications, oldest first (read from the instance's file). */
function typesOf(node: Node, username: string): string[] {
  return node.instance
    .query<{ type: string }>("select n.type from notifications n join users u on u.id = n.user_id where u.username = ? order by n.id", username)
    .map((r) => r.type);
}
const coopol = (node: Node, username: string) => typesOf(node, username).filter((type) => type.startsWith("coopol."));

t.before(async () => {
  const ports = { fed: await freePort(), sec: await freePort() };
  const fedHandle = `federation_75@127.0.0.1:${ports.fed}`;
  const secHandle = `section_s1@127.0.0.1:${ports.sec}`;
  const s = await startInstance("ncsec", { PORT: String(ports.sec), COOPOL_HANDLE: "section_s1", COOPOL_NAME: "Section Paris 11", COOPOL_PARENT: fedHandle });
  const f = await startInstance("ncfed", { PORT: String(ports.fed), COOPOL_HANDLE: "federation_75", COOPOL_KIND: "federation", COOPOL_NAME: "Fédération de Paris", COOPOL_CHILDREN: secHandle });
  fed = { instance: f, tokens: {} };
  sec = { instance: s, tokens: {} };
  f.addMember("fsec", "secretary");
  f.addMember("fmarie");
  s.addMember("sec", "secretary");
  s.addMember("admin1", "admin");
  s.addMember("coord");
  s.addMember("marie");
  s.addMember("jean");
  for (const name of ["fsec", "fmarie"]) fed.tokens[name] = await apiToken(f.origin, name);
  for (const name of ["sec", "coord", "marie", "jean"]) sec.tokens[name] = await apiToken(s.origin, name);
  await eventually(() => f.query("select 1 from territory_links where role = 'child' and state = 'linked'").length > 0, 45_000, "section linked");
});
t.teardown(async () => {
  await Promise.all([fed?.instance.stop(), sec?.instance.stop()]);
});

let campaignId = "";

t.test("a campaign from above: the section's managers are told, members are not", async (t) => {
  const created = await api(fed, "fsec", "POST", "/campaigns", { title: "Municipales 2026", starts_at: "2026-01-10T00:00:00Z", ends_at: "2099-03-15T00:00:00Z", goals: { doors: 100 } });
  t.equal(created.status, 200, JSON.stringify(created.json));
  await eventually(() => coopol(sec, "sec").includes("coopol.campaign"), 20_000, "secretary told");
  await eventually(() => coopol(sec, "admin1").includes("coopol.campaign"), 20_000, "admin told");
  for (const member of ["coord", "marie", "jean"]) t.same(coopol(sec, member), [], `${member} is not`);
  t.same(coopol(fed, "fsec"), [], "the fédération that sent it is not told of its own campaign");
  campaignId = (await api(sec, "sec", "GET", "/campaigns")).json.find((c: { title: string }) => c.title === "Municipales 2026").id;

  // The web page says it in plain words, with a link to the campaign.
  const web = new WebSession(sec.instance.origin);
  await web.login("sec", PASSWORD);
  const page = await web.get("/notifications");
  t.match(page.body, /Fédération de Paris<\/a> <span class="meta">[^<]*<\/span> lance une campagne : <a href="\/campaigns\/\d+">Municipales 2026<\/a>/);
  t.match(page.body, new RegExp(`href="/campaigns/${campaignId}">Voir la campagne`));
});

t.test("a section joins the campaign: the fédération's managers are told, once", async (t) => {
  t.equal((await api(sec, "sec", "POST", `/campaigns/${campaignId}/join`, { join: true })).status, 200);
  await eventually(() => coopol(fed, "fsec").includes("coopol.campaign_joined"), 20_000, "fédération secretary told");
  t.same(coopol(fed, "fmarie"), [], "a member of the fédération is not");
  // Leaving and joining again: still one line.
  t.equal((await api(sec, "sec", "POST", `/campaigns/${campaignId}/join`, { join: false })).status, 200);
  t.equal((await api(sec, "sec", "POST", `/campaigns/${campaignId}/join`, { join: true })).status, 200);
  await eventually(() => fed.instance.query("select 1 from fedify_queue").length === 0 && sec.instance.query("select 1 from fedify_queue").length === 0, 20_000, "deliveries done");
  t.equal(coopol(fed, "fsec").filter((x) => x === "coopol.campaign_joined").length, 1);
  t.same(coopol(sec, "coord"), [], "nobody at the section is told of its own join");
  const web = new WebSession(fed.instance.origin);
  await web.login("fsec", PASSWORD);
  t.match((await web.get("/notifications")).body, /Section Paris 11<\/a> <span class="meta">[^<]*<\/span> participe à la campagne <a href="\/campaigns\/\d+">Municipales 2026<\/a>/);
});

t.test("a directive from above: managers are told; members see the post only", async (t) => {
  const sent = await api(fed, "fsec", "POST", "/directives", { kind: "announcement", title: "Réunion des secrétaires", body: "Samedi 10 h au siège." });
  t.equal(sent.status, 200, JSON.stringify(sent.json));
  await eventually(() => coopol(sec, "sec").includes("coopol.directive"), 20_000, "secretary told");
  t.ok(coopol(sec, "admin1").includes("coopol.directive"));
  for (const member of ["coord", "marie", "jean"]) t.notOk(coopol(sec, member).includes("coopol.directive"), `${member} is not`);
  const web = new WebSession(sec.instance.origin);
  await web.login("sec", PASSWORD);
  const page = await web.get("/notifications");
  t.match(page.body, /a envoyé une consigne à la section/);
  t.match(page.body, /Réunion des secrétaires/, "the directive quoted");
  t.match(page.body, /href="\/directives\/\d+">Lire la consigne/);
});

t.test("a report from below: the fédération's managers are told, with a link", async (t) => {
  const written = await api(sec, "sec", "POST", "/reports", { kind: "field", title: "Retour du porte-à-porte", body: "Beaucoup de questions sur le logement." });
  t.equal(written.status, 200, JSON.stringify(written.json));
  await eventually(() => coopol(fed, "fsec").includes("coopol.report"), 20_000, "fédération secretary told");
  t.same(coopol(fed, "fmarie"), [], "a member of the fédération is not");
  t.notOk(coopol(sec, "sec").includes("coopol.report"), "the writer's side is not");
  const web = new WebSession(fed.instance.origin);
  await web.login("fsec", PASSWORD);
  t.match((await web.get("/")).body, /<a href="\/notifications">Notifications \([1-9]\d*\)<\/a>/, "counted as unread in the menu");
  const page = await web.get("/notifications");
  t.match(page.body, /vous a envoyé un rapport : <a href="\/reports\/\d+">Retour du porte-à-porte<\/a>/);
  const link = /href="(\/reports\/\d+)">Lire le rapport/.exec(page.body);
  t.ok(link, "a link to the report");
  t.equal((await web.get(link![1]!)).status, 200, "the link opens the report");
});

t.test("sign-ups, withdrawals and results: the coordinator and the secretaries, not the others", async (t) => {
  const coordId = sec.instance.query<{ id: number }>("select id from users where username = 'coord'")[0]!.id;
  const action = await api(sec, "sec", "POST", "/actions", {
    campaign_id: campaignId,
    type: "door_to_door",
    title: "Porte-à-porte rue Oberkampf",
    start: "2026-02-07T09:00:00Z",
    coordinator_id: coordId,
    shifts: [{ start: "2026-02-07T09:00:00Z", end: "2026-02-07T11:00:00Z", capacity: 4 }],
  });
  t.equal(action.status, 200, JSON.stringify(action.json));
  const shiftId = action.json.shifts[0].id;
  t.equal((await api(sec, "marie", "POST", `/shifts/${shiftId}/signup`)).status, 200);
  t.same(coopol(sec, "coord").filter((x) => x.startsWith("coopol.shift")), ["coopol.shift.signup"], "the coordinator is told");
  t.ok(coopol(sec, "sec").includes("coopol.shift.signup"), "the secretary too");
  t.ok(coopol(sec, "admin1").includes("coopol.shift.signup"), "and the admin");
  t.same(coopol(sec, "jean").filter((x) => !x.startsWith("coopol.campaign")), [], "another member is not");
  t.notOk(coopol(sec, "marie").includes("coopol.shift.signup"), "nor the member herself");

  t.equal((await api(sec, "marie", "DELETE", `/shifts/${shiftId}/signup`)).status, 200);
  t.same(coopol(sec, "coord").filter((x) => x.startsWith("coopol.shift")), ["coopol.shift.withdraw"], "leaving replaces signing up: one line per person and action");
  // Withdrawing twice tells nobody again.
  await api(sec, "marie", "DELETE", `/shifts/${shiftId}/signup`);
  t.equal(coopol(sec, "coord").filter((x) => x.startsWith("coopol.shift")).length, 1);

  // The coordinator signing up is not told of it.
  await api(sec, "coord", "POST", `/shifts/${shiftId}/signup`);
  t.same(coopol(sec, "coord").filter((x) => x.startsWith("coopol.shift")), ["coopol.shift.withdraw"]);
  t.ok(coopol(sec, "sec").filter((x) => x === "coopol.shift.signup").length >= 1);

  const result = await api(sec, "coord", "POST", `/actions/${action.json.id}/results`, { figures: { doors: 40 } });
  t.equal(result.status, 200, JSON.stringify(result.json));
  t.ok(coopol(sec, "sec").includes("coopol.results"), "the secretary is told of results");
  t.notOk(coopol(sec, "coord").includes("coopol.results"), "not the coordinator who entered them");
  t.notOk(coopol(sec, "jean").includes("coopol.results"));

  const web = new WebSession(sec.instance.origin);
  await web.login("coord", PASSWORD);
  const page = await web.get("/notifications");
  t.match(page.body, /s&#39;est désinscrit·e d&#39;un créneau de l&#39;action <a href="\/actions\/\d+">Porte-à-porte rue Oberkampf<\/a>/);
  t.match(page.body, /href="\/actions\/\d+">Voir l&#39;action/);
});

t.test("Mastodon apps never see Coopol's types", async (t) => {
  const list = await api(sec, "sec", "GET", "/api/v1/notifications?limit=80");
  t.equal(list.status, 200);
  t.ok(coopol(sec, "sec").length >= 3, "the secretary has Coopol notifications");
  t.same(list.json.filter((n: { type: string }) => n.type.startsWith("coopol.")), [], "none in the Mastodon API");
});

t.test("a join request tells the group's moderators, nobody else", async (t) => {
  const group = await api(sec, "sec", "POST", "/groups", { name: "Logement", slug: "logement", policy: "approval", visibility: "members" });
  t.equal(group.status, 200, JSON.stringify(group.json));
  t.equal((await api(sec, "jean", "POST", `/groups/${group.json.id}/join`)).status, 200);
  t.ok(typesOf(sec, "sec").includes("follow_request"), "the owner is asked");
  for (const member of ["coord", "marie", "admin1"]) t.notOk(typesOf(sec, member).includes("follow_request"), `${member} is not`);
  const web = new WebSession(sec.instance.origin);
  await web.login("sec", PASSWORD);
  t.match((await web.get("/notifications")).body, /demande à rejoindre le groupe <a href="\/groups\/logement">Logement<\/a>/);
});
