// A secretary runs the section's accounts from the web, no shell: the member
// list with filters and CSV, roles within their rights, disabling, password
// links, invitations to list and revoke; everyone changes or resets their
// password (by e-mail when SMTP is configured). Unknown pages are HTML for
// browsers; a visitor following a members-only link logs in and comes back.
// Real instance, real Chromium, real SMTP server on loopback.
import { join } from "node:path";
import t from "tap";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { accessibilityProblems, horizontalOverflow, launchChromium } from "./helpers/chromium.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { leaves, parseMime, startSmtp, type TestSmtp } from "./helpers/mail.ts";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { loadConfig } from "../src/config.ts";
import { createMemberWithHash } from "../src/members/members.ts";
import { hashPassword } from "../src/members/passwords.ts";
import { openDatabase } from "../src/storage/db.ts";

let a: TestInstance;
let smtp: TestSmtp;
let browser: Browser;

t.before(async () => {
  smtp = await startSmtp();
  a = await startInstance("members-web", { COOPOL_SMTP_URL: smtp.url, COOPOL_SMTP_FROM: "Section <ne-pas-repondre@exemple.fr>" });
  a.addMember("sec", "secretary");
  a.addMember("adm", "admin");
  a.addMember("lea");
  a.addMember("tom");
  a.addMember("zoe", "sympathisant");
  browser = await launchChromium();
});

t.teardown(async () => {
  await browser?.close();
  await a?.stop();
  await smtp?.stop();
});

async function person(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: "fr-FR" });
  return { context, page: await context.newPage() };
}

