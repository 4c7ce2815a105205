// Events, RSVPs and agendas across real instances: an event of section A
// reaches B, members of B answer it from B, the waiting list moves across
// servers, updates and cancellations follow; the .ics feeds are read back by
// an independent parser (ical.js); a Mobilizon-shaped Event and Join are accepted.
import t from "tap";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { eq } from "drizzle-orm";
import ICAL from "ical.js";
import { join } from "node:path";
import { occurrencesOf, wallClock } from "../src/agenda/events.ts";
import * as schema from "../src/storage/schema.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { postSigned, signerFor } from "./helpers/signing.ts";

let a: TestInstance, b: TestInstance, c: TestInstance;
let sec: WebSession, bea: WebSession, ben: WebSession, sam: WebSession;

t.before(async () => {
  [a, b, c] = await Promise.all([startInstance("agenda-a"), startInstance("agenda-b"), startInstance("agenda-c")]);
  a.addMember("sec", "secretary");
  a.addMember("sam", "sympathisant");
  a.addMember("mia");
  b.addMember("bea");
  b.addMember("ben");
  c.addMember("mobi");
  sec = new WebSession(a.origin);
  await sec.login("sec", PASSWORD);
  sam = new WebSession(a.origin);
  await sam.login("sam", PASSWORD);
  bea = new WebSession(b.origin);
  await bea.login("bea", PASSWORD);
  ben = new WebSession(b.origin);
  await ben.login("ben", PASSWORD);
  // B's members follow section A, as a neighbouring section would.
  for (const s of [bea, ben]) t.equal((await s.post("/follow", { target: `${a.origin}/users/section_agenda_a` })).status, 303);
  await eventually(() => a.query("select 1 from follows where accepted_at is not null").length === 2, 15_000, "B follows A");
});
t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
});

const form = (extra: Record<string, string> = {}) => ({
  title: "Réunion de section",
  start: "2027-03-02T18:30",
  end: "2027-03-02T20:30",
  timezone: "Europe/Paris",
  category: "section_meeting",
  description: "Préparation des municipales.",
  agenda: "Accueil\nMunicipales\nQuestions diverses",
  place_name: "Salle Jean-Jaurès",
  street: "12 rue de la République",
  postal_code: "75011",
  locality: "Paris",
  capacity: "1",
  join_mode: "open",
  audience: "public",
  for_section: "1",
  ...extra,
});

async function createEvent(session: WebSession, fields: Record<string, string>): Promise<string> {
  const res = await session.post("/events", fields);
  if (res.status !== 303) throw new Error(`event not created: ${res.status} ${res.body.slice(0, 500)}`);
  return /\/events\/(\d+)/.exec(res.location!)![1]!;
}

const eventOnB = (uri: string) => b.query<{ id: number; title: string; capacity: number; status: string; category: string; locality: string; sequence: number }>("select * from events where uri = ?", uri)[0];
const rsvpOn = (instance: TestInstance, username: string, eventUri: string) =>
  instance.query<{ status: string }>(
    "select rsvps.status from rsvps join actors on actors.id = rsvps.actor_id join events on events.id = rsvps.event_id where actors.username = ? and events.uri = ?",
    username,
    eventUri,
  )[0]?.status;

let eventId = "";
let eventUri = "";

t.test("a public event of section A reaches its followers on B", async (t) => {
  eventId = await createEvent(sec, form());
  eventUri = `${a.origin}/events/${eventId}`;
  const page = await sec.get(`/events/${eventId}`);
  t.match(page.body, "Réunion de section");
  t.match(page.body, "Questions diverses", "the agenda (ordre du jour) is shown");
  t.match(page.body, "openstreetmap.org", "with a map link");
  const onB = await eventually(() => eventOnB(eventUri), 15_000, "the event on B");
  t.match(onB, { title: "Réunion de section", capacity: 1, category: "section_meeting", locality: "Paris", status: "confirmed" });
  const json = JSON.parse((await new WebSession(a.origin).get(`/events/${eventId}`, { accept: "application/activity+json" })).body);
  t.match(json, { type: "Event", joinMode: "free", maximumAttendeeCapacity: 1, "ical:status": "CONFIRMED", timezone: "Europe/Paris", location: { type: "Place", address: { type: "PostalAddress", addressLocality: "Paris" } } }, "shaped as Mobilizon publishes events");
  const agendaB = await bea.get("/agenda");
  t.match(agendaB.body, "Réunion de section", "B's agenda lists it");
  // Mastodon apps on A see it as a post with the date, place and link; it is not federated as a Note.
  const shown = a.query<{ content: string; visibility: string }>("select content, visibility from posts where event_id = ?", Number(eventId))[0];
  t.match(shown, { visibility: "public", content: /📅 Réunion de section.*mardi 2 mars 2027.*Salle Jean-Jaurès/s });
  t.match(shown!.content, `/events/${eventId}`);
  t.same(b.query("select id from posts where content like '%📅%'"), [], "only the Event travels");
});

