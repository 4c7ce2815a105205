// Event attachments and reminder e-mails, for real: a real SMTP server
// (smtp-server) receives what the instance sends through nodemailer; the .ics
// attached is read back with ical.js; attachments travel to another instance
// as ActivityPub Documents and through the Coopol API.
import t from "tap";
import ICAL from "ical.js";
import { loadConfig, ConfigError } from "../src/config.ts";
import { wallClock } from "../src/agenda/events.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { leaves, parseMime, startSmtp, type TestSmtp } from "./helpers/mail.ts";
import { apiToken } from "./helpers/oauth.ts";
import { openapiValidator, type Validate } from "./helpers/openapi.ts";

let smtp: TestSmtp;
let a: TestInstance, b: TestInstance;
let sec: WebSession;
const PDF = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");

t.before(async () => {
  smtp = await startSmtp();
  [a, b] = await Promise.all([
    startInstance("mail-a", { COOPOL_SMTP_URL: smtp.url, COOPOL_SMTP_FROM: "Section mail-a <ne-pas-repondre@exemple.fr>" }),
    startInstance("mail-b"),
  ]);
  a.addMember("sec", "secretary");
  for (const name of ["mia", "ann", "rob", "noe"]) a.addMember(name);
  b.addMember("bea");
  sec = new WebSession(a.origin);
  await sec.login("sec", PASSWORD);
  const bea = new WebSession(b.origin);
  await bea.login("bea", PASSWORD);
  t.equal((await bea.post("/follow", { target: `${a.origin}/users/section_mail_a` })).status, 303);
  await eventually(() => a.query("select 1 from follows where accepted_at is not null").length === 1, 15_000, "B follows A");
});
t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await smtp?.stop();
});