async function login(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto(`${a.origin}/login`);
  await page.getByLabel("Nom d'utilisateur").fill(username);
  await page.getByLabel("Mot de passe", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForLoadState();
}

/** Opens the "Gérer" disclosure of a member's row. */
const manage = (page: Page, username: string) => page.getByText(`Gérer ${username}`, { exact: true }).click();

const userRow = (username: string) => a.query<{ role: string; disabled_at: number | null }>("select role, disabled_at from users where username = ?", username)[0];

t.test("the secretary manages members from the list", async (t) => {
  const { context, page } = await person();
  await login(page, "sec");
  await page.goto(`${a.origin}/members`);
  t.same(await accessibilityProblems(page), [], "labelled controls, one h1");
  t.ok(await page.locator(".handle", { hasText: "@lea" }).isVisible(), "lea is listed");
  t.equal(await page.getByLabel("Changer le rôle de sec").count(), 0, "no controls on one's own account");
  t.equal(await page.locator("#role-adm").count(), 0, "a secretary cannot touch an admin");
  const options = await page.locator("#role-lea option").allTextContents();
  t.notOk(options.includes("Administrateur·rice"), "a secretary cannot make an admin");

  // Filter by role, then by name.
  await page.getByLabel("Rôle", { exact: true }).selectOption("sympathisant");
  await page.getByRole("button", { name: "Filtrer" }).click();
  t.equal(await page.locator("table.members tbody tr").count(), 1, "one sympathisant");
  await page.goto(`${a.origin}/members?q=TO`);
  t.same(await page.locator("table.members tbody tr .handle").allTextContents(), ["@tom"], "search by part of the name");

  // Change tom's role from the search; the list says so after the redirect, still searched.
  await manage(page, "tom");
  await page.locator("#role-tom").selectOption("moderator");
  await page.locator("form[action='/members/tom/role?q=TO'] button").click();
  await page.waitForURL(/\?q=TO&done=role_changed/);
  t.match(await page.getByRole("status").textContent(), /tom.*Modérateur·rice/, "the change is confirmed");
  t.equal(userRow("tom")?.role, "moderator");

  // Disable lea: she can no longer log in; enable her again.
  await page.goto(`${a.origin}/members`);
  await manage(page, "lea");
  await page.locator("form[action='/members/lea/disable'] button").click();
  await page.waitForURL(/done=disabled_notice/);
  t.ok(userRow("lea")?.disabled_at, "lea is disabled");
  const lea = new WebSession(a.origin);
  t.equal((await lea.post("/login", { username: "lea", password: PASSWORD })).status, 403, "a disabled member cannot log in");
  await manage(page, "lea");
  await page.locator("form[action='/members/lea/enable'] button").click();
  await page.waitForURL(/done=enabled_notice/);
  t.equal(userRow("lea")?.disabled_at, null, "lea is enabled again");
  await lea.login("lea", PASSWORD);

  // Rights are checked on the server too, whatever the form says.
  const sec = new WebSession(a.origin);
  await sec.login("sec", PASSWORD);
  t.equal((await sec.post("/members/tom/role", { role: "admin" })).status, 403, "no admin role from a secretary");
  t.equal((await sec.post("/members/adm/disable", {})).status, 403, "no disabling an admin");
  t.equal((await sec.post("/members/sec/role", { role: "member" })).status, 403, "no changing one's own role");
  t.equal((await lea.post("/members/tom/disable", {})).status, 403, "members manage nobody");
  t.equal((await lea.get("/members.csv")).status, 403, "nor export the list");
  const admin = new WebSession(a.origin);
  await admin.login("adm", PASSWORD);
  t.equal((await admin.post("/members/tom/role", { role: "member" })).status, 303, "an admin may");

  // CSV export, filtered as the page.
  const csv = await sec.get("/members.csv?role=sympathisant");
  t.equal(csv.status, 200);
  t.match(csv.body, /zoe;sympathisant;actif/);
  t.notMatch(csv.body, /lea/, "the filter applies to the export");
  await context.close();
});

t.test("a password link made by the secretary, used once", async (t) => {
  const { context, page } = await person();
  await login(page, "sec");
  await page.goto(`${a.origin}/members`);
  await manage(page, "lea");
  await page.locator("form[action='/members/lea/reset-link'] button").click();
  const url = (await page.locator("#reset-link").textContent())!.trim();
  t.match(url, `${a.origin}/password/reset/`);
  t.ok(await page.getByRole("button", { name: "Copier le lien" }).isVisible(), "a copy button with JavaScript");
  await context.close();

  const lea = await person();
  await lea.page.goto(url);
  t.match(await lea.page.textContent("main"), "@lea");
  const short = await new WebSession(a.origin).post(new URL(url).pathname, { password: "court" });
  t.equal(short.status, 422, "a short password is refused");
  t.match(short.body, 'role="alert"', "in plain words, on the form");
  await lea.page.getByLabel("Nouveau mot de passe").fill("un nouveau mot de passe");
  await lea.page.getByRole("button", { name: "Enregistrer le nouveau mot de passe" }).click();
  t.match(await lea.page.getByRole("status").textContent(), /nouveau mot de passe est enregistré/);
  await login(lea.page, "lea", "un nouveau mot de passe");
  t.equal(new URL(lea.page.url()).pathname, "/", "lea logs in with her new password");
  t.equal((await new WebSession(a.origin).get(new URL(url).pathname)).status, 410, "the link works once");
  await lea.context.close();
});

t.test("members change their own password; forgotten ones come by e-mail", async (t) => {
  const tom = new WebSession(a.origin);
  await tom.login("tom", PASSWORD);
  const wrong = await tom.post("/settings/password", { current: "pas le bon", password: "encore un autre mot" });
  t.equal(wrong.status, 422);
  t.match(wrong.body, "Le mot de passe actuel n&#39;est pas le bon");
  t.equal((await tom.post("/settings/password", { current: PASSWORD, password: "encore un autre mot" })).status, 200);
  t.equal((await tom.get("/settings")).status, 200, "the session that changed it stays logged in");
  await new WebSession(a.origin).login("tom", "encore un autre mot");

  // Forgotten: the same answer for an unknown name, an e-mail only to a known address.
  const tomMail = new WebSession(a.origin);
  await tomMail.login("tom", "encore un autre mot");
  t.equal((await tomMail.post("/settings", { display_name: "Tom", email: "tom@exemple.fr" })).status, 303);
  const visitor = new WebSession(a.origin);
  const unknown = await visitor.post("/password/forgot", { identifier: "personne" });
  const known = await visitor.post("/password/forgot", { identifier: "TOM@exemple.fr" });
  t.equal(unknown.status, 200);
  t.equal(known.status, 200);
  t.equal(/<p class="notice"[^>]*>([^<]*)/.exec(unknown.body)?.[1], /<p class="notice"[^>]*>([^<]*)/.exec(known.body)?.[1], "the page does not tell who is a member");
  const mail = await eventually(() => smtp.messages.find((m) => m.to.includes("tom@exemple.fr")), 15_000, "reset e-mail");
  const text = leaves(parseMime(mail.raw)).find((p) => p.type === "text/plain")!.body.toString("utf8");
  const link = /https?:\/\/\S+\/password\/reset\/[\w-]+/.exec(text)?.[0];
  t.ok(link, "the e-mail holds a link");
  await visitor.post("/password/forgot", { identifier: "tom" });
  await new Promise((r) => setTimeout(r, 500));
  t.equal(smtp.messages.filter((m) => m.to.includes("tom@exemple.fr")).length, 1, "one e-mail per 10 minutes");
  const reset = new WebSession(a.origin);
  t.equal((await reset.post(new URL(link!).pathname, { password: "mot de passe par mail" })).status, 200);
  t.equal((await tomMail.get("/settings")).status, 302, "a reset logs the account out everywhere");
  await new WebSession(a.origin).login("tom", "mot de passe par mail");
});

t.test("invitations: listed, kept across reloads, revoked", async (t) => {
  const { context, page } = await person();
  await login(page, "sec");
  await page.getByRole("link", { name: "Inviter" }).click();
  await page.getByRole("button", { name: "Créer un lien d'invitation" }).click();
  const url = (await page.locator("#invitation-link").textContent())!.trim();
  await page.goto(`${a.origin}/invitations`);
  t.equal(await page.locator("ul.cards li").count(), 1, "the pending invitation is listed");
  t.same(await accessibilityProblems(page), []);
  await page.getByRole("button", { name: "Annuler l'invitation" }).click();
  t.match(await page.getByRole("status").textContent(), /annulée/);
  t.equal(await page.locator("ul.cards li").count(), 0);
  t.equal((await new WebSession(a.origin).get(new URL(url).pathname)).status, 410, "a revoked link opens nothing");
  await context.close();
});

t.test("errors are pages for people, JSON for programs; the secretary moderates", async (t) => {
  const { context, page } = await person();
  const missing = await page.goto(`${a.origin}/no-such-page`);
  t.equal(missing?.status(), 404);
  t.ok(await page.getByRole("link", { name: "Revenir à l'accueil" }).isVisible(), "a way back");
  const api = await new WebSession(a.origin).get("/api/v1/nothing-here", { accept: "text/html" });
  t.equal(api.status, 404);
  t.type(JSON.parse(api.body).error, "string", "APIs answer JSON");
  t.equal((await new WebSession(a.origin).get("/favicon.ico")).status, 200, "a favicon");

  // A section-only event: a visitor's browser goes to the login page, then back to it.
  const sec = new WebSession(a.origin);
  await sec.login("sec", PASSWORD);
  const created = await sec.post("/events", { title: "Réunion de section", start: "2031-03-04T18:30", timezone: "Europe/Paris", audience: "section", join_mode: "open" });
  t.equal(created.status, 303, created.body.slice(0, 300));
  const eventPath = new URL(created.location!, a.origin).pathname;
  await page.goto(`${a.origin}${eventPath}`);
  t.equal(new URL(page.url()).pathname, "/login", "asked to log in");
  await page.getByLabel("Nom d'utilisateur").fill("lea");
  await page.getByLabel("Mot de passe", { exact: true }).fill("un nouveau mot de passe");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL(`**${eventPath}`);
  t.match(await page.textContent("h1"), "Réunion de section", "and back to the event");

  t.equal((await sec.get("/moderation")).status, 200, "the first secretary opens the moderation queue");
  await context.close();
});

t.test("on a phone: a compact menu, nothing overflows", async (t) => {
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 390, height: 800 } });
  const page = await context.newPage();
  await login(page, "sec");
  for (const path of ["/", "/members", "/invitations", "/settings/password", "/no-such-page"]) {
    await page.goto(`${a.origin}${path}`);
    const overflow = await horizontalOverflow(page);
    t.equal(overflow.px, 0, `${path}: no horizontal overflow at 390 px ${overflow.culprits.join(" | ")}`);
  }
  const navHeight = await page.locator("header nav").evaluate((nav) => nav.getBoundingClientRect().height);
  t.ok(navHeight < 60, `the navigation holds on one line (${navHeight} px)`);
  t.notOk(await page.getByRole("link", { name: "Réglages" }).isVisible(), "secondary links wait in the menu");
  await page.getByText("Menu", { exact: true }).click();
  await page.getByRole("link", { name: "Réglages" }).click();
  await page.waitForURL(`${a.origin}/settings`);
  t.pass("and open from it");
  await context.close();
});

