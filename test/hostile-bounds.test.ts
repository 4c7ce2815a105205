// Work whose size comes from data is bounded: a hostile server (a member of a
// second running instance, whose key signs for real) sends documents that set
// sizes (recurrences, nesting, list lengths, dates, coordinates); a member sends
// the same through the JSON API, the Mastodon API and the web form. After each,
// the instance still answers (/agenda, NodeInfo), answers 4xx/202 with a
// reason, and its SQLite file holds nothing out of bounds.
import t, { type Test } from "tap";
import { request } from "undici";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { postSigned, postSignedText, signerFor, type Signer } from "./helpers/signing.ts";
import { apiToken } from "./helpers/oauth.ts";
import { readReport, readResult } from "../src/federation/territory.ts";

let a: TestInstance, r: TestInstance;
let mal: Signer;
let sec: WebSession;
let token: string;

t.before(async () => {
  [a, r] = await Promise.all([startInstance("bounds-a"), startInstance("bounds-r")]);
  a.addMember("sec", "secretary");
  r.addMember("mal");
  mal = await signerFor(r, "mal");
  sec = new WebSession(a.origin);
  await sec.login("sec", PASSWORD);
  token = await apiToken(a.origin, "sec");
});
t.teardown(async () => {
  await Promise.all([a?.stop(), r?.stop()]);
});

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";
const secActor = () => `${a.origin}/users/sec`;
let n = 0;

/** The instance answers its agenda (list and month) and NodeInfo right after. */
async function stillAnswers(t: Test): Promise<void> {
  const web = new WebSession(a.origin);
  t.equal((await web.get("/agenda")).status, 200, "/agenda answers");
  t.equal((await web.get("/agenda?month=2027-02")).status, 200, "the month view answers");
  t.equal((await web.get("/nodeinfo/2.1")).status, 200, "NodeInfo answers");
}

/** A Create of an object of the remote server's (its id 404s there, so the embedded copy counts). */
function create(object: Record<string, unknown>, context: unknown = "https://www.w3.org/ns/activitystreams") {
  const i = ++n;
  return {
    "@context": context,
    id: `${r.origin}/hostile/${i}/activity`,
    type: "Create",
    actor: mal.actorUri,
    to: [PUBLIC],
    object: { id: `${r.origin}/hostile/${i}`, attributedTo: mal.actorUri, to: [PUBLIC], cc: [secActor()], ...object },
  };
}

const EVENT_CONTEXT = ["https://www.w3.org/ns/activitystreams", { coopol: "https://coopol.example/ns#", recurrence: "coopol:rrule", timezone: "https://joinmobilizon.org/ns#timezone" }];

function remoteEvent(extra: Record<string, unknown>) {
  return create({ type: "Event", name: "Réunion hostile", content: "<p>x</p>", startTime: "2027-02-02T18:00:00Z", timezone: "Europe/Paris", ...extra }, EVENT_CONTEXT);
}

const eventRow = (uri: string) => a.query<{ rrule: string | null; start_at: number; end_at: number | null; latitude: number | null; longitude: number | null }>("select * from events where uri = ?", uri)[0];

t.test("a remote event repeating every second is kept without its recurrence", async (t) => {
  const activity = remoteEvent({ recurrence: "FREQ=SECONDLY" });
  t.equal((await postSigned(`${a.origin}/inbox`, activity, mal)).status, 202);
  const row = await eventually(() => eventRow(activity.object.id), 15_000, "the event stored");
  t.equal(row.rrule, null, "the recurrence is left out");
  await stillAnswers(t);
});

t.test("remote rules that cost much are refused or walked within bounds", async (t) => {
  const refused = [remoteEvent({ recurrence: "FREQ=MINUTELY;INTERVAL=1" }), remoteEvent({ recurrence: "FREQ=DAILY;BYHOUR=1,2,3,4,5,6,7,8" }), remoteEvent({ recurrence: "FREQ=DAILY;COUNT=100000000" }), remoteEvent({ recurrence: "FREQ=DAILY;INTERVAL=99999999" })];
  // Accepted, but never produce a date (rrule would walk day by day to the year 9999), or one date a day for years.
  const walked = [remoteEvent({ recurrence: "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30" }), remoteEvent({ recurrence: "FREQ=WEEKLY;BYMONTH=4;BYMONTHDAY=31", startTime: "1901-01-01T10:00:00Z" }), remoteEvent({ recurrence: "FREQ=DAILY;UNTIL=21991231T000000Z", startTime: "1900-06-01T10:00:00Z" })];
  for (const activity of [...refused, ...walked]) t.equal((await postSigned(`${a.origin}/inbox`, activity, mal)).status, 202);
  for (const activity of refused) t.equal((await eventually(() => eventRow(activity.object.id), 15_000, "stored")).rrule, null);
  for (const activity of walked) t.ok((await eventually(() => eventRow(activity.object.id), 15_000, "stored")).rrule, "kept");
  await stillAnswers(t);
  const month = await new WebSession(a.origin).get("/agenda?month=2027-02");
  t.match(month.body, "Réunion hostile", "the daily event since 1900 shows in February 2027");
  const api = await request(`${a.origin}/api/coopol/v1/events?from=2027-02-01T00:00:00Z&to=2027-03-01T00:00:00Z`);
  t.equal(api.statusCode, 200);
  const list = (await api.body.json()) as Array<{ event: { uri: string } }>;
  t.equal(list.filter((o) => o.event.uri === walked[2]!.object.id).length, 28, "one date a day in February");
  t.equal((await request(`${a.origin}/agenda.ics`)).statusCode, 200, "the calendar feed answers");
});

