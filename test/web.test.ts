// The web pages in a real headless Chromium (Debian's package, driven by
// playwright-core), against a real instance process.
import t from "tap";
import Database from "better-sqlite3";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { accessibilityProblems, horizontalOverflow, launchChromium } from "./helpers/chromium.ts";
import { PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";

let instance: TestInstance;
let browser: Browser;

t.before(async () => {
  instance = await startInstance("web");
  browser = await launchChromium();
});

t.teardown(async () => {
  await browser?.close();
  await instance?.stop();
});

async function person(options: Parameters<Browser["newContext"]>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: "fr-FR", ...options });
  return { context, page: await context.newPage() };
}

async function login(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto(`${instance.origin}/login`);
  await page.getByLabel("Nom d'utilisateur").fill(username);
  await page.getByLabel("Mot de passe").fill(password);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForLoadState();
}


let invitationUrl = "";

t.test("first run: the one-time link creates the secretary's account", async (t) => {
  t.ok(instance.setupUrl, "the first start printed a link");
  const { context, page } = await person();
  await page.goto(instance.setupUrl!);
  t.same(await accessibilityProblems(page), []);
  await page.getByLabel("Nom affiché").fill("Sophie Secrétaire");
  await page.getByLabel("Nom d'utilisateur").fill("sophie");
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Créer le compte" }).click();
  await page.waitForURL(`${instance.origin}/`);
  t.equal(await page.locator("h1").textContent(), "Mon fil");
  t.same(await accessibilityProblems(page), [], "home page");
  await page.screenshot({ path: join(instance.dataDir, "home.png"), fullPage: true });

  const again = await page.goto(instance.setupUrl!);
  t.equal(again?.status(), 410, "the link works once");
  t.match(await page.locator(".error").textContent(), "n'est plus valable");

  // The secretary invites a member.
  await page.goto(`${instance.origin}/invitations/new`);
  await page.getByLabel("Rôle").selectOption("member");
  await page.getByRole("button", { name: "Créer un lien d'invitation" }).click();
  invitationUrl = (await page.locator("#invitation-link").textContent())!.trim();
  t.match(invitationUrl, `${instance.origin}/invite/`);
  await context.close();
});

t.test("an invitation opens one account, once", async (t) => {
  const { context, page } = await person();
  await page.goto(invitationUrl);
  t.same(await accessibilityProblems(page), []);
  await page.getByLabel("Nom affiché").fill("Marc Militant");
  await page.getByLabel("Nom d'utilisateur").fill("marc");
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Créer mon compte" }).click();
  await page.waitForURL(`${instance.origin}/`);
  t.equal(await page.locator("h1").textContent(), "Mon fil");
  await context.close();

  const other = await person();
  const reused = await other.page.goto(invitationUrl);
  t.equal(reused?.status(), 410, "a used invitation is refused");
  t.match(await other.page.locator(".error").textContent(), "déjà servi");
  await other.context.close();
});

t.test("wrong passwords are refused, then slowed down", async (t) => {
  // Its own account: the limiter would otherwise lock "marc" out of the later tests.
  instance.addMember("rita");
  const { context, page } = await person();
  await login(page, "rita", "pas le bon mot de passe");
  t.match(await page.locator(".error").textContent(), "Nom d'utilisateur ou mot de passe incorrect.");
  t.notOk((await context.cookies()).some((c) => c.name === "coopol_session"), "no session");
  t.same(await accessibilityProblems(page), []);
  for (let i = 0; i < 4; i++) await login(page, "rita", "encore faux");
  await login(page, "rita");
  t.match(await page.locator(".error").textContent(), "Trop de tentatives", "even the right password waits");
  await context.close();
});

t.test("section-only posts stay inside the section", async (t) => {
  instance.addMember("sam", "sympathisant");
  const member = await person();
  await login(member.page, "sophie");
  await member.page.getByLabel("Votre message").fill("Message public de la section");
  await member.page.getByLabel("Qui peut lire ?").selectOption("public");
  await member.page.getByRole("button", { name: "Publier" }).click();
  await member.page.waitForURL(/notice=posted/);
  await member.page.getByLabel("Votre message").fill("Ordre du jour réservé aux adhérents");
  await member.page.getByLabel("Qui peut lire ?").selectOption("section");
  await member.page.getByRole("button", { name: "Publier" }).click();
  await member.page.waitForURL(/notice=posted/);
  const timeline = await member.page.locator("main").textContent();
  t.match(timeline, "Message public de la section");
  t.match(timeline, "Ordre du jour réservé aux adhérents");
  await member.page.goto(`${instance.origin}/section`);
  t.match(await member.page.locator("main").textContent(), "Ordre du jour réservé");

  const anonymous = await person();
  for (const path of ["/", "/@sophie"]) {
    await anonymous.page.goto(`${instance.origin}${path}`);
    const text = await anonymous.page.locator("main").textContent();
    t.match(text, "Message public de la section", `public post on ${path}`);
    t.notMatch(text, "Ordre du jour", `no section post on ${path} for anonymous visitors`);
  }

  const sympathisant = await person();
  await login(sympathisant.page, "sam");
  await sympathisant.page.goto(`${instance.origin}/section`);
  t.notMatch(await sympathisant.page.locator("main").textContent(), "Ordre du jour", "sympathisants do not read it");
  await sympathisant.page.goto(`${instance.origin}/@sophie`);
  t.notMatch(await sympathisant.page.locator("main").textContent(), "Ordre du jour");

  // The member list: members yes, visitors no, sympathisants no.
  await member.page.goto(`${instance.origin}/members`);
  t.match(await member.page.locator("table").textContent(), "Marc Militant");
  await anonymous.page.goto(`${instance.origin}/members`);
  t.match(anonymous.page.url(), /\/login/, "visitors are asked to log in");
  const forbidden = await sympathisant.page.goto(`${instance.origin}/members`);
  t.equal(forbidden?.status(), 403);
  for (const p of [member, anonymous, sympathisant]) await p.context.close();
});