t.test("COOPOL_SMTP_URL and COOPOL_SMTP_FROM are checked with plain French errors", async (t) => {
  t.equal(loadConfig({}).smtp, null, "no SMTP: no e-mail");
  t.same(loadConfig({ COOPOL_SMTP_URL: "smtps://u:p@smtp.exemple.fr", COOPOL_SMTP_FROM: "Section <a@exemple.fr>" }).smtp, { url: "smtps://u:p@smtp.exemple.fr", from: "Section <a@exemple.fr>" });
  t.throws(() => loadConfig({ COOPOL_SMTP_URL: "http://smtp.exemple.fr", COOPOL_SMTP_FROM: "a@exemple.fr" }), new ConfigError("COOPOL_SMTP_URL doit commencer par smtp:// (port 587, STARTTLS) ou smtps:// (port 465), pas « http: »."));
  t.throws(() => loadConfig({ COOPOL_SMTP_URL: "smtp://smtp.exemple.fr:587" }), /COOPOL_SMTP_FROM/);
  t.throws(() => loadConfig({ COOPOL_SMTP_URL: "smtp://smtp.exemple.fr", COOPOL_SMTP_FROM: "pas une adresse" }), /n'est pas une adresse e-mail/);
  t.throws(() => loadConfig({ COOPOL_SMTP_FROM: "a@exemple.fr" }), /COOPOL_SMTP_URL/);
});

const soon = (hours: number) => {
  const w = wallClock(Date.now() + hours * 3_600_000, "Europe/Paris");
  return `${w.slice(0, 4)}-${w.slice(4, 6)}-${w.slice(6, 8)}T${w.slice(9, 11)}:${w.slice(11, 13)}`;
};

let eventId = "";

t.test("an event carries files and links: form, page, ActivityPub, other instances", async (t) => {
  const res = await sec.postMultipart(
    "/events",
    { title: "Collage ce soir", start: soon(3), end: "", timezone: "Europe/Paris", category: "action", description: "Rendez-vous devant la mairie.", agenda: "", place_name: "Mairie", locality: "Paris", capacity: "", join_mode: "open", audience: "public", for_section: "1", attachments_form: "1", links: "https://exemple.fr/petition Pétition en ligne" },
    [{ field: "files", fileName: "ordre-du-jour.pdf", type: "application/pdf", data: PDF }],
  );
  t.equal(res.status, 303, res.body.slice(0, 300));
  eventId = /\/events\/(\d+)/.exec(res.location!)![1]!;
  const page = await sec.get(`/events/${eventId}`);
  t.match(page.body, "Pièces jointes");
  t.match(page.body, "ordre-du-jour.pdf");
  t.match(page.body, "Pétition en ligne");
  const fileUrl = /href="([^"]+\/media\/[^"]+\.pdf)"/.exec(page.body)![1]!;
  const download = await fetch(fileUrl);
  t.equal(download.headers.get("content-type"), "application/pdf");
  t.equal(download.headers.get("content-disposition"), "attachment", "documents are downloaded, not rendered on our origin");
  t.same(Buffer.from(await download.arrayBuffer()), PDF);

  const json = JSON.parse((await new WebSession(a.origin).get(`/events/${eventId}`, { accept: "application/activity+json" })).body);
  t.match(json.attachment, [
    { type: "Document", mediaType: "application/pdf", name: "ordre-du-jour.pdf", url: fileUrl },
    { type: "Document", mediaType: "text/html", name: "Pétition en ligne", url: "https://exemple.fr/petition" },
  ]);

  // B stored them from the Create it received (compacted by Fedify on the way).
  const uri = `${a.origin}/events/${eventId}`;
  const onB = await eventually(() => b.query<{ id: number }>("select id from events where uri = ?", uri)[0], 15_000, "the event on B");
  const stored = await eventually(() => {
    const rows = b.query<{ remote_url: string; content_type: string; description: string }>("select remote_url, content_type, description from media where event_id = ? order by position", onB.id);
    return rows.length === 2 ? rows : null;
  }, 15_000, "attachments on B");
  t.same(stored, [
    { remote_url: fileUrl, content_type: "application/pdf", description: "ordre-du-jour.pdf" },
    { remote_url: "https://exemple.fr/petition", content_type: "text/html", description: "Pétition en ligne" },
  ]);
  const bea = new WebSession(b.origin);
  await bea.login("bea", PASSWORD);
  t.match((await bea.get(`/events/${onB.id}`)).body, "ordre-du-jour.pdf", "B's page lists them");

  // An edit that unticks the file and changes the link.
  const edit = await sec.postMultipart(`/events/${eventId}`, { title: "Collage ce soir", start: soon(3), timezone: "Europe/Paris", category: "action", place_name: "Mairie", locality: "Paris", join_mode: "open", audience: "public", attachments_form: "1", links: "https://exemple.fr/tract Tract" });
  t.equal(edit.status, 303);
  t.same(a.query("select remote_url, file_name is null as link from media where event_id = ?", Number(eventId)), [{ remote_url: "https://exemple.fr/tract", link: 1 }]);
  await eventually(() => b.query<{ remote_url: string }>("select remote_url from media where event_id = ?", onB.id).map((r) => r.remote_url).join() === "https://exemple.fr/tract", 15_000, "the edit on B");
  // Back to the file and the petition, for the reminders below.
  const fileId = String(a.query<{ id: number }>("select id from media where file_name like '%.pdf'")[0]!.id);
  t.equal((await sec.postMultipart(`/events/${eventId}`, { title: "Collage ce soir", start: soon(3), timezone: "Europe/Paris", category: "action", place_name: "Mairie", locality: "Paris", join_mode: "open", audience: "public", attachments_form: "1", keep_file: fileId, links: "https://exemple.fr/petition Pétition en ligne" })).status, 303, "a file taken off can be put back by its uploader");
  t.equal(a.query("select 1 from media where event_id = ?", Number(eventId)).length, 2);

  const bad = await sec.postMultipart("/events", { title: "Faux PDF", start: soon(30), timezone: "Europe/Paris", attachments_form: "1" }, [{ field: "files", fileName: "x.pdf", type: "application/pdf", data: Buffer.from("not a pdf") }]);
  t.equal(bad.status, 422);
  t.match(bad.body, "n&#39;est pas un PDF lisible");
});

t.test("the Coopol API lists, uploads and sets attachments, as its OpenAPI document says", async (t) => {
  const token = await apiToken(a.origin, "sec");
  const { validate } = (await openapiValidator(a.origin)) as { validate: Validate };
  const auth = { authorization: `Bearer ${token}` };
  const event = (await (await fetch(`${a.origin}/api/coopol/v1/events/${eventId}`, { headers: auth })).json()) as { attachments: Array<{ kind: string; name: string }> };
  t.same(validate("Event", event), []);
  t.match(event.attachments, [{ kind: "file", name: "ordre-du-jour.pdf" }, { kind: "link", name: "Pétition en ligne" }]);

  const form = new FormData();
  form.append("file", new Blob([PDF], { type: "application/pdf" }), "motion.pdf");
  form.append("name", "Motion");
  const uploaded = (await (await fetch(`${a.origin}/api/coopol/v1/media`, { method: "POST", headers: auth, body: form })).json()) as { id: string; kind: string };
  t.same(validate("EventAttachment", uploaded), []);
  t.equal(uploaded.kind, "file");

  const created = await fetch(`${a.origin}/api/coopol/v1/events`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ title: "Assemblée générale", start: "2027-06-01T16:00:00Z", attachments: [{ media_id: uploaded.id }, { url: "https://exemple.fr/statuts", name: "Statuts" }] }),
  });
  const body = (await created.json()) as { attachments: unknown[] };
  t.equal(created.status, 200, JSON.stringify(body));
  t.same(validate("Event", body), []);
  t.match(body.attachments, [{ kind: "file", name: "Motion", media_type: "application/pdf" }, { kind: "link", url: "https://exemple.fr/statuts", name: "Statuts" }]);

  const wrong = await fetch(`${a.origin}/api/coopol/v1/events`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ title: "X", start: "2027-06-01T16:00:00Z", attachments: [{ media_id: uploaded.id }] }) });
  t.equal(wrong.status, 404, "a file already on an event cannot be taken by another");
});

