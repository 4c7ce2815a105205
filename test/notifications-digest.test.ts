// The e-mail digest of unread notifications, for real: a real SMTP server
// (smtp-server, test/helpers/mail.ts) receives what the instance sends. Only
// members who ticked the box and gave an address get one, listing what they
// have not read.
import t from "tap";
import { WebSession } from "./helpers/browser-session.ts";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { leaves, parseMime, startSmtp, type TestSmtp } from "./helpers/mail.ts";
import { apiToken } from "./helpers/oauth.ts";

let smtp: TestSmtp;
let a: TestInstance;

t.before(async () => {
  smtp = await startSmtp();
  a = await startInstance("digest", { COOPOL_SMTP_URL: smtp.url, COOPOL_SMTP_FROM: "Section digest <ne-pas-repondre@exemple.fr>", COOPOL_DIGEST_HOURS: "6" });
  // mia last: the round handles members in order, so hers is the last e-mail it could send.
  for (const name of ["bob", "ann", "noe", "mia"]) a.addMember(name);
});
t.teardown(async () => {
  await a?.stop();
  await smtp?.stop();
});

t.test("members who asked get one digest of what they have not read", async (t) => {
  const sessions = Object.fromEntries(await Promise.all(["ann", "noe", "mia"].map(async (name) => {
    const s = new WebSession(a.origin);
    await s.login(name, PASSWORD);
    return [name, s] as const;
  })));
  const settings = (await sessions.mia!.get("/settings")).body;
  t.match(settings, "Recevoir un résumé des notifications par e-mail");
  t.match(settings, "Au plus un e-mail toutes les 6 heures");
  t.equal((await sessions.mia!.post("/settings", { display_name: "Mia", bio: "", email: "", email_digest: "1" })).status, 422, "a digest needs an address");
  t.equal((await sessions.mia!.post("/settings", { display_name: "Mia", bio: "", email: "mia@exemple.fr", email_digest: "1" })).status, 303);
  t.match((await sessions.mia!.get("/settings")).body, /name="email_digest" value="1" aria-describedby="digest-help" checked/);
  t.equal((await sessions.ann!.post("/settings", { display_name: "Ann", bio: "", email: "ann@exemple.fr", email_digest: "1" })).status, 303);
  t.equal((await sessions.noe!.post("/settings", { display_name: "Noé", bio: "", email: "noe@exemple.fr" })).status, 303, "an address without the box ticked");

  const token = await apiToken(a.origin, "bob");
  const posted = await fetch(`${a.origin}/api/v1/statuses`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ status: "@mia @ann @noe réunion jeudi 19 h" }) });
  t.equal(posted.status, 200);
  // ann reads hers on the web page: nothing left unread for her.
  t.match((await sessions.ann!.get("/notifications")).body, /vous a mentionné·e/);

  // Digests run at start and every 15 minutes: a restart runs them now.
  await a.stop();
  await a.start();
  await eventually(() => smtp.messages.find((m) => m.to.includes("mia@exemple.fr")), 20_000, "mia's digest");
  await a.stop();
  t.equal(smtp.messages.length, 1, "ann read everything, noé did not ask");
  const message = parseMime(smtp.messages[0]!.raw);
  t.equal(message.headers.subject, "1 notification(s) non lue(s) — Section digest");
  const text = leaves(message).find((p) => p.type === "text/plain")!.body.toString("utf8");
  t.match(text, "bob vous a mentionné·e");
  t.match(text, `${a.origin}/notifications`);
  t.match(text, `${a.origin}/settings`);
  const sentAt = () => a.query<{ digest_sent_at: number | null }>("select digest_sent_at from users where username = 'mia'")[0]!.digest_sent_at;
  const first = sentAt();
  t.ok(first, "the time of mia's digest is kept");
  t.equal(a.query<{ digest_sent_at: number | null }>("select digest_sent_at from users where username = 'ann'")[0]!.digest_sent_at, null);

  // Another notification, another start: still within 6 hours of the last digest, so no second e-mail.
  await a.start();
  await fetch(`${a.origin}/api/v1/statuses`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ status: "@mia encore une" }) });
  await a.stop();
  // The round at start claims a due digest (its time) before it sends anything, before the first request is answered.
  await a.start();
  t.equal(sentAt(), first, "at most one digest every 6 hours: none claimed");
  t.equal(smtp.messages.length, 1);
});