t.test("a big section: the list comes 50 at a time, a search finds a member, a change keeps the page", async (t) => {
  // 121 more accounts, written with Coopol's own function on the running instance's file (as the pages benchmark does).
  const db = openDatabase(join(a.dataDir, "coopol.sqlite"));
  const config = loadConfig({ ...a.env });
  const passwordHash = await hashPassword(PASSWORD);
  for (let i = 0; i < 120; i++) createMemberWithHash(db, config, { username: `b${String(i).padStart(3, "0")}`, passwordHash, role: "member" });
  createMemberWithHash(db, config, { username: "hdupre", displayName: "Hélène Dupré", passwordHash, role: "member" });
  db.$client.close();
  const total = a.query<{ n: number }>("select count(*) as n from users")[0]!.n;

  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 390, height: 800 } });
  const page = await context.newPage();
  await login(page, "sec");
  await page.goto(`${a.origin}/members`);
  t.equal(await page.locator("table.members tbody tr").count(), 50, "50 rows on the first page");
  t.match(await page.locator("main").textContent(), `${total} compte(s) · 1 à 50 ci-dessous`, "the count is of the whole section");
  t.same(await accessibilityProblems(page), [], "the pager is labelled");
  t.equal((await horizontalOverflow(page)).px, 0, "nothing overflows on a phone");

  await page.getByRole("link", { name: "Suivants" }).click();
  await page.waitForURL(/page=2/);
  t.equal(await page.locator("table.members tbody tr").count(), 50);
  t.ok(await page.locator(".handle", { hasText: "@b060" }).isVisible(), "b060 is on the second page");

  // Disabling b060 from page 2 comes back to page 2, which says so.
  await manage(page, "b060");
  await page.locator("form[action='/members/b060/disable?page=2'] button").click();
  await page.waitForURL(/page=2&done=disabled_notice/);
  t.match(await page.getByRole("status").textContent(), /b060/);
  t.match(await page.locator("tr", { hasText: "@b060" }).textContent(), "Désactivé", "the row shows the change in place");
  await page.getByRole("link", { name: "Précédents" }).click();
  t.ok(await page.locator(".handle", { hasText: "@adm" }).isVisible(), "back on the first page");

  // A search without its accents, from the form (no JavaScript needed: a GET form), finds her at once.
  await page.getByLabel("Nom ou identifiant").fill("helene");
  await page.getByRole("button", { name: "Filtrer" }).click();
  t.same(await page.locator("table.members tbody tr .handle").allTextContents(), ["@hdupre"]);
  t.equal(await page.getByRole("link", { name: "Suivants" }).count(), 0, "one page, no pager");
  t.equal(new URL(page.url()).searchParams.get("page"), null, "a new search starts on page 1");

  // Filters stay while paging; a page past the end shows the last one.
  await page.goto(`${a.origin}/members?state=active&page=9`);
  t.match(await page.locator("main").textContent(), "Page 3 sur 3");
  t.ok(await page.getByRole("link", { name: "Précédents" }).getAttribute("href").then((href) => href === "/members?state=active&page=2"), "the filter is kept in the links");
  t.equal(a.query<{ n: number }>("select count(*) as n from users where disabled_at is null")[0]!.n, total - 1);
  await context.close();
});
