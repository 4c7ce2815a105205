// Those who manage an event are told of the answers, on real instances: a
// member of B asks to attend an approval-mode meeting of section A (a remote
// Join) and A's secretary reads "demande à participer" on /notifications with
// a link to the attendee list, where she accepts; a local member's "going",
// "no longer going" and the waiting list reach a member's own event; nobody is
// told of their own answer; and the Mastodon API (v1, v2, unread_count) shows
// none of these Coopol-only notifications.
import t from "tap";
import { memberSession as session, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { apiToken } from "./helpers/oauth.ts";

let a: TestInstance, b: TestInstance;
let sec: WebSession, org: WebSession, mia: WebSession, nina: WebSession, bea: WebSession;


t.before(async () => {
  [a, b] = await Promise.all([startInstance("agnotif-a"), startInstance("agnotif-b")]);
  a.addMember("sec", "secretary");
  for (const name of ["org", "mia", "nina"]) a.addMember(name);
  b.addMember("bea");
  sec = await session(a, "sec");
  org = await session(a, "org");
  mia = await session(a, "mia");
  nina = await session(a, "nina");
  bea = await session(b, "bea");
  t.equal((await bea.post("/follow", { target: `${a.origin}/users/section_agnotif_a` })).status, 303);
  await eventually(() => a.query("select 1 from follows where accepted_at is not null").length === 1, 15_000, "B follows A");
});
t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

const form = (extra: Record<string, string>) => ({
  title: "Réunion",
  start: "2027-06-01T18:30",
  end: "2027-06-01T20:30",
  timezone: "Europe/Paris",
  category: "section_meeting",
  description: "",
  agenda: "",
  place_name: "Salle des fêtes",
  locality: "Lyon",
  capacity: "",
  join_mode: "open",
  audience: "public",
  ...extra,
});

async function createEvent(s: WebSession, fields: Record<string, string>): Promise<string> {
  const res = await s.post("/events", fields);
  if (res.status !== 303) throw new Error(`event not created: ${res.status} ${res.body.slice(0, 500)}`);
  return /\/events\/(\d+)/.exec(res.location!)![1]!;
}

const items = (body: string) =>
  [...(/<ol class="notifications">([\s\S]*?)<\/ol>/.exec(body)?.[1] ?? "").matchAll(/<li[^>]*>([\s\S]*?)<\/li>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim());
const actorId = (instance: TestInstance, username: string, local = true) => instance.query<{ id: number }>("select id from actors where username = ? and local = ?", username, local ? 1 : 0)[0]!.id;
const notificationsOf = (instance: TestInstance, username: string) =>
  instance.query<{ type: string; from: string; event_id: number | null }>(
    "select notifications.type, actors.username as \"from\", notifications.event_id from notifications join users on users.id = notifications.user_id join actors on actors.id = notifications.from_actor_id where users.username = ? order by notifications.id",
    username,
  );
const rsvpOn = (instance: TestInstance, username: string, eventUri: string) =>
  instance.query<{ status: string }>("select rsvps.status from rsvps join actors on actors.id = rsvps.actor_id join events on events.id = rsvps.event_id where actors.username = ? and events.uri = ?", username, eventUri)[0]?.status;

t.test("a request from B in approval mode: the secretary is told, with the attendee list to answer it", async (t) => {
  const id = await createEvent(sec, form({ title: "Bureau élargi", join_mode: "approval", for_section: "1" }));
  const uri = `${a.origin}/events/${id}`;
  const onB = await eventually(() => b.query<{ id: number }>("select id from events where uri = ?", uri)[0], 15_000, "the event on B");
  t.equal((await bea.post(`/events/${onB.id}/rsvp`, { answer: "going" })).status, 303);
  await eventually(() => rsvpOn(a, "bea", uri) === "pending", 15_000, "bea's request on A");
  const told = await eventually(() => notificationsOf(a, "sec").find((n) => n.from === "bea"), 15_000, "the secretary notified");
  t.match(told, { type: "coopol.rsvp.pending", event_id: Number(id) });

  const page = await sec.get("/notifications");
  t.match(items(page.body)[0], /^nouveau bea @bea@127\.0\.0\.1:\d+ demande à participer à « Bureau élargi » Accepter ou refuser sur la liste des participant·es/);
  t.match(page.body, `<a href="/events/${id}/attendees">Accepter ou refuser sur la liste des participant·es</a>`);
  const english = await sec.get("/notifications", { "accept-language": "en" });
  t.match(items(english.body)[0], /asks to attend “ Bureau élargi ” Accept or refuse on the attendee list/);

  const list = await sec.get(`/events/${id}/attendees`);
  const beaId = actorId(a, "bea", false);
  t.match(list.body, `action="/events/${id}/attendees/${beaId}/accept"`);
  t.equal((await sec.post(`/events/${id}/attendees/${beaId}/accept`, {})).status, 303);
  t.equal(rsvpOn(a, "bea", uri), "going");
  await eventually(() => rsvpOn(b, "bea", uri) === "going", 15_000, "the Accept back on B");
  t.match(items((await sec.get("/notifications")).body)[0], /a demandé à participer à « Bureau élargi » Voir la liste des participant·es/, "answered: said in the past");

  t.same(notificationsOf(b, "bea"), [], "bea is told nothing of her own answer");
  t.same(notificationsOf(a, "org"), [], "a member who does not manage it is told nothing");
});

t.test("a member's own event: going, the waiting list, no longer going; never one's own answer", async (t) => {
  const id = await createEvent(org, form({ title: "Porte-à-porte", category: "action", capacity: "1" }));
  t.equal((await org.post(`/events/${id}/rsvp`, { answer: "going" })).status, 303, "the organiser answers her own event");
  t.same(notificationsOf(a, "org"), [], "not told of her own answer");
  // Her own answer took the one seat: make room.
  t.equal((await org.post(`/events/${id}/rsvp`, { answer: "not_going" })).status, 303);

  t.equal((await mia.post(`/events/${id}/rsvp`, { answer: "going" })).status, 303);
  t.same(notificationsOf(a, "org"), [{ type: "coopol.rsvp.going", from: "mia", event_id: Number(id) }]);
  t.same(notificationsOf(a, "mia"), [], "mia is not told of her own answer");
  t.notOk(notificationsOf(a, "sec").some((n) => n.event_id === Number(id)), "a member's own event: the secretary is not told");
  t.match(items((await org.get("/notifications")).body)[0], /^nouveau mia @mia vient à « Porte-à-porte » Voir la liste des participant·es/);

  t.equal((await nina.post(`/events/${id}/rsvp`, { answer: "going" })).status, 303);
  t.match(notificationsOf(a, "org").at(-1), { type: "coopol.rsvp.waiting", from: "nina" });
  t.match(items((await org.get("/notifications")).body)[0], /nina @nina est sur liste d&#39;attente pour « Porte-à-porte »/);

  // mia withdraws: org is told, and nina gets the seat.
  t.equal((await mia.post(`/events/${id}/rsvp`, { answer: "not_going" })).status, 303);
  const now = notificationsOf(a, "org");
  t.equal(now.length, 2, "one notification per person and event: the newest answer replaces the last");
  t.match(now.find((n) => n.from === "mia"), { type: "coopol.rsvp.not_going" });
  t.match(now.find((n) => n.from === "nina"), { type: "coopol.rsvp.going" }, "promoted from the waiting list");
  const list = items((await org.get("/notifications")).body);
  t.ok(list.some((item) => /mia @mia ne vient plus à « Porte-à-porte »/.test(item)));
  t.ok(list.some((item) => /nina @nina vient à « Porte-à-porte »/.test(item)));
});

t.test("the Mastodon API shows none of them", async (t) => {
  for (const username of ["sec", "org"]) {
    t.ok(notificationsOf(a, username).some((n) => n.type.startsWith("coopol.rsvp.")), `${username} has some in the database`);
    const token = await apiToken(a.origin, username);
    const api = async (path: string) => (await fetch(`${a.origin}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<unknown>;
    t.same(await api("/api/v1/notifications"), [], `${username}: none in v1`);
    t.same(await api("/api/v1/notifications?types[]=coopol.rsvp.going"), [], "not even when asked by type");
    t.same(((await api("/api/v2/notifications")) as { notification_groups: unknown[] }).notification_groups, [], "none in v2");
    t.same(await api("/api/v1/notifications/unread_count"), { count: 0 }, "none counted");
    const id = a.query<{ id: number }>("select notifications.id from notifications join users on users.id = notifications.user_id where users.username = ?", username)[0]!.id;
    const one = await fetch(`${a.origin}/api/v1/notifications/${id}`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(one.status, 404, "nor by id");
  }
});
