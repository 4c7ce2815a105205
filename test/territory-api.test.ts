// The hierarchy's JSON API on a section and on a fédération (not linked: the
// federation test covers the links), every answer checked against the
// OpenAPI document the instance serves, and the rights of each role.
import t from "tap";
import { startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";
import { openapiValidator, type Validate } from "./helpers/openapi.ts";

let section: TestInstance;
let federation: TestInstance;
let validate: Validate;
const tokens: Record<string, string> = {};

t.before(async () => {
  section = await startInstance("tapi_s", { COOPOL_TERRITORY: "75111" });
  federation = await startInstance("tapi_f", { COOPOL_KIND: "federation", COOPOL_TERRITORY: "75", COOPOL_HANDLE: "federation_75" });
  section.addMember("sec", "secretary");
  section.addMember("marc");
  section.addMember("sam", "sympathisant");
  federation.addMember("fsec", "secretary");
  ({ validate } = await openapiValidator(section.origin));
  for (const name of ["sec", "marc", "sam"]) tokens[name] = await apiToken(section.origin, name);
  tokens.fsec = await apiToken(federation.origin, "fsec");
});
t.teardown(async () => {
  await section?.stop();
  await federation?.stop();
});

async function call(who: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const origin = who === "fsec" ? federation.origin : section.origin;
  const res = await fetch(`${origin}/api/coopol/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // CSV (the byte-order mark is dropped by text()) or empty
  }
  return { status: res.status, json, text };
}

function valid(t: { same: (a: unknown, b: unknown, m: string) => unknown }, schema: string, data: unknown): void {
  t.same(validate(schema, data), [], `${schema} matches the OpenAPI document`);
}

t.test("campaign, action, shifts, results, contacts and a report through the API", async (t) => {
  const territory = await call("sec", "GET", "/territory");
  t.equal(territory.status, 200);
  valid(t, "Territory", territory.json);
  t.equal(territory.json.parent, null, "no fédération declared");

  t.equal((await call("marc", "POST", "/campaigns", { title: "x", starts_at: "2026-01-01T00:00:00Z" })).status, 403, "members don't start campaigns");
  const untitled = await call("sec", "POST", "/campaigns", { title: "", starts_at: "2026-01-01T00:00:00Z" });
  t.equal(untitled.status, 422);
  t.match(untitled.json.error, /titre|title/i, "the error says what is missing");
  const bad = await call("sec", "POST", "/campaigns", { title: "Logement", starts_at: "2026-01-01T00:00:00Z", goals: { doors: -3 } });
  t.equal(bad.status, 422, "a negative goal is refused in plain words");
  const campaign = await call("sec", "POST", "/campaigns", {
    title: "Pétition logement",
    description: "Signatures sur les marchés.",
    starts_at: "2026-01-01T00:00:00Z",
    ends_at: "2099-06-30T00:00:00Z",
    goals: { doors: 300, contacts: 50 },
    materials: [{ name: "Argumentaire", url: "https://exemple.fr/argumentaire.pdf" }],
  });
  t.equal(campaign.status, 200, JSON.stringify(campaign.json));
  valid(t, "Campaign", campaign.json);
  t.equal(campaign.json.level, "section");
  t.equal(campaign.json.own, true);
  const list = await call("marc", "GET", "/campaigns");
  t.equal(list.json.length, 1);
  list.json.forEach((c: unknown) => valid(t, "Campaign", c));
  t.equal((await call("sam", "GET", "/campaigns")).status, 403, "sympathisants don't see the party's campaign work");

  const action = await call("marc", "POST", "/actions", {
    campaign_id: campaign.json.id,
    type: "market_stand",
    title: "Stand au marché Bastille",
    start: "2026-02-08T08:00:00Z",
    meeting_point: "Sortie métro Bastille",
    shifts: [
      { start: "2026-02-08T08:00:00Z", end: "2026-02-08T10:00:00Z", capacity: 1 },
      { start: "2026-02-08T10:00:00Z", end: "2026-02-08T12:00:00Z" },
    ],
  });
  t.equal(action.status, 200, JSON.stringify(action.json));
  valid(t, "Action", action.json);
  t.equal(action.json.coordinator_id !== null, true, "the organiser coordinates by default");
  const [first, second] = action.json.shifts;
  const signed = await call("sec", "POST", `/shifts/${first.id}/signup`);
  t.equal(signed.status, 200);
  valid(t, "Action", signed.json);
  t.equal(signed.json.shifts[0].taken, 1);
  t.equal((await call("marc", "POST", `/shifts/${first.id}/signup`)).status, 409, "a full shift says so");
  t.equal((await call("marc", "POST", `/shifts/${second.id}/signup`)).json.shifts[1].mine, true);
  t.equal((await call("marc", "DELETE", `/shifts/${second.id}/signup`)).json.shifts[1].mine, false);

  const result = await call("marc", "POST", `/actions/${action.json.id}/results`, { figures: { doors: 0, conversations: 40, leaflets: 150, contacts: 12 }, comment: "Beaucoup de signatures" });
  t.equal(result.status, 200, JSON.stringify(result.json));
  valid(t, "Result", result.json);
  t.equal((await call("marc", "POST", `/actions/${action.json.id}/results`, { figures: { leaflets: -1 } })).status, 422);
  const results = await call("sec", "GET", `/actions/${action.json.id}/results`);
  t.equal(results.json.length, 1);
  results.json.forEach((r: unknown) => valid(t, "Result", r));
  // The secretary corrects Marc's result: same result, new figures (those not given count as 0, as when recording).
  const corrected = await call("sec", "PUT", `/results/${result.json.id}`, { figures: { conversations: 45, leaflets: 150, contacts: 12 }, comment: "Beaucoup de signatures" });
  t.equal(corrected.status, 200, JSON.stringify(corrected.json));
  valid(t, "Result", corrected.json);
  t.same([corrected.json.id, corrected.json.figures.conversations, corrected.json.figures.contacts], [result.json.id, 45, 12]);
  t.equal(corrected.json.campaign_name, "Pétition logement", "it keeps its campaign's name");
  t.ok(corrected.json.updated_at > result.json.updated_at, "a newer version");
  t.equal((await call("sec", "PUT", `/results/${result.json.id}`, { figures: { doors: -1 } })).status, 422);
  t.equal((await call("sam", "PUT", `/results/${result.json.id}`, { figures: { doors: 1 } })).status, 403, "a sympathisant corrects nothing");

  t.equal((await call("marc", "POST", `/actions/${action.json.id}/contacts`, { name: "Jeanne", email: "jeanne@exemple.fr" })).status, 422, "no consent, nothing stored");
  const contact = await call("marc", "POST", `/actions/${action.json.id}/contacts`, { name: "Jeanne", email: "jeanne@exemple.fr", consent: true });
  t.equal(contact.status, 200);
  valid(t, "Contact", contact.json);
  const contacts = await call("marc", "GET", `/actions/${action.json.id}/contacts`);
  t.equal(contacts.json.length, 1);

  const report = await call("sec", "POST", "/reports", { kind: "activity", title: "Bilan de février", body: "Un stand, douze contacts." });
  t.equal(report.status, 200);
  valid(t, "Report", report.json);
  t.equal(report.json.acknowledged_at, null, "waits for a fédération");
  t.equal(report.json.figures[campaign.json.uri].market_stand.contacts, 12);
  t.equal((await call("marc", "POST", "/reports", { kind: "activity", title: "x" })).status, 403, "only the secretary writes reports");
  t.equal((await call("sec", "GET", "/reports?direction=received")).status, 200);
  t.equal((await call("marc", "GET", "/reports?direction=received")).status, 403);
  t.equal((await call("sec", "POST", "/directives", { kind: "announcement", title: "x" })).status, 409, "a section oversees nobody");

  const csv = await call("sec", "GET", "/results.csv");
  t.equal(csv.status, 200);
  t.match(csv.text, /^section;section_uri;/);
  t.match(csv.text, /market_stand;2026-02-08T08:00:00.000Z;0;45;150;0;0;12;Beaucoup de signatures/);
});

t.test("a fédération's directives and dashboard", async (t) => {
  const campaign = await call("fsec", "POST", "/campaigns", { title: "Législatives", starts_at: "2026-05-01T00:00:00Z", goals: { doors: 10000 } });
  t.equal(campaign.json.level, "federation");
  const directive = await call("fsec", "POST", "/directives", {
    kind: "action_proposal",
    title: "Tractage devant les gares",
    proposal: { type: "leafleting", campaign_uri: campaign.json.uri, start: "2026-05-10T06:30:00Z" },
  });
  t.equal(directive.status, 200, JSON.stringify(directive.json));
  valid(t, "Directive", directive.json);
  const board = await call("fsec", "GET", "/dashboard");
  t.equal(board.status, 200);
  valid(t, "Dashboard", board.json);
  t.equal(board.json.kind, "federation");
  t.equal(board.json.campaigns[0].goals.doors, 10000);
  const csv = await call("fsec", "GET", "/dashboard.csv");
  t.match(csv.text, /^nom;compte;territoire;membres;actifs_30j/);
});