t.test("members of B answer from B; capacity and the waiting list work across instances", async (t) => {
  const local = String(eventOnB(eventUri)!.id);
  t.equal((await bea.post(`/events/${local}/rsvp`, { answer: "going" })).status, 303);
  await eventually(() => rsvpOn(a, "bea", eventUri) === "going", 15_000, "bea going on A");
  await eventually(() => rsvpOn(b, "bea", eventUri) === "going", 15_000, "A's Accept back on B");
  const full = await sec.get(`/events/${eventId}`);
  t.match(full.body, "1 personne(s) inscrite(s)");
  t.match(full.body, "0 place(s) restante(s)");

  t.equal((await ben.post(`/events/${local}/rsvp`, { answer: "going" })).status, 303);
  await eventually(() => rsvpOn(a, "ben", eventUri) === "waiting", 15_000, "ben on A's waiting list");
  t.equal(rsvpOn(b, "ben", eventUri), "pending", "ben waits on B for the organiser's answer");

  t.equal((await bea.post(`/events/${local}/rsvp`, { answer: "not_going" })).status, 303);
  await eventually(() => rsvpOn(a, "ben", eventUri) === "going", 15_000, "ben promoted on A");
  await eventually(() => rsvpOn(b, "ben", eventUri) === "going", 15_000, "ben told on B");
  t.equal(rsvpOn(a, "bea", eventUri), "not_going");

  const attendees = await sec.get(`/events/${eventId}/attendees`);
  t.match(attendees.body, `@ben@${new URL(b.origin).host}`, "the organiser sees who comes from B");
  t.match(attendees.body, "<td>Vient</td>", "the list speaks of each attendee…");
  t.notMatch(attendees.body, "Vous êtes inscrit", "…not of « vous »");
  const csv = await sec.get(`/events/${eventId}/attendees.csv`);
  t.match(csv.body, /ben@127\.0\.0\.1:\d+;going/);
});

t.test("updates and cancellation reach B; the .ics keeps its UID and bumps SEQUENCE", async (t) => {
  const before = ICAL.Component.fromString((await sec.get(`/events/${eventId}.ics`)).body).getFirstSubcomponent("vevent")!;
  t.equal(before.getFirstPropertyValue("summary"), "Réunion de section");
  const start = before.getFirstProperty("dtstart")!;
  t.equal(start.getParameter("tzid"), "Europe/Paris");
  t.equal(String(start.getFirstValue()), "2027-03-02T18:30:00", "18:30 on the Paris wall clock");

  t.equal((await sec.post(`/events/${eventId}`, form({ title: "Réunion de section (salle changée)", place_name: "Maison des associations", for_section: "" }))).status, 303);
  await eventually(() => eventOnB(eventUri)?.title === "Réunion de section (salle changée)", 15_000, "the update on B");
  const after = ICAL.Component.fromString((await sec.get(`/events/${eventId}.ics`)).body).getFirstSubcomponent("vevent")!;
  t.equal(after.getFirstPropertyValue("uid"), before.getFirstPropertyValue("uid"), "stable UID");
  t.ok(Number(after.getFirstPropertyValue("sequence")) > Number(before.getFirstPropertyValue("sequence")), "SEQUENCE bumped");

  t.equal((await sec.post(`/events/${eventId}/cancel`, {})).status, 303);
  await eventually(() => eventOnB(eventUri)?.status === "cancelled", 15_000, "the cancellation on B");
  t.match(a.query<{ content: string }>("select content from posts where event_id = ?", Number(eventId))[0]!.content, "ANNULÉ", "the post follows the event");
  const cancelled = ICAL.Component.fromString((await sec.get(`/events/${eventId}.ics`)).body).getFirstSubcomponent("vevent")!;
  t.equal(cancelled.getFirstPropertyValue("status"), "CANCELLED");
});