t.test("remote dates and coordinates out of range", async (t) => {
  const far = remoteEvent({ startTime: "+275760-09-13T00:00:00.000Z" });
  const odd = remoteEvent({ endTime: "+275760-09-13T00:00:00.000Z", location: { type: "Place", name: "Nulle part", latitude: 999, longitude: 5 } });
  for (const activity of [far, odd]) t.equal((await postSigned(`${a.origin}/inbox`, activity, mal)).status, 202);
  const row = await eventually(() => eventRow(odd.object.id), 15_000, "the event with odd fields");
  t.match(row, { end_at: null, latitude: null, longitude: null }, "odd fields left out");
  t.notOk(eventRow(far.object.id), "an event in the year 275760 is refused");
  const note = create({ type: "Note", content: "<p>Du futur</p>", published: "+275760-09-13T00:00:00.000Z" });
  t.equal((await postSigned(`${a.origin}/inbox`, note, mal)).status, 202);
  const post = await eventually(() => a.query<{ published_at: number }>("select published_at from posts where uri = ?", note.object.id)[0], 15_000, "the note");
  t.ok(post.published_at < Date.now() + 60_000, "published: the time of receipt");
  await stillAnswers(t);
});

t.test("a body nested 200,000 levels deep is a 400 with a reason", async (t) => {
  const deep = `{"@context":"https://www.w3.org/ns/activitystreams","id":"${r.origin}/deep","type":"Create","actor":"${mal.actorUri}","object":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
  const res = await postSignedText(`${a.origin}/inbox`, deep, mal);
  t.equal(res.status, 400);
  t.match(JSON.parse(res.body).error, /nests deeper than 64 levels/);
  const api = await request(`${a.origin}/api/v1/statuses`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "accept-language": "en" }, body: `{"status":${"[".repeat(200_000)}${"]".repeat(200_000)}}` });
  t.equal(api.statusCode, 400);
  t.match(((await api.body.json()) as { error: string }).error, "nests too deeply");
  const coopol = await request(`${a.origin}/api/coopol/v1/events`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: `${"[".repeat(100)}${"]".repeat(100)}` });
  t.equal(coopol.statusCode, 400);
  t.match(((await coopol.body.json()) as { error: string }).error, "trop profondément");
  await stillAnswers(t);
});

t.test("long lists in a remote note and poll are capped", async (t) => {
  const many = (count: number, make: (i: number) => unknown) => Array.from({ length: count }, (_, i) => make(i));
  const note = create({
    type: "Question",
    content: "<p>Sondage</p>",
    cc: [secActor(), ...many(3000, (i) => `${r.origin}/users/x${i}`)],
    tag: many(1000, (i) => ({ type: "Hashtag", name: `#tag${i}`, href: `${r.origin}/tags/tag${i}` })),
    attachment: many(200, (i) => ({ type: "Document", mediaType: "image/png", url: `${r.origin}/media/${i}.png`, width: 100_000, height: 100_000 })),
    oneOf: many(500, (i) => ({ type: "Note", name: `Option ${i}`, replies: { type: "Collection", totalItems: 1e15 } })),
    endTime: "+275760-09-13T00:00:00.000Z",
    votersCount: 1e15,
  });
  t.equal((await postSigned(`${a.origin}/inbox`, note, mal)).status, 202);
  const post = await eventually(() => a.query<{ id: number }>("select id from posts where uri = ?", note.object.id)[0], 30_000, "the poll");
  const [tags] = a.query<{ n: number }>("select count(*) as n from post_tags where post_id = ?", post.id);
  const [media] = a.query<{ n: number; big: number }>("select count(*) as n, count(width) as big from media where post_id = ?", post.id);
  const [poll] = a.query<{ options: string; expires_at: number | null; remote_counts: string; remote_voters: number }>("select * from polls where post_id = ?", post.id);
  t.ok(tags!.n <= 100, `hashtags capped (${tags!.n})`);
  t.ok(media!.n <= 20, `attachments capped (${media!.n})`);
  t.equal(media!.big, 0, "implausible sizes left out");
  t.equal(JSON.parse(poll!.options).length, 20, "poll options capped");
  t.equal(poll!.expires_at, null, "an end in the year 275760 is left out");
  t.ok(Math.max(...(JSON.parse(poll!.remote_counts) as number[]), poll!.remote_voters) <= 1e9, "counts capped");
  await stillAnswers(t);
});

