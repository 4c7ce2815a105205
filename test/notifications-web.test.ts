// The notifications page (/notifications) for members who use only the web,
// against a real instance: a member mentions, likes, boosts and follows
// another; the page says so in French (English with Accept-Language: en),
// with links to the posts; the navigation counts the unread ones, and
// viewing the page marks them read for the Mastodon apps too (the
// "notifications" marker); follow requests are answered from the page;
// older ones are on further pages; "dismiss all" empties it; a report links
// to the moderation queue, an event reminder to the event (its organiser is
// told who comes, on the page only, never in the Mastodon API); visitors are sent
// to the login page; and the page passes the accessibility check in Chromium.
import t from "tap";
import type { Browser } from "playwright-core";
import { wallClock } from "../src/agenda/events.ts";
import { PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { apiToken } from "./helpers/oauth.ts";
import { accessibilityProblems, launchChromium } from "./helpers/chromium.ts";

let instance: TestInstance;
let browser: Browser | undefined;
let alice: WebSession, bruno: WebSession;

t.before(async () => {
  instance = await startInstance("notifweb");
  for (const name of ["alice", "bruno", "carla"]) instance.addMember(name);
  alice = await session("alice");
  bruno = await session("bruno");
  await setName(alice, "Alice Adhérente");
  await setName(bruno, "Bruno Militant");
});

t.teardown(async () => {
  await browser?.close();
  await instance?.stop();
});

async function session(username: string): Promise<WebSession> {
  const s = new WebSession(instance.origin);
  await s.login(username, PASSWORD);
  return s;
}

async function setName(s: WebSession, name: string, locked = false): Promise<void> {
  const res = await s.post("/settings", { display_name: name, bio: "", ...(locked ? { locked: "1" } : {}) });
  if (res.status !== 303) throw new Error(`settings: ${res.status} ${res.body.slice(0, 300)}`);
}

const postId = (needle: string) => instance.query<{ id: number }>("select id from posts where content like ? and reblog_of_id is null", `%${needle}%`)[0]!.id;
const actorId = (username: string) => instance.query<{ id: number }>("select id from actors where username = ? and local = 1", username)[0]!.id;
/** The navigation's link to the page, as its text reads. */
const navLink = (body: string) => /<a href="\/notifications">([^<]*)<\/a>/.exec(body)?.[1];
/** The notifications listed on a page, in order: each item's text without markup. */
const items = (body: string) =>
  [...(/<ol class="notifications">([\s\S]*?)<\/ol>/.exec(body)?.[1] ?? "").matchAll(/<li[^>]*>([\s\S]*?)<\/li>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").trim());

t.test("a mention, a like and a follow, in French and in English", async (t) => {
  await bruno.publish("Premier message de Bruno sur le marché");
  const brunoPost = postId("Premier message de Bruno");
  await alice.publish("Bonjour @bruno, tu viens samedi au marché ?");
  const mention = postId("tu viens samedi");
  t.equal((await alice.post(`/posts/${brunoPost}/like`, {})).status, 303);
  t.equal((await alice.post("/@bruno/follow", {})).status, 303);

  let home = await bruno.get("/");
  t.equal(navLink(home.body), "Notifications (3)", "the navigation counts the three");

  const page = await bruno.get("/notifications");
  t.equal(page.status, 200);
  t.match(page.body, '<html lang="fr">');
  t.match(page.body, "<h1>Notifications</h1>");
  const list = items(page.body);
  t.equal(list.length, 3);
  t.match(list[0], /nouveau Alice Adhérente @alice vous suit/, "newest first: the follow");
  t.match(list[1], /Alice Adhérente @alice a aimé votre message Premier message de Bruno sur le marché Voir le message/);
  t.match(list[2], /Alice Adhérente @alice vous a mentionné·e Bonjour @bruno, tu viens samedi au marché \? Voir le message/);
  t.match(page.body, `<a href="/@alice/${mention}">Voir le message</a>`, "a link to the mention");
  t.match(page.body, `<a href="/@bruno/${brunoPost}">Voir le message</a>`, "a link to the liked post");
  t.match(page.body, '<a href="/@alice">Alice Adhérente</a>', "a link to who did it");
  t.match(page.body, /<time datetime="[^"]+" title="[^"]+">(à l’instant|maintenant|il y a \d+ \w+)<\/time>/, "a relative date");
  t.equal(navLink(page.body), "Notifications", "seen: the count is cleared on the page itself");

  home = await bruno.get("/");
  t.equal(navLink(home.body), "Notifications", "and on the next pages");

  // The apps see them read too: the marker moved to the newest one.
  const token = await apiToken(instance.origin, "bruno");
  const api = async (path: string) => (await fetch(`${instance.origin}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<Record<string, unknown>>;
  t.same(await api("/api/v1/notifications/unread_count"), { count: 0 });
  const newest = instance.query<{ id: number }>("select notifications.id from notifications join users on users.id = notifications.user_id where users.username = 'bruno' order by notifications.id desc limit 1")[0]!.id;
  t.equal(((await api("/api/v1/markers?timeline[]=notifications")).notifications as { last_read_id: string }).last_read_id, String(newest));

  // An app moving the marker back (POST /api/v1/markers) makes them unread on the web too.
  const moved = await fetch(`${instance.origin}/api/v1/markers`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ notifications: { last_read_id: "0" } }),
  });
  const marker = ((await moved.json()) as { notifications: { last_read_id: string; version: number } }).notifications;
  t.equal(marker.last_read_id, "0", "the app's marker is stored");
  t.ok(marker.version >= 1, "with a version");
  t.equal(navLink((await bruno.get("/")).body), "Notifications (3)", "the web counts from the app's marker");

  const english = await bruno.get("/notifications", { "accept-language": "en-GB,en;q=0.9" });
  t.match(english.body, '<html lang="en">');
  const en = items(english.body);
  t.match(en[0], /Alice Adhérente @alice follows you/);
  t.match(en[1], /Alice Adhérente @alice liked your message Premier message de Bruno sur le marché See the message/);
  t.match(en[2], /Alice Adhérente @alice mentioned you Bonjour @bruno/);
  t.notMatch(english.body, "nouveau", "read ones are no longer new");
  t.match(english.body, "Dismiss all notifications");

  // A new one after that: counted alone, in the page and for the apps.
  t.equal((await alice.post(`/posts/${brunoPost}/boost`, {})).status, 303);
  t.equal(navLink((await bruno.get("/")).body), "Notifications (1)");
  t.same(await api("/api/v1/notifications/unread_count"), { count: 1 });
  const again = items((await bruno.get("/notifications")).body);
  t.match(again[0], /^nouveau Alice Adhérente @alice a partagé votre message Premier message de Bruno/);
  t.notMatch(again[1], /^nouveau/);
  t.same(await api("/api/v1/notifications/unread_count"), { count: 0 });
});

t.test("a follow request is answered from the page", async (t) => {
  await setName(bruno, "Bruno Militant", true);
  const carla = await session("carla");
  await setName(carla, "Carla Camarade");
  t.equal((await carla.post("/@bruno/follow", {})).status, 303);
  const page = await bruno.get("/notifications");
  t.match(items(page.body)[0], /^nouveau Carla Camarade @carla demande à vous suivre/);
  t.match(page.body, `action="/follow-requests/${actorId("carla")}/accept"`);
  t.match(page.body, 'aria-label="Accepter la demande de Carla Camarade">Accepter</button>');
  t.match(page.body, 'aria-label="Refuser la demande de Carla Camarade">Refuser</button>');
  const answer = await bruno.post(`/follow-requests/${actorId("carla")}/accept`, { back: "/notifications" });
  t.equal(answer.status, 303);
  t.equal(answer.location, "/notifications", "back to the page");
  t.match(items((await bruno.get("/notifications")).body)[0], /^Carla Camarade @carla vous suit/, "accepted: she follows now");
  t.equal(instance.query("select 1 from follows where follower_id = ? and following_id = ? and accepted_at is not null", actorId("carla"), actorId("bruno")).length, 1);
  t.equal((await bruno.post(`/follow-requests/${actorId("carla")}/reject`, { back: "//evil.example" })).status, 404, "nothing left to answer");
  await setName(bruno, "Bruno Militant");
});

t.test("older notifications are on further pages", async (t) => {
  for (let i = 1; i <= 20; i++) await bruno.publish(`Message numéro ${i} de Bruno`);
  for (let i = 1; i <= 20; i++) t.equal((await alice.post(`/posts/${postId(`Message numéro ${i} de Bruno`)}/like`, {})).status, 303);
  const first = await bruno.get("/notifications");
  t.equal(items(first.body).length, 20);
  t.match(items(first.body)[0], /a aimé votre message Message numéro 20 de Bruno/);
  const older = /<a href="(\/notifications\?max_id=\d+)" rel="next">Notifications plus anciennes<\/a>/.exec(first.body)?.[1];
  t.ok(older, "a link to older ones");
  const second = await bruno.get(older!);
  t.match(second.body, "<h1>Notifications plus anciennes</h1>");
  const rest = items(second.body);
  t.equal(rest.length, 5, "25 in all: the boost, the follow request, the follow, the like and the mention");
  t.match(rest.at(-1), /vous a mentionné·e/, "the oldest last");
  t.match(second.body, '<a href="/notifications">Revenir aux plus récentes</a>');
  t.notMatch(second.body, 'rel="next"', "no page after the last");
});

t.test("the page passes the accessibility check in Chromium", async (t) => {
  browser = await launchChromium();
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto(`${instance.origin}/login`);
  await page.getByLabel("Nom d'utilisateur").fill("bruno");
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForLoadState();
  await page.getByRole("link", { name: "Notifications" }).click();
  await page.waitForURL(`${instance.origin}/notifications`);
  t.same(await accessibilityProblems(page), [], "the notifications page");
  t.equal(await page.locator("ol.notifications > li").count(), 20, "an ordered list of the notifications");
  await page.getByRole("link", { name: "Notifications plus anciennes" }).click();
  await page.waitForLoadState();
  t.same(await accessibilityProblems(page), [], "an older page");
  // Dismiss one, then all, with the page's own forms (and their CSRF field).
  const count = () => instance.query("select 1 from notifications join users on users.id = notifications.user_id where users.username = 'bruno'").length;
  const before = count();
  const dismissed = await page.locator("ol.notifications > li").first().getAttribute("id");
  await page.locator("ol.notifications > li").first().getByRole("button", { name: /^Effacer la notification du / }).click();
  await page.waitForURL(/notice=dismissed/);
  t.match(await page.locator("[role=status]").textContent(), "La notification a été effacée.");
  t.equal(count(), before - 1, "that one only is gone");
  t.equal(await page.locator(`#${dismissed}`).count(), 0, "and no longer listed");
  await page.getByRole("button", { name: "Effacer toutes les notifications" }).click();
  await page.waitForURL(/notice=cleared/);
  t.match(await page.locator("[role=status]").textContent(), "Toutes vos notifications ont été effacées.");
  t.match(await page.locator("main").textContent(), "Aucune notification.");
  t.same(await accessibilityProblems(page), [], "the empty page");
  await context.close();
  t.equal(instance.query("select 1 from notifications join users on users.id = notifications.user_id where users.username = 'bruno'").length, 0);
});

t.test("dismissing needs the form's CSRF field; visitors are sent to log in", async (t) => {
  t.equal((await bruno.post("/notifications/clear", {}, { csrf: false })).status, 403);
  t.equal((await bruno.post("/notifications/1/dismiss", {}, { csrf: false })).status, 403);
  const visitor = new WebSession(instance.origin);
  const res = await visitor.get("/notifications");
  t.equal(res.status, 302);
  t.equal(res.location, "/login?next=%2Fnotifications");
  t.equal((await visitor.post("/notifications/clear", {})).status, 401);
});

t.test("a report points to the moderation queue, a reminder to the event", async (t) => {
  instance.addMember("mona", "moderator");
  const mona = await session("mona");
  const reported = postId("Message numéro 7 de Bruno");
  t.equal((await alice.post(`/moderation/flag/${reported}`, { comment: "Hors sujet", back: "/" })).status, 303);
  const queue = await mona.get("/notifications");
  t.match(items(queue.body)[0], /^nouveau Alice Adhérente @alice a signalé un message de Bruno Militant : un signalement à traiter Message numéro 7 de Bruno/);
  t.match(queue.body, '<a href="/moderation">Ouvrir la file de modération de l&#39;instance</a>');
  t.equal((await mona.get("/moderation")).status, 200, "the queue opens for her");

  const w = wallClock(Date.now() + 3 * 3_600_000, "Europe/Paris");
  const start = `${w.slice(0, 4)}-${w.slice(4, 6)}-${w.slice(6, 8)}T${w.slice(9, 11)}:${w.slice(11, 13)}`;
  const created = await alice.postMultipart("/events", { title: "Tractage au marché", start, end: "", timezone: "Europe/Paris", category: "action", description: "", agenda: "", place_name: "", locality: "Lille", capacity: "", join_mode: "open", audience: "public" });
  t.equal(created.status, 303, created.body.slice(0, 300));
  const eventId = /\/events\/(\d+)/.exec(created.location!)![1]!;
  t.equal((await bruno.post(`/events/${eventId}/rsvp`, { answer: "going" })).status, 303);
  // Reminders run at start and every 15 minutes: a restart runs them now.
  await instance.stop();
  await instance.start();
  const page = await bruno.get("/notifications");
  t.equal(navLink(page.body), "Notifications", "read as soon as shown");
  t.match(items(page.body)[0], /^nouveau Rappel : Tractage au marché commence dans moins de 24 heures Voir l&#39;événement/);
  t.match(page.body, `<a href="/events/${eventId}">Tractage au marché</a>`);
  const english = await bruno.get("/notifications", { "accept-language": "en" });
  t.match(items(english.body)[0], /^Reminder: Tractage au marché starts within 24 hours See the event/);

  // The organiser is told that Bruno comes: on the web page, never in the Mastodon API (apps do not know the type).
  t.same(instance.query("select notifications.type from notifications join users on users.id = notifications.user_id where users.username = 'alice' and notifications.event_id = ?", Number(eventId)), [{ type: "coopol.rsvp.going" }]);
  const told = await alice.get("/notifications");
  t.match(items(told.body)[0], /^nouveau Bruno Militant @bruno vient à « Tractage au marché » Voir la liste des participant·es/);
  t.match(told.body, `<a href="/events/${eventId}/attendees">Voir la liste des participant·es</a>`);
  const token = await apiToken(instance.origin, "alice");
  const api = async (path: string) => (await fetch(`${instance.origin}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<unknown>;
  t.notOk((await api("/api/v1/notifications") as { type: string }[]).some((n) => n.type.startsWith("coopol.")), "not in the apps' list");
  t.notOk(((await api("/api/v2/notifications")) as { notification_groups: { type: string }[] }).notification_groups.some((g) => g.type.startsWith("coopol.")), "nor grouped");
  // The web page marked everything read; an app moving its marker back sees only Mastodon's types counted.
  await fetch(`${instance.origin}/api/v1/markers`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ notifications: { last_read_id: "0" } }) });
  const listed = (await api("/api/v1/notifications") as unknown[]).length;
  t.same(await api("/api/v1/notifications/unread_count"), { count: listed }, "unread_count counts only what apps are shown");
});
