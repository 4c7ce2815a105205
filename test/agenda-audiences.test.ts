// Event audiences beyond "public" and "section", with four real instances:
// a fédération F overseeing sections A and B, and an unrelated instance C.
// - a group of A organises an event for its members: it reaches its member on
//   B, and nobody else sees it (web, JSON API, Mastodon API, .ics, ActivityPub);
// - a fédération-wide event of A reaches B through F; members of B and of F
//   answer it, a member of C is refused.
import t from "tap";
import { WebSession } from "./helpers/browser-session.ts";
import { eventually, freePort, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";
import { postSigned, signerFor } from "./helpers/signing.ts";
import { openapiValidator } from "./helpers/openapi.ts";
import { WIRE_CONTEXT, statusObject, toWire } from "../src/federation/territory.ts";

let f: TestInstance, a: TestInstance, b: TestInstance, c: TestInstance;
let alice: WebSession, sec: WebSession, bob: WebSession, bea: WebSession, carl: WebSession, fanny: WebSession;
const host = (i: TestInstance) => new URL(i.origin).host;
const nodeUri = (i: TestInstance, handle: string) => `${i.origin}/users/${handle}`;

t.before(async () => {
  const ports = { f: await freePort(), a: await freePort(), b: await freePort() };
  const h = { f: `federation_aud@127.0.0.1:${ports.f}`, a: `section_aud_a@127.0.0.1:${ports.a}`, b: `section_aud_b@127.0.0.1:${ports.b}` };
  [a, b, c] = await Promise.all([
    startInstance("aud-a", { PORT: String(ports.a), COOPOL_HANDLE: "section_aud_a", COOPOL_PARENT: h.f }),
    startInstance("aud-b", { PORT: String(ports.b), COOPOL_HANDLE: "section_aud_b", COOPOL_PARENT: h.f }),
    startInstance("aud-c"),
  ]);
  f = await startInstance("aud-f", { PORT: String(ports.f), COOPOL_HANDLE: "federation_aud", COOPOL_KIND: "federation", COOPOL_NAME: "Fédération test", COOPOL_CHILDREN: `${h.a} ${h.b}` });
  a.addMember("alice");
  a.addMember("sec", "secretary");
  b.addMember("bob");
  b.addMember("bea");
  c.addMember("carl");
  f.addMember("fanny");
  const login = async (i: TestInstance, u: string) => {
    const s = new WebSession(i.origin);
    await s.login(u, PASSWORD);
    return s;
  };
  [alice, sec, bob, bea, carl, fanny] = await Promise.all([login(a, "alice"), login(a, "sec"), login(b, "bob"), login(b, "bea"), login(c, "carl"), login(f, "fanny")]);
});
t.teardown(async () => {
  await Promise.all([f, a, b, c].filter(Boolean).map((i) => i.stop()));
});

async function createEvent(session: WebSession, fields: Record<string, string | string[]>): Promise<string> {
  const res = await session.post("/events", { start: "2027-04-10T10:00", timezone: "Europe/Paris", category: "debate", join_mode: "open", ...fields } as never);
  if (res.status !== 303) throw new Error(`event not created: ${res.status} ${res.body.slice(0, 800)}`);
  return /\/events\/(\d+)/.exec(res.location!)![1]!;
}
const localId = (i: TestInstance, uri: string) => i.query<{ id: number }>("select id from events where uri = ?", uri)[0]?.id;
const rsvpOn = (i: TestInstance, username: string, eventUri: string) =>
  i.query<{ status: string }>(
    "select rsvps.status from rsvps join actors on actors.id = rsvps.actor_id join events on events.id = rsvps.event_id where actors.username = ? and events.uri = ?",
    username,
    eventUri,
  )[0]?.status;

async function api(i: TestInstance, token: string, path: string): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${i.origin}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, json, text };
}