t.test("an expired session is logged out", async (t) => {
  const { context, page } = await person();
  await login(page, "marc");
  await page.goto(`${instance.origin}/`);
  t.equal(await page.locator("h1").textContent(), "Mon fil");
  const db = new Database(join(instance.dataDir, "coopol.sqlite"));
  db.prepare("update sessions set expires_at = 0").run();
  db.close();
  await page.goto(`${instance.origin}/`);
  t.notMatch(await page.locator("h1").textContent(), "Mon fil");
  t.match(await page.locator("nav").textContent(), "Se connecter");
  await context.close();
});

t.test("English for English-speaking browsers", async (t) => {
  const { context, page } = await person({ locale: "en-GB" });
  await page.goto(`${instance.origin}/login`);
  t.equal(await page.locator("h1").textContent(), "Log in");
  t.ok(await page.getByLabel("Username").isVisible());
  await context.close();
});

t.test("the pages work without JavaScript", async (t) => {
  const { context, page } = await person({ javaScriptEnabled: false });
  await login(page, "marc");
  await page.getByLabel("Votre message").fill("Écrit sans JavaScript");
  await page.getByRole("button", { name: "Publier" }).click();
  await page.waitForURL(/notice=posted/);
  t.match(await page.locator("main").textContent(), "Écrit sans JavaScript");
  await context.close();
});

t.test("the agenda: a secretary plans a meeting, a member answers, both in the browser", async (t) => {
  const secretary = await person();
  await login(secretary.page, "sophie");
  await secretary.page.goto(`${instance.origin}/events/new`);
  t.same(await accessibilityProblems(secretary.page), [], "the event form");
  await secretary.page.getByLabel("Titre").fill("Assemblée générale");
  await secretary.page.getByLabel("Début").fill("2027-02-02T19:00");
  await secretary.page.getByLabel("Fin").fill("2027-02-02T21:00");
  await secretary.page.locator("summary", { hasText: "Plus d'options" }).click();
  await secretary.page.getByLabel("Ordre du jour").fill("Rapport d'activité\nÉlection du bureau");
  await secretary.page.getByLabel("Nom du lieu").fill("Salle Louise-Michel");
  await secretary.page.getByLabel("Commune").fill("Lille");
  await secretary.page.getByLabel("Nombre de places (vide : sans limite)").fill("30");
  await secretary.page.getByLabel("Répétition").selectOption("FREQ=MONTHLY;BYDAY=1TU");
  await secretary.page.getByRole("button", { name: "Créer l'événement" }).click();
  await secretary.page.waitForURL(/notice=created/);
  t.equal(await secretary.page.locator("h1").textContent(), "Assemblée générale");
  t.match(await secretary.page.locator("main").textContent(), "Élection du bureau");
  const eventUrl = secretary.page.url().replace(/\?.*/, "");
  // The place and calendar marks are drawn (an emoji is an empty box without an emoji font), at text size, hidden from screen readers.
  t.notMatch(await secretary.page.locator("main").textContent(), /📍|📅/u, "no emoji marks");
  for (const width of [390, 1280]) {
    await secretary.page.setViewportSize({ width, height: 800 });
    const icons = await secretary.page.locator("main svg.icon").evaluateAll((svgs) => svgs.map((svg) => ({ hidden: svg.getAttribute("aria-hidden"), size: svg.getBoundingClientRect().width })));
    t.ok(icons.length >= 2 && icons.every((i) => i.hidden === "true" && i.size > 8 && i.size <= 24), `the pin and the calendar icons at ${width} px`);
    t.same(await horizontalOverflow(secretary.page), { px: 0, culprits: [] }, `nothing wider than the page at ${width} px`);
  }

  await secretary.page.goto(`${instance.origin}/agenda?month=2027-03`);
  t.match(await secretary.page.locator("table.month").textContent(), "Assemblée générale", "the March occurrence in the month view");
  t.same(await accessibilityProblems(secretary.page), [], "the month view");

  const member = await person();
  await login(member.page, "marc");
  await member.page.goto(eventUrl);
  await member.page.getByRole("button", { name: "Je viens" }).click();
  await member.page.waitForURL(/notice=going/);
  t.match(await member.page.locator("#attendance").textContent(), "1 personne(s) inscrite(s) · 29 place(s) restante(s)");
  const ics = await member.page.request.get(`${eventUrl}.ics`);
  t.match(await ics.text(), "SUMMARY:Assemblée générale");

  await secretary.page.goto(`${eventUrl}/attendees`);
  t.match(await secretary.page.locator("table").textContent(), "Marc Militant");
  for (const p of [secretary, member]) await p.context.close();
});