t.test("members: the JSON API and the web form refuse out-of-bound events with a 422 in plain words", async (t) => {
  const post = async (body: unknown, language = "fr") => {
    const res = await request(`${a.origin}/api/coopol/v1/events`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "accept-language": language }, body: JSON.stringify(body) });
    return { status: res.statusCode, error: ((await res.body.json()) as { error?: string }).error ?? "" };
  };
  const base = { title: "Réunion", start: "2027-04-10T08:00:00Z" };
  t.match(await post({ ...base, rrule: "FREQ=SECONDLY" }), { status: 422, error: "plus d'une fois par jour" });
  t.match(await post({ ...base, rrule: "FREQ=HOURLY" }, "en"), { status: 422, error: "more than once a day" });
  t.match(await post({ ...base, rrule: "FREQ=DAILY;COUNT=50000" }), { status: 422, error: "limites" });
  t.match(await post({ ...base, start: "+275760-09-13T00:00:00Z" }), { status: 422, error: "entre 1900 et 2200" });
  t.match(await post({ ...base, place: { name: "Ici", latitude: 999, longitude: 2 } }), { status: 422, error: "latitude" });
  const form = await sec.post("/events", { title: "Réunion", start: "2027-03-02T18:30", timezone: "Europe/Paris", category: "section_meeting", audience: "public", join_mode: "open", rrule: "FREQ=MINUTELY" });
  t.equal(form.status, 422);
  t.match(form.body, "plus d&#39;une fois par jour");
  t.equal(a.query("select 1 from events where rrule like '%LY' and rrule not like 'FREQ=DAILY%' and rrule not like 'FREQ=WEEKLY%'").length, 0, "no sub-daily rule stored");
  await stillAnswers(t);
});

/** A PNG header claiming a size; image-size reads nothing more. */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(13);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), length, Buffer.from("IHDR"), ihdr, Buffer.alloc(4), Buffer.alloc(64)]);
}

t.test("images over the pixel budget are refused on every upload", async (t) => {
  for (const path of ["/api/v1/media", "/api/v2/media"]) {
    const body = new FormData();
    body.append("file", new Blob([new Uint8Array(pngHeader(100_000, 100_000))], { type: "image/png" }), "huge.png");
    const res = await fetch(`${a.origin}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "accept-language": "en" }, body });
    t.equal(res.status, 422, path);
    t.match(((await res.json()) as { error: string }).error, "100000 × 100000 pixels", path);
  }
  const small = new FormData();
  small.append("file", new Blob([new Uint8Array(pngHeader(640, 480))], { type: "image/png" }), "small.png");
  t.equal((await fetch(`${a.origin}/api/v2/media`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: small })).status, 200, "a normal image passes");
  t.equal(a.query("select 1 from media where width > 16384 or height > 16384").length, 0);
  await stillAnswers(t);
});

t.test("territory objects: unknown metrics dropped, figures capped, dates in range", async (t) => {
  // What the inbox's territory listener reads from a linked node's payload (src/federation/territory.ts).
  const result = readResult({
    id: `${r.origin}/results/1`,
    attributedTo: `${r.origin}/users/section`,
    campaign: `${r.origin}/campaigns/1`,
    actionType: "door_to_door",
    startTime: "2027-03-01T10:00:00Z",
    updated: "2027-03-01T12:00:00Z",
    figures: { doors: 1e15, conversations: 12, bitcoins: 5, ["x".repeat(1000)]: 1 },
  });
  t.same(result?.metrics, { doors: 1_000_000, conversations: 12, leaflets: 0, calls: 0, posters: 0, contacts: 0 }, "known metrics only, capped");
  t.equal(readResult({ id: "x", attributedTo: "y", campaign: "z", actionType: "door_to_door", startTime: "+275760-09-13T00:00:00Z", updated: "2027-03-01T12:00:00Z" }), null, "a date in the year 275760 is refused");
  const figures = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`${r.origin}/campaigns/${i}`, { phoning: { calls: 3, junk: 9 }, unknown_type: { calls: 1 } }]));
  const report = readReport({ id: `${r.origin}/reports/1`, attributedTo: `${r.origin}/users/section`, name: "Rapport", reportKind: "activity", updated: "2027-03-01T12:00:00Z", figures });
  t.equal(Object.keys(report?.figures ?? {}).length, 100, "100 campaigns at most");
  t.same(Object.values(report!.figures)[0], { phoning: { doors: 0, conversations: 0, leaflets: 0, calls: 3, posters: 0, contacts: 0 } }, "known action types and metrics only");
});