t.test("the fédération links its sections and tells each its siblings", async (t) => {
  const linked = () => f.query("select 1 from territory_links where role = 'child' and state = 'linked'").length === 2;
  // F asks its sections at start-up, then every five minutes: a section not answering yet is asked again by a restart.
  for (let attempt = 0; attempt < 3 && !(await eventually(linked, 15_000, "F linked").catch(() => false)); attempt++) {
    await f.stop();
    await f.start();
  }
  t.ok(linked(), "F linked to A and B");
  // A sibling is kept by its node actor's URI (the list a fédération sends names them so).
  await eventually(() => a.query<{ handle: string }>("select handle from territory_links where role = 'sibling' and state = 'linked'").some((r) => r.handle === nodeUri(b, "section_aud_b")), 45_000, "A knows B as its sibling");
  await eventually(() => b.query<{ handle: string }>("select handle from territory_links where role = 'sibling' and state = 'linked'").some((r) => r.handle === nodeUri(a, "section_aud_a")), 45_000, "B knows A as its sibling");
  // Nothing fetched to store them: a fédération of 500 sections would make each fetch 499 actors.
  t.same(a.query("select 1 from actors where uri = ?", nodeUri(b, "section_aud_b")), [], "A did not fetch B's actor for the list");
  t.same(c.query("select 1 from territory_links"), [], "C has no link at all");
  // Declared links are synced at start-up: a restart keeps the siblings the fédération told.
  await a.stop();
  await a.start();
  t.equal(a.query("select 1 from territory_links where role = 'sibling'").length, 1, "siblings survive a restart");
});

/** Sections messages an instance received (Fedify keeps each activity id it processed). */
const sectionsReceived = (i: TestInstance) => i.query("select 1 from fedify_kv where key like '%#sections#update-%'").length;

t.test("a burst of changes makes one Sections message, carrying the latest list", async (t) => {
  const before = sectionsReceived(b);
  t.ok(before >= 1, "B counted the list it received");
  // A's figures arrive three times with a new territory each (as after three restarts): each is a change of the list.
  const signer = await signerFor(a, "section_aud_a");
  const federationUri = nodeUri(f, "federation_aud");
  for (const [n, territory] of ["75111", "75112", "75113"].entries()) {
    const status = statusObject({ nodeUri: signer.actorUri, name: "Section A", kind: "section", territory, federationUri: null, members: 2, activeMembers: 1, eventsHeld: 0, eventsUpcoming: 0, version: Date.now() + n }, [federationUri]);
    const update = { "@context": WIRE_CONTEXT, id: `${signer.actorUri}#status-burst-${n}`, type: "Update", actor: signer.actorUri, to: [federationUri], object: toWire(status) };
    t.equal((await postSigned(`${f.origin}/inbox`, update, signer)).status, 202);
  }
  // B is told once, 15 s after the last change, with A's latest territory.
  await eventually(() => b.query<{ territory: string }>("select territory from territory_links where role = 'sibling' and handle = ?", nodeUri(a, "section_aud_a"))[0]?.territory === "75113", 45_000, "B has A's latest territory");
  await eventually(() => f.query("select 1 from outbox union all select 1 from fedify_queue").length === 0, 15_000, "F sent everything");
  t.equal(sectionsReceived(b), before + 1, "one Sections message for the burst");
  t.same(b.query("select 1 from actors where uri = ?", nodeUri(a, "section_aud_a")), [], "B still has not fetched A's actor");
});

let groupEventUri = "";
let groupEventId = "";
let groupIdOnA = 0;

