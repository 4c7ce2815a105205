// Coopol's own JSON API for the agenda, with real OAuth tokens, every
// response checked against the OpenAPI document the instance serves.
import t from "tap";
import { request } from "undici";
import { startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";
import { openapiValidator, type Validate } from "./helpers/openapi.ts";

let a: TestInstance;
let spec: { components: { schemas: Record<string, unknown> } };
let validate: Validate;

t.before(async () => {
  a = await startInstance("coopolapi");
  a.addMember("sec", "secretary");
  a.addMember("marc");
  a.addMember("sam", "sympathisant");
  ({ spec, validate } = (await openapiValidator(a.origin)) as { spec: typeof spec; validate: Validate });
});
t.teardown(() => a?.stop());

const token = (username: string, scope = "read write") => apiToken(a.origin, username, scope);

async function call(method: "GET" | "POST" | "PUT", path: string, bearer?: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await request(`${a.origin}/api/coopol/v1${path}`, {
    method,
    headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.statusCode, json: await res.body.json() };
}

t.test("the agenda through the API, every answer as the OpenAPI document says", async (t) => {
  t.equal((spec as unknown as { openapi: string }).openapi, "3.1.0");
  const sec = await token("sec");
  const marc = await token("marc");
  const created = await call("POST", "/events", sec, {
    title: "Formation : tenir un stand",
    start: "2027-04-10T08:00:00Z",
    end: "2027-04-10T11:00:00Z",
    category: "training",
    capacity: 1,
    join_mode: "open",
    place: { name: "Local de la section", locality: "Nantes", latitude: 47.2184, longitude: -1.5536 },
    agenda: ["Accueil", "Jeu de rôle"],
    for_section: true,
  });
  t.equal(created.status, 200);
  t.same(validate("Event", created.json), [], "Event schema");
  t.match(created.json, { title: "Formation : tenir un stand", capacity: 1, remaining: 1, organiser: { group: true }, agenda: ["Accueil", "Jeu de rôle"] });
  const id = created.json.id;

  const list = await call("GET", "/events?from=2027-04-01T00:00:00Z&to=2027-04-30T00:00:00Z", marc);
  t.equal(list.status, 200);
  t.equal(list.json.length, 1);
  t.same(validate("Occurrence", list.json[0]), [], "Occurrence schema");

  const going = await call("POST", `/events/${id}/rsvp`, marc, { answer: "going" });
  t.match(going.json, { my_rsvp: "going", remaining: 0, counts: { going: 1 } });
  t.same(validate("Event", going.json), []);
  const people = await call("GET", `/events/${id}/attendees`, sec);
  t.equal(people.json.length, 1);
  t.same(validate("Rsvp", people.json[0]), [], "Rsvp schema");
  const minutes = await call("PUT", `/events/${id}/minutes`, sec, { minutes: "Bon exercice.", present: [people.json[0].account.id] });
  t.equal(minutes.json.minutes, "Bon exercice.");
  const cancelled = await call("POST", `/events/${id}/cancel`, sec);
  t.equal(cancelled.json.status, "cancelled");

  // Errors: plain words, in the documented shape.
  const bad = await call("POST", "/events", sec, { title: "", start: "2027-04-10T08:00:00Z" });
  t.equal(bad.status, 422);
  t.same(validate("Error", bad.json), []);
  t.match(bad.json.error, "titre");
  t.equal((await call("PUT", `/events/${id}`, marc, { title: "Piratage", start: "2027-04-10T08:00:00Z" })).status, 404, "only the organiser edits");
  t.equal((await call("POST", "/events", undefined, { title: "x", start: "2027-04-10T08:00:00Z" })).status, 401);
  const readOnly = await token("marc", "read");
  const refused = await call("POST", "/events", readOnly, { title: "x", start: "2027-04-10T08:00:00Z" });
  t.equal(refused.status, 403);
  t.match(refused.json.error, "write");
});

t.test("section-only events through the API: members yes, sympathisants and visitors no", async (t) => {
  const sec = await token("sec");
  const sam = await token("sam");
  const inside = await call("POST", "/events", sec, { title: "Bureau de section", start: "2027-05-01T17:00:00Z", audience: "section" });
  t.equal(inside.status, 200);
  t.equal((await call("GET", `/events/${inside.json.id}`, sam)).status, 404);
  t.equal((await call("GET", `/events/${inside.json.id}`)).status, 404);
  const samList = await call("GET", "/events?from=2027-04-30T00:00:00Z&to=2027-05-02T00:00:00Z", sam);
  t.same(samList.json, []);
  const marc = await token("marc");
  t.equal((await call("GET", `/events/${inside.json.id}`, marc)).status, 200);
  t.equal((await call("POST", "/events", sam, { title: "Interne", start: "2027-05-01T17:00:00Z", audience: "section" })).status, 403, "sympathisants cannot create one");
});

t.test("the agenda is paged by time, with a Link header to the next page", async (t) => {
  const sec = await token("sec");
  const created = await call("POST", "/events", sec, { title: "Permanence", start: "2028-01-04T17:00:00Z", rrule: "FREQ=WEEKLY", timezone: "Europe/Paris", for_section: true });
  t.equal(created.status, 200);
  const seen: string[] = [];
  let url: string | null = `${a.origin}/api/coopol/v1/events?from=2028-01-01T00:00:00Z&to=2028-03-01T00:00:00Z&limit=3`;
  let pages = 0;
  while (url && pages < 10) {
    const res: Awaited<ReturnType<typeof request>> = await request(url, { headers: { authorization: `Bearer ${sec}` } });
    t.equal(res.statusCode, 200);
    const page = (await res.body.json()) as Array<{ start: string; event: { title: string } }>;
    t.ok(page.length <= 3, "at most `limit` occurrences");
    seen.push(...page.filter((o) => o.event.title === "Permanence").map((o) => o.start));
    url = /<([^>]+)>; rel="next"/.exec(String(res.headers.link ?? ""))?.[1] ?? null;
    pages++;
  }
  t.equal(seen.length, 9, "every Tuesday of January and February 2028, once");
  t.equal(new Set(seen).size, seen.length, "no occurrence twice across pages");
  t.ok(pages >= 3, `several pages (${pages})`);
});