t.test("a section-only event never leaves A, nor reaches sympathisants or visitors", async (t) => {
  const id = await createEvent(sec, form({ title: "Bureau de section (interne)", audience: "section", capacity: "" }));
  const follow = await createEvent(sec, form({ title: "Marché du dimanche", capacity: "", category: "action" }));
  await eventually(() => eventOnB(`${a.origin}/events/${follow}`), 15_000, "the public event sent after it");
  t.same(b.query("select id from events where title like 'Bureau%'"), [], "B never received it");
  t.equal((await new WebSession(a.origin).get(`/events/${id}`, { accept: "application/activity+json" })).status, 404);
  t.equal((await new WebSession(a.origin).get(`/events/${id}`)).status, 404, "visitors get nothing");
  t.equal((await sam.get(`/events/${id}`)).status, 404, "nor do sympathisants");
  t.notMatch((await new WebSession(a.origin).get("/agenda.ics")).body, "Bureau de section", "not in the public feed");
  // The member's private feed has it.
  const made = await sec.post("/settings/calendar", {});
  const token = new URL(made.location!, a.origin).searchParams.get("token")!;
  const feed = await new WebSession(a.origin).get(`/agenda/private/${token}.ics`);
  t.match(feed.body, "Bureau de section (interne)");
  await sec.post("/settings/calendar/revoke", {});
  t.equal((await new WebSession(a.origin).get(`/agenda/private/${token}.ics`)).status, 404, "a revoked feed stops working");
});

t.test("recurring meetings: the first Tuesday of every month, expanded alike by Coopol and ical.js", async (t) => {
  const id = await createEvent(sec, form({ title: "Réunion mensuelle", rrule: "FREQ=MONTHLY;BYDAY=1TU", start: "2027-01-05T18:30", end: "2027-01-05T20:00", capacity: "" }));
  const vevent = ICAL.Component.fromString((await sec.get(`/events/${id}.ics`)).body).getFirstSubcomponent("vevent")!;
  t.equal(String(vevent.getFirstPropertyValue("rrule")), "FREQ=MONTHLY;BYDAY=1TU");
  const icalEvent = new ICAL.Event(vevent);
  const iterator = icalEvent.iterator();
  const expected: number[] = [];
  for (let next = iterator.next(); next && expected.length < 8; next = iterator.next()) expected.push(next.toJSDate().getTime());

  const db = drizzle(new Database(join(a.dataDir, "coopol.sqlite"), { readonly: true }), { schema });
  const row = db.select().from(schema.events).where(eq(schema.events.id, Number(id))).get()!;
  const ours = occurrencesOf(row, Date.UTC(2027, 0, 1), Date.UTC(2027, 7, 31)).map((o) => o.start);
  t.same(ours, expected, "same instants, across the change to summer time");
  for (const start of ours) {
    const parts = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", weekday: "long", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(start);
    t.match(parts, /^mardi [1-7],? (à )?18:30$/, parts);
  }
  const month = await sec.get("/agenda?month=2027-04");
  t.match(month.body, "Réunion mensuelle", "the month view shows the April occurrence");

  // Cancelling one date (an exception) removes it everywhere, the others stay.
  t.equal((await sec.post(`/events/${id}/skip`, { start: String(ours[3]) })).status, 303);
  const after = ICAL.Component.fromString((await sec.get(`/events/${id}.ics`)).body).getFirstSubcomponent("vevent")!;
  t.ok(after.getFirstProperty("exdate"), "EXDATE in the feed");
  const iter = new ICAL.Event(after).iterator();
  const remaining: number[] = [];
  for (let next = iter.next(); next && remaining.length < 7; next = iter.next()) {
    const at = next.toJSDate().getTime();
    // ical.js leaves EXDATE filtering to RecurExpansion; the series minus the exception is what we compare.
    if (!after.getAllProperties("exdate").some((p) => p.getValues().some((v) => (v as ICAL.Time).toJSDate().getTime() === at))) remaining.push(at);
  }
  const row2 = db.select().from(schema.events).where(eq(schema.events.id, Number(id))).get()!;
  t.same(occurrencesOf(row2, Date.UTC(2027, 0, 1), Date.UTC(2027, 7, 31)).map((o) => o.start), remaining.filter((x) => x < Date.UTC(2027, 7, 31)));
  t.notOk(occurrencesOf(row2, ours[3]!, ours[3]!).length, "the cancelled date is gone");
});