t.test("the day before, members who asked get an e-mail with the date, place, link and .ics", async (t) => {
  const sessions: Record<string, WebSession> = {};
  for (const name of ["mia", "ann", "rob", "noe"]) {
    sessions[name] = new WebSession(a.origin);
    await sessions[name].login(name, PASSWORD);
  }
  const settings = (await sessions.mia!.get("/settings")).body;
  t.match(settings, "Recevoir les rappels par e-mail");
  t.equal((await sessions.mia!.post("/settings", { display_name: "Mia", bio: "", email: "mia@exemple.fr", email_reminders: "1" })).status, 303);
  t.equal((await sessions.ann!.post("/settings", { display_name: "Ann", bio: "", email: "ann@example.org", email_reminders: "1" }, { headers: { "accept-language": "en-GB,en;q=0.8" } })).status, 303);
  t.equal((await sessions.rob!.post("/settings", { display_name: "Rob", bio: "", email: "refuse@exemple.fr", email_reminders: "1" })).status, 303);
  t.equal((await sessions.noe!.post("/settings", { display_name: "Noé", bio: "", email: "noe@exemple.fr" })).status, 303, "an address without the box ticked");
  const refused = await sessions.noe!.post("/settings", { display_name: "Noé", bio: "", email: "pas-une-adresse", email_reminders: "1" });
  t.equal(refused.status, 422);
  t.match(refused.body, "adresse e-mail n&#39;est pas valide");
  t.equal((await sessions.noe!.post("/settings", { display_name: "Noé", bio: "", email: "", email_reminders: "1" })).status, 422, "reminders need an address");

  t.equal((await sessions.mia!.post(`/events/${eventId}/rsvp`, { answer: "going" })).status, 303);
  t.equal((await sessions.ann!.post(`/events/${eventId}/rsvp`, { answer: "maybe" })).status, 303);
  t.equal((await sessions.rob!.post(`/events/${eventId}/rsvp`, { answer: "going" })).status, 303);
  t.equal((await sessions.noe!.post(`/events/${eventId}/rsvp`, { answer: "going" })).status, 303);
  const start = a.query<{ start_at: number }>("select start_at from events where id = ?", Number(eventId))[0]!.start_at;

  // Reminders run at start and every 15 minutes: a restart runs them now.
  await a.stop();
  await a.start();
  await eventually(() => smtp.messages.length >= 2, 20_000, "two reminder e-mails");
  t.equal(smtp.messages.length, 2, "mia and ann; noé did not ask, rob's address is refused");
  const mia = smtp.messages.find((m) => m.to.includes("mia@exemple.fr"))!;
  t.ok(mia, "mia got hers");
  t.equal(mia.from, "ne-pas-repondre@exemple.fr");
  const message = parseMime(mia.raw);
  const parisDate = new Intl.DateTimeFormat("fr-FR", { dateStyle: "full", timeStyle: "short", timeZone: "Europe/Paris" }).format(start);
  t.equal(message.headers.subject, `Rappel : Collage ce soir — ${parisDate}`);
  t.match(message.headers.from, "Section mail-a");
  const parts = leaves(message);
  const text = parts.find((p) => p.type === "text/plain")!.body.toString("utf8");
  t.match(text, `Quand : ${parisDate} (Europe/Paris)`, "the date on the Paris clock");
  t.match(text, "Où : Mairie, Paris");
  t.match(text, `${a.origin}/events/${eventId}`, "the link to the event");
  t.match(text, "Pétition en ligne <https://exemple.fr/petition>", "the attachments");
  t.match(text, "vous avez dit que vous veniez");
  const htmlPart = parts.find((p) => p.type === "text/html")!.body.toString("utf8");
  t.match(htmlPart, `<a href="${a.origin}/events/${eventId}">`);
  t.match(htmlPart, "<h1 style=\"font-size: 1.3em\">Collage ce soir</h1>");
  const ics = parts.find((p) => p.type === "text/calendar")!;
  t.match(ics.headers["content-disposition"], "evenement.ics");
  const vevent = ICAL.Component.fromString(ics.body.toString("utf8")).getFirstSubcomponent("vevent")!;
  t.equal(vevent.getFirstPropertyValue("summary"), "Collage ce soir");
  t.equal(vevent.getFirstPropertyValue("uid"), `${a.origin}/events/${eventId}`);
  t.equal(vevent.getFirstProperty("dtstart")!.getParameter("tzid"), "Europe/Paris");
  t.equal((vevent.getFirstPropertyValue("dtstart") as ICAL.Time).toJSDate().getTime(), start, "the .ics has the same instant");

  const ann = parseMime(smtp.messages.find((m) => m.to.includes("ann@example.org"))!.raw);
  const englishDate = new Intl.DateTimeFormat("en-GB", { dateStyle: "full", timeStyle: "short", timeZone: "Europe/Paris" }).format(start);
  t.equal(ann.headers.subject, `Reminder: Collage ce soir — ${englishDate}`, "in the member's language");
  t.match(leaves(ann).find((p) => p.type === "text/plain")!.body.toString("utf8"), "you answered “maybe”");

  // The refused address did not stop the others, nor in-app reminders.
  // rob's turn may come after the others: wait until his failure is logged (and his claim released).
  await eventually(() => a.output.join("").includes("reminder e-mail not sent"), 20_000, "rob's refusal logged");
  t.same(smtp.refused, ["refuse@exemple.fr"]);
  const inApp = a.query("select users.username from notifications join users on users.id = notifications.user_id join posts on posts.id = notifications.post_id where posts.event_id = ? order by users.username", Number(eventId));
  t.same(inApp, [{ username: "ann" }, { username: "mia" }, { username: "noe" }, { username: "rob" }]);
  t.equal(a.query("select 1 from reminder_emails").length, 2, "the failed one is not recorded as sent");

  // Next round: the refused one is tried again, nobody gets a second e-mail.
  await a.stop();
  await a.start();
  await eventually(() => smtp.refused.length === 2, 20_000, "the next round");
  await new Promise((r) => setTimeout(r, 300));
  t.equal(smtp.messages.length, 2, "only once");
});
