// The agenda shows the field work: a campaign's actions in the section's
// agenda and month view, the member's shifts on "my agenda" and in their
// private calendar feed; a recurring meeting is one line with its next dates.
// Real instance, the Coopol API to set things up, the pages over HTTP.
import t from "tap";
import { request } from "undici";
import { WebSession } from "./helpers/browser-session.ts";
import { PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";

let a: TestInstance;

t.before(async () => {
  a = await startInstance("agenda-field");
  a.addMember("sec", "secretary");
  a.addMember("lea");
  a.addMember("zoe", "sympathisant");
});

t.teardown(async () => {
  await a?.stop();
});

async function call(token: string, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await request(`${a.origin}/api/coopol/v1${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.statusCode, json: await res.body.json() };
}

/** The first day of next month at a given UTC hour, and its "YYYY-MM". */
function nextMonth(day: number, hour: number): { iso: string; month: string } {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, day, hour));
  return { iso: d.toISOString(), month: d.toISOString().slice(0, 7) };
}

t.test("actions and shifts on the agenda, the month, my agenda and my feed; one line for a recurring meeting", async (t) => {
  const sec = await apiToken(a.origin, "sec");
  const leaToken = await apiToken(a.origin, "lea");
  const campaign = await call(sec, "/campaigns", { title: "Municipales", starts_at: new Date(Date.now() - 86_400_000).toISOString() });
  t.equal(campaign.status, 200, JSON.stringify(campaign.json));
  const start = nextMonth(10, 8);
  const action = await call(sec, "/actions", { campaign_id: campaign.json.id, type: "leafleting", title: "Tractage du marché", start: start.iso, end: nextMonth(10, 11).iso, meeting_point: "Place de la mairie" });
  t.equal(action.status, 200, JSON.stringify(action.json));
  const withShift = await call(sec, `/actions/${action.json.id}/shifts`, { start: start.iso, end: nextMonth(10, 9).iso, capacity: 3 });
  t.equal(withShift.status, 200, JSON.stringify(withShift.json));
  const shiftId = withShift.json.shifts[0].id;
  t.equal((await call(leaToken, `/shifts/${shiftId}/signup`, {})).status, 200, "lea signs up");
  const meeting = await call(sec, "/events", { title: "Réunion hebdomadaire", start: nextMonth(2, 17).iso, rrule: "FREQ=WEEKLY", timezone: "Europe/Paris", for_section: true });
  t.equal(meeting.status, 200, JSON.stringify(meeting.json));

  const lea = new WebSession(a.origin);
  await lea.login("lea", PASSWORD);
  const list = (await lea.get("/agenda")).body;
  t.match(list, `href="/actions/${action.json.id}"`, "the action is on the section's agenda");
  t.match(list, "Tractage du marché");
  t.equal(list.split("Réunion hebdomadaire").length - 1, 1, "the weekly meeting is one line…");
  t.match(list, "Puis :", "…with its next dates");
  t.match((await lea.get(`/agenda?month=${start.month}`)).body, `href="/actions/${action.json.id}"`, "and on the month view");
  const mine = (await lea.get("/agenda/me")).body;
  t.match(mine, "Mon créneau", "my agenda shows the shift I signed up for");
  t.match(mine, `href="/actions/${action.json.id}"`);

  const zoe = new WebSession(a.origin);
  await zoe.login("zoe", PASSWORD);
  t.notMatch((await zoe.get("/agenda")).body, "Tractage du marché", "field work is for card-holders, as the actions themselves");
  t.notMatch((await new WebSession(a.origin).get("/agenda")).body, "Tractage du marché", "never for visitors");
  t.notMatch((await new WebSession(a.origin).get("/agenda.ics")).body, "Tractage", "nor in the public feed");

  const created = await lea.post("/settings/calendar", {});
  const token = /token=([\w-]+)/.exec(created.location ?? "")?.[1];
  t.ok(token, "a private feed");
  const feed = (await new WebSession(a.origin).get(`/agenda/private/${token}.ics`)).body;
  t.match(feed, "SUMMARY:Tractage : Tractage du marché", "the action in lea's calendar");
  t.match(feed, "SUMMARY:Mon créneau — Tractage : Tractage du marché", "and her shift");
  t.match(feed, "LOCATION:Place de la mairie");
});

t.test("the list is read a page at a time: a « later » link goes on from the first line left out", async (t) => {
  const sec = await apiToken(a.origin, "sec");
  const first = Date.UTC(new Date().getUTCFullYear() + 1, 0, 1, 17);
  for (let i = 1; i <= 60; i++) {
    const res = await call(sec, "/events", { title: `Permanence n°${i}`, start: new Date(first + i * 86_400_000).toISOString(), timezone: "Europe/Paris", for_section: true });
    t.equal(res.status, 200, JSON.stringify(res.json));
  }
  const lea = new WebSession(a.origin);
  await lea.login("lea", PASSWORD);
  const lines = (body: string) => body.match(/<li class="event/g)?.length ?? 0;
  const one = (await lea.get("/agenda")).body;
  t.equal(lines(one), 50, "fifty lines on the first page");
  t.equal(one.split("Réunion hebdomadaire").length - 1, 1, "the weekly meeting still one line");
  const next = /<a href="([^"]+)" rel="next">Plus tard/.exec(one)?.[1]?.replaceAll("&amp;", "&");
  t.ok(next, "a link to what comes later");
  const two = (await lea.get(next!)).body;
  const shownOn = (body: string) => [...body.matchAll(/Permanence n°(\d+)</g)].map((m) => Number(m[1]));
  const all = [...shownOn(one), ...shownOn(two)].sort((x, y) => x - y);
  t.same(all, Array.from({ length: 60 }, (_, i) => i + 1), "every event once, over the two pages");
  t.notMatch(two, 'rel="next"', "nothing later");
});