t.test("a Mobilizon-shaped Event and Join are accepted", async (t) => {
  const mobi = await signerFor(c, "mobi");
  // As Mobilizon sends it (its JSON-LD terms, PostalAddress, joinMode, ical:status…). Mobilizon
  // also lists litepub's context URL, which this offline test machine cannot fetch: left out.
  const event = {
    "@context": [
      "https://www.w3.org/ns/activitystreams",
      { sc: "http://schema.org#", mz: "https://joinmobilizon.org/ns#", ical: "http://www.w3.org/2002/12/cal/ical#", joinMode: { "@id": "mz:joinMode", "@type": "mz:joinModeType" }, maximumAttendeeCapacity: "sc:maximumAttendeeCapacity", remainingAttendeeCapacity: "sc:remainingAttendeeCapacity", participantCount: { "@id": "mz:participantCount", "@type": "sc:Number" }, timezone: { "@id": "mz:timezone", "@type": "sc:Text" }, isOnline: { "@id": "mz:isOnline", "@type": "sc:Boolean" }, address: { "@id": "sc:address", "@type": "sc:PostalAddress" }, PostalAddress: "sc:PostalAddress", streetAddress: "sc:streetAddress", postalCode: "sc:postalCode", addressLocality: "sc:addressLocality", addressCountry: "sc:addressCountry", category: "sc:category" },
    ],
    id: `${c.origin}/events/mobilizon-activity-1`,
    type: "Create",
    actor: mobi.actorUri,
    to: ["https://www.w3.org/ns/activitystreams#Public"],
    cc: [`${mobi.actorUri}/followers`],
    object: {
      id: `${c.origin}/events/6a0e5d3c-mobilizon`,
      type: "Event",
      uuid: "6a0e5d3c-mobilizon",
      name: "Atelier vélo solidaire",
      content: "<p>Réparons nos vélos ensemble.</p>",
      mediaType: "text/html",
      attributedTo: mobi.actorUri,
      startTime: "2027-05-15T08:00:00Z",
      endTime: "2027-05-15T11:00:00Z",
      timezone: "Europe/Paris",
      joinMode: "restricted",
      maximumAttendeeCapacity: 12,
      remainingAttendeeCapacity: 12,
      participantCount: 0,
      "ical:status": "TENTATIVE",
      category: "OUTDOORS_ADVENTURE",
      isOnline: false,
      anonymousParticipationEnabled: false,
      commentsEnabled: true,
      draft: false,
      location: { type: "Place", name: "Local associatif", address: { type: "PostalAddress", streetAddress: "3 place du Marché", postalCode: "13001", addressLocality: "Marseille", addressCountry: "France" }, latitude: 43.2965, longitude: 5.3698 },
      to: ["https://www.w3.org/ns/activitystreams#Public"],
      cc: [],
      url: `${c.origin}/events/6a0e5d3c-mobilizon`,
    },
  };
  const res = await postSigned(`${a.origin}/inbox`, event, mobi);
  t.equal(res.status, 202);
  const stored = await eventually(() => a.query<{ id: number; title: string; status: string; join_mode: string; capacity: number; locality: string; latitude: number }>("select * from events where uri = ?", event.object.id)[0], 15_000, "the Mobilizon event on A");
  t.match(stored, { title: "Atelier vélo solidaire", status: "tentative", join_mode: "approval", capacity: 12, locality: "Marseille", latitude: 43.2965 });
  const page = await sec.get(`/events/${stored.id}`);
  t.match(page.body, "Atelier vélo solidaire");
  t.match(page.body, "3 place du Marché");

  // And a Mobilizon member joins one of A's events.
  const open = await createEvent(sec, form({ title: "Porte-à-porte quartier Nord", capacity: "", category: "action" }));
  const joinActivity = {
    "@context": ["https://www.w3.org/ns/activitystreams", { mz: "https://joinmobilizon.org/ns#", participationMessage: { "@id": "mz:participationMessage", "@type": "sc:Text" } }],
    id: `${c.origin}/join/abc-123`,
    type: "Join",
    actor: mobi.actorUri,
    object: `${a.origin}/events/${open}`,
    participationMessage: "Je viendrai avec deux voisins.",
    to: [`${a.origin}/users/section_agenda_a`],
  };
  t.equal((await postSigned(`${a.origin}/inbox`, joinActivity, mobi)).status, 202);
  await eventually(() => rsvpOn(a, "mobi", `${a.origin}/events/${open}`) === "going", 15_000, "the Join recorded on A");
});

t.test("the day before, those who come get a reminder (in-app notification)", async (t) => {
  const soon = wallClock(Date.now() + 3 * 3_600_000, "Europe/Paris");
  const start = `${soon.slice(0, 4)}-${soon.slice(4, 6)}-${soon.slice(6, 8)}T${soon.slice(9, 11)}:${soon.slice(11, 13)}`;
  const id = await createEvent(sec, form({ title: "Collage ce soir", start, end: "", capacity: "", category: "action" }));
  const mia = new WebSession(a.origin);
  await mia.login("mia", PASSWORD);
  t.equal((await mia.post(`/events/${id}/rsvp`, { answer: "going" })).status, 303);
  // Reminders run at start and every 15 minutes: a restart runs them now.
  await a.stop();
  await a.start();
  const reminder = await eventually(
    () => a.query<{ type: string }>("select notifications.type from notifications join users on users.id = notifications.user_id join posts on posts.id = notifications.post_id where users.username = 'mia' and posts.event_id = ?", Number(id))[0],
    15_000,
    "mia's reminder",
  );
  t.equal(reminder.type, "status");
  await a.stop();
  await a.start();
  t.equal(a.query("select 1 from notifications join users on users.id = notifications.user_id where users.username = 'mia'").length, 1, "only once");
});