t.test("a group of A organises an event for its members: it reaches its member on B only", async (t) => {
  t.equal((await alice.post("/groups", { name: "Logement", slug: "logement", policy: "fediverse", visibility: "members" })).status, 303);
  groupIdOnA = a.query<{ id: number }>("select id from groups where slug = 'logement'")[0]!.id;
  t.equal((await bob.post("/groups/join", { handle: `@g_logement@${host(a)}` })).status, 303);
  await eventually(() => a.query("select 1 from follows join actors on actors.id = follows.follower_id where actors.username = 'bob' and follows.accepted_at is not null").length === 1, 15_000, "bob is a member");
  await eventually(() => b.query("select 1 from follows join actors on actors.id = follows.follower_id where actors.username = 'bob' and follows.accepted_at is not null").length === 1, 15_000, "B knows bob is a member");
  // bea (B) and carl (C) follow section A: public events of A reach them, this one must not.
  t.equal((await bea.post("/follow", { target: `${a.origin}/users/section_aud_a` })).status, 303);
  t.equal((await carl.post("/follow", { target: `${a.origin}/users/section_aud_a` })).status, 303);
  // bea's and carl's follows by name: the fédération follows the section too. (Their Follows
  // leave B and C through the outbox, after the web request has answered.)
  await eventually(() => a.query("select 1 from follows join actors on actors.id = follows.follower_id where following_id = (select id from actors where username = 'section_aud_a') and accepted_at is not null and actors.username in ('bea', 'carl')").length === 2, 15_000, "followers of A");

  // The form offers the group as organiser and as audience; a members-only group's event cannot be public.
  const form = await alice.get("/events/new");
  t.match(form.body, `value="group:${groupIdOnA}"`, "the group can organise");
  t.match(form.body, 'value="groups"', "the groups audience is offered");
  const publicTry = await alice.post("/events", { title: "Public interdit", start: "2027-04-10T10:00", timezone: "Europe/Paris", organiser: `group:${groupIdOnA}`, audience: "public" });
  t.equal(publicTry.status, 422, "a members-only group's event cannot be public");

  groupEventId = await createEvent(alice, { title: "Atelier logement (membres)", organiser: `group:${groupIdOnA}`, audience: "groups", groups: String(groupIdOnA) });
  groupEventUri = `${a.origin}/events/${groupEventId}`;
  t.match(a.query<{ username: string }>("select actors.username from events join actors on actors.id = events.actor_id where events.id = ?", Number(groupEventId))[0], { username: "g_logement" }, "attributed to the group's actor");
  const onB = await eventually(() => b.query<{ id: number; audience: string }>("select id, audience from events where uri = ?", groupEventUri)[0], 15_000, "the event on B");
  t.equal(onB.audience, "groups");
  t.equal(b.query("select 1 from event_groups where event_id = ?", onB.id).length, 1, "addressed to the group on B too");
  // A public event sent after it reaches C: by then the group's would have arrived too.
  const after = await createEvent(sec, { title: "Marché public", audience: "public", organiser: "section" });
  await eventually(() => localId(c, `${a.origin}/events/${after}`), 15_000, "the later public event on C");
  t.same(c.query("select 1 from events where uri = ?", groupEventUri), [], "C never received the group's event");

  // Members see it, on B and in the group's agenda on A.
  t.equal((await bob.get(`/events/${onB.id}`)).status, 200, "bob sees it on B");
  t.match((await bob.get("/agenda")).body, "Atelier logement", "in bob's agenda");
  t.match((await alice.get("/groups/logement/agenda")).body, "Atelier logement", "in the group's agenda");
  t.match((await alice.get("/groups/logement")).body, "/groups/logement/agenda", "linked from the group's page");
  const bobToken = await apiToken(b.origin, "bob");
  const groupOnB = b.query<{ id: number }>("select groups.id from groups join actors on actors.id = groups.actor_id where actors.username = 'g_logement'")[0]!.id;
  const bobGroupAgenda = await api(b, bobToken, `/api/coopol/v1/groups/${groupOnB}/events`);
  t.equal(bobGroupAgenda.status, 200);
  t.ok(bobGroupAgenda.json.some((o: { event: { uri: string } }) => o.event.uri === groupEventUri), "the group's agenda in the API, for a member");
  const bobFeedToken = new URL((await bob.post("/settings/calendar", {})).location!, b.origin).searchParams.get("token")!;
  t.match((await new WebSession(b.origin).get(`/agenda/private/${bobFeedToken}.ics`)).body, "Atelier logement", "in bob's private feed");

  // Non-members see nothing: web, JSON API, Mastodon API, .ics.
  t.equal((await bea.get(`/events/${onB.id}`)).status, 404, "bea (B, not a member) gets 404");
  t.notMatch((await bea.get("/agenda")).body, "Atelier logement");
  t.equal((await new WebSession(a.origin).get(`/events/${groupEventId}`)).status, 404, "visitors on A get 404");
  t.notMatch((await new WebSession(a.origin).get("/groups/logement/agenda")).body, "Atelier logement", "nor in the group's agenda for visitors");
  t.notMatch((await sec.get("/agenda")).body, "Atelier logement", "nor A's secretary, not a member");
  const beaToken = await apiToken(b.origin, "bea");
  const beaEvents = await api(b, beaToken, "/api/coopol/v1/events");
  t.notOk(beaEvents.json.some((o: { event: { uri: string } }) => o.event.uri === groupEventUri), "not in bea's API agenda");
  t.equal((await api(b, beaToken, `/api/coopol/v1/events/${onB.id}`)).status, 404);
  t.notOk((await api(b, beaToken, `/api/coopol/v1/groups/${groupOnB}/events`)).json.some((o: { event: { uri: string } }) => o.event.uri === groupEventUri), "nor in the group's agenda");
  for (const timeline of ["/api/v1/timelines/home", "/api/v1/timelines/public"]) {
    t.notMatch((await api(b, beaToken, timeline)).text, "Atelier logement", `not in bea's ${timeline}`);
    t.notMatch((await api(a, await apiToken(a.origin, "sec"), timeline)).text, "Atelier logement", `not in A's ${timeline}`);
  }
  t.notMatch((await new WebSession(a.origin).get("/agenda.ics")).body, "Atelier logement", "not in A's public feed");
  t.equal((await new WebSession(a.origin).get("/groups/logement/agenda.ics")).status, 404, "a members-only group has no public feed");
  const beaFeedToken = new URL((await bea.post("/settings/calendar", {})).location!, b.origin).searchParams.get("token")!;
  t.notMatch((await new WebSession(b.origin).get(`/agenda/private/${beaFeedToken}.ics`)).body, "Atelier logement", "not in bea's private feed");
  // The group's feed through a member's private address (A's own member, alice, the group's owner).
  const aliceFeedToken = new URL((await alice.post("/settings/calendar", {})).location!, a.origin).searchParams.get("token")!;
  t.match((await new WebSession(a.origin).get(`/groups/logement/agenda/private/${aliceFeedToken}.ics`)).body, "Atelier logement", "the group's private feed");

  // ActivityPub: the object only for a request signed by a member.
  const ap = { accept: "application/activity+json" };
  t.equal((await new WebSession(a.origin).get(`/events/${groupEventId}`, ap)).status, 404, "unsigned fetch: 404");
  const carlSigner = await signerFor(c, "carl");
  const signedGet = async (signer: typeof carlSigner) => {
    const { signRequest } = await import("@fedify/fedify");
    const req = await signRequest(new Request(groupEventUri, { headers: { accept: "application/activity+json" } }), signer.key, signer.keyId);
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => (headers[k] = v));
    return (await fetch(groupEventUri, { headers })).status;
  };
  t.equal(await signedGet(carlSigner), 404, "signed by a non-member: 404");
  t.equal(await signedGet(await signerFor(b, "bob")), 200, "signed by a member: the Event");
});

t.test("a member on B answers the group's event; a non-member's Join is refused", async (t) => {
  const onB = localId(b, groupEventUri)!;
  t.equal((await bob.post(`/events/${onB}/rsvp`, { answer: "going" })).status, 303);
  await eventually(() => rsvpOn(a, "bob", groupEventUri) === "going", 15_000, "bob going on A");
  await eventually(() => rsvpOn(b, "bob", groupEventUri) === "going", 15_000, "accepted back on B");
  t.match((await alice.get(`/events/${groupEventId}/attendees`)).body, `@bob@${host(b)}`, "the group's moderator sees bob");
  const carlSigner = await signerFor(c, "carl");
  const join = { "@context": "https://www.w3.org/ns/activitystreams", id: `${carlSigner.actorUri}#join-group-1`, type: "Join", actor: carlSigner.actorUri, object: groupEventUri, to: [`${a.origin}/users/g_logement`] };
  t.equal((await postSigned(`${a.origin}/inbox`, join, carlSigner)).status, 202);
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(rsvpOn(a, "carl", groupEventUri), undefined, "carl's Join refused");
});

t.test("the JSON API takes the new audiences and lists a group's agenda, as documented", async (t) => {
  const { spec, validate } = await openapiValidator(a.origin);
  t.ok(spec.paths["/groups/{id}/events"], "the group agenda path is documented");
  t.same(spec.components.schemas.EventInput.properties.audience.enum, ["public", "section", "groups", "federation"]);
  const token = await apiToken(a.origin, "alice");
  const post = async (i: TestInstance, tok: string, body: unknown) => {
    const res = await fetch(`${i.origin}/api/coopol/v1/events`, { method: "POST", headers: { authorization: `Bearer ${tok}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as any };
  };
  const created = await post(a, token, { title: "Permanence logement", start: "2027-05-01T16:00:00Z", audience: "groups", groups: [String(groupIdOnA)] });
  t.equal(created.status, 200, JSON.stringify(created.json));
  t.equal(created.json.audience, "groups");
  t.same(created.json.groups, [String(groupIdOnA)], "the event names its groups");
  t.same(validate("Event", created.json), [], "Event schema");
  const asGroup = await post(a, token, { title: "Réunion du groupe", start: "2027-05-02T16:00:00Z", audience: "groups", for_group: String(groupIdOnA) });
  t.equal(asGroup.status, 200, JSON.stringify(asGroup.json));
  t.equal(asGroup.json.organiser.username, "g_logement", "organised by the group");
  const list = await api(a, token, `/api/coopol/v1/groups/${groupIdOnA}/events`);
  t.equal(list.status, 200);
  t.ok(list.json.length >= 3, "the group's events");
  for (const o of list.json) t.same(validate("Occurrence", o), [], "Occurrence schema");
  t.same((await api(a, "", `/api/coopol/v1/groups/${groupIdOnA}/events`)).json, [], "nothing for an anonymous caller");
  const secToken = await apiToken(a.origin, "sec");
  t.equal((await post(a, secToken, { title: "Pas membre", start: "2027-05-01T16:00:00Z", audience: "groups", groups: [String(groupIdOnA)] })).status, 403, "only the groups one belongs to");
  t.equal((await post(a, secToken, { title: "Sans groupe", start: "2027-05-01T16:00:00Z", audience: "groups" })).status, 422, "at least one group");
  const carlToken = await apiToken(c.origin, "carl");
  t.equal((await post(c, carlToken, { title: "Sans fédération", start: "2027-05-01T16:00:00Z", audience: "federation" })).status, 422, "no fédération, no fédération-wide event");
});

let fedEventUri = "";
let fedEventId = "";

t.test("a fédération-wide event of A reaches B through F, never C", async (t) => {
  const form = await sec.get("/events/new");
  t.match(form.body, 'value="federation"', "A has a fédération: the audience is offered");
  t.notMatch((await carl.get("/events/new")).body, 'value="federation"', "C has none");
  fedEventId = await createEvent(sec, { title: "Rencontre fédérale", organiser: "section", audience: "federation", rrule: "FREQ=WEEKLY" });
  fedEventUri = `${a.origin}/events/${fedEventId}`;
  const onF = await eventually(() => f.query<{ id: number; audience: string }>("select id, audience from events where uri = ?", fedEventUri)[0], 20_000, "the event on F");
  t.equal(onF.audience, "federation");
  const onB = await eventually(() => b.query<{ id: number; audience: string; rrule: string; timezone: string }>("select id, audience, rrule, timezone from events where uri = ?", fedEventUri)[0], 20_000, "the event on B, relayed by F");
  t.match(onB, { audience: "federation", rrule: "FREQ=WEEKLY", timezone: "Europe/Paris" }, "with its Mobilizon properties");
  t.same(b.query<{ username: string }>("select actors.username from events join actors on actors.id = events.actor_id where events.uri = ?", fedEventUri)[0], { username: "section_aud_a" }, "organised by A, not F");
  t.match((await bea.get("/agenda")).body, "Rencontre fédérale", "in B's agenda");
  t.match((await fanny.get("/agenda?audience=federation")).body, "Rencontre fédérale", "in the fédération's agenda of its sections' events");
  const monthView = (await fanny.get("/agenda?audience=federation&month=2027-04")).body;
  t.match(monthView, /href="\/agenda\?month=2027-05&#38;audience=federation"/, "the month view's next link keeps the fédération filter");
  t.notMatch((await new WebSession(b.origin).get("/agenda")).body, "Rencontre fédérale", "not for visitors of B");
  t.notMatch((await new WebSession(a.origin).get("/agenda.ics")).body, "Rencontre fédérale", "not in A's public feed");
  t.equal((await new WebSession(a.origin).get(`/events/${fedEventId}`, { accept: "application/activity+json" })).status, 404, "not fetchable unsigned");
  // An update follows the same way.
  const edit = await sec.post(`/events/${fedEventId}`, { title: "Rencontre fédérale (programme)", start: "2027-04-10T10:00", timezone: "Europe/Paris", category: "debate", join_mode: "open", audience: "federation", rrule: "FREQ=WEEKLY" });
  t.equal(edit.status, 303);
  await eventually(() => b.query<{ title: string }>("select title from events where uri = ?", fedEventUri)[0]?.title === "Rencontre fédérale (programme)", 20_000, "the update on B");
  await new Promise((r) => setTimeout(r, 500));
  t.same(c.query("select 1 from events where uri = ?", fedEventUri), [], "C never received it");
});

t.test("members of B and F answer the fédération-wide event; a member of C is refused", async (t) => {
  const onB = localId(b, fedEventUri)!;
  t.equal((await bea.post(`/events/${onB}/rsvp`, { answer: "going" })).status, 303);
  await eventually(() => rsvpOn(a, "bea", fedEventUri) === "going", 15_000, "bea going on A");
  await eventually(() => rsvpOn(b, "bea", fedEventUri) === "going", 15_000, "A's Accept back on B");
  const onF = localId(f, fedEventUri)!;
  t.equal((await fanny.post(`/events/${onF}/rsvp`, { answer: "maybe" })).status, 303);
  await eventually(() => rsvpOn(a, "fanny", fedEventUri) === "maybe", 15_000, "F's member answered on A");
  const attendees = await sec.get(`/events/${fedEventId}/attendees`);
  t.match(attendees.body, `@bea@${host(b)}`, "A's organiser sees bea from B");
  t.match(attendees.body, `@fanny@${host(f)}`, "and fanny from F");

  const carlSigner = await signerFor(c, "carl");
  const join = { "@context": "https://www.w3.org/ns/activitystreams", id: `${carlSigner.actorUri}#join-fed-1`, type: "Join", actor: carlSigner.actorUri, object: fedEventUri, to: [`${a.origin}/users/section_aud_a`] };
  t.equal((await postSigned(`${a.origin}/inbox`, join, carlSigner)).status, 202);
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(rsvpOn(a, "carl", fedEventUri), undefined, "carl (C) refused");
  t.notMatch((await sec.get(`/events/${fedEventId}/attendees`)).body, "@carl@", "not in the attendee list");
});
