// The whole journey of issue 12 in a real headless Chromium, by clicking and
// typing as people do, across two real instances: a section S and its
// fédération F, linked. The secretary sets S up from the first-run link,
// invites a member, plans a meeting, opens a group and a campaign with an
// action and its shifts; the member joins from the invitation, answers the
// meeting, posts in the group, signs up for a shift, reports results and
// changes their password; the secretary reads the notifications, changes a
// role and sends a report, which F's manager sees arrive.
//
// Every page visited is checked at 390 px and 1280 px (`checkPage`): no
// serious or critical axe-core violation, nothing scrolling sideways, and a
// screenshot under test-artifacts/screenshots/. With
// COOPOL_DOC_SCREENSHOTS=docs/images the guide's pictures are made again.
import t from "tap";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { SCREENSHOTS_DIR, checkPage, launchChromium, paris } from "./helpers/chromium.ts";
import { PASSWORD, eventually, freePort, startInstance, type TestInstance } from "./helpers/instances.ts";

let browser: Browser;
let section: TestInstance;
let federation: TestInstance;
const contexts: BrowserContext[] = [];

t.before(async () => {
  const ports = { s: await freePort(), f: await freePort() };
  const handle = { s: `section_nord@127.0.0.1:${ports.s}`, f: `federation_59@127.0.0.1:${ports.f}` };
  // The section first: the fédération asks its declared sections for the link as it starts.
  [section, browser] = await Promise.all([
    startInstance("nord", { PORT: String(ports.s), COOPOL_NAME: "Section Lille Nord", COOPOL_HANDLE: "section_nord", COOPOL_TERRITORY: "59350", COOPOL_PARENT: handle.f }),
    launchChromium(),
  ]);
  // Setup, not the journey: the section's node actor answers once before the
  // fédération looks it up (its keys are made on first use, slow on a busy machine).
  const finger = (await (await fetch(`${section.origin}/.well-known/webfinger?resource=acct:${handle.s}`)).json()) as { links: Array<{ rel: string; href: string }> };
  await fetch(finger.links.find((l) => l.rel === "self")!.href, { headers: { accept: "application/activity+json" } });
  federation = await startInstance("f59", { PORT: String(ports.f), COOPOL_KIND: "federation", COOPOL_NAME: "Fédération du Nord", COOPOL_HANDLE: "federation_59", COOPOL_TERRITORY: "59", COOPOL_CHILDREN: handle.s });
  federation.addMember("fanny", "secretary");
});

t.teardown(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  await Promise.all([section, federation].filter(Boolean).map((i) => i.stop()));
  console.log(`# screenshots: ${join(new URL("..", import.meta.url).pathname, SCREENSHOTS_DIR)}`);
});

/** Follows a link of the navigation as on a phone: the secondary ones wait behind « Menu ». */
async function navigate(page: Page, name: string): Promise<void> {
  const narrow = page.locator(".nav-narrow");
  const link = narrow.getByRole("link", { name, exact: true });
  if (!(await link.isVisible())) await narrow.locator("summary").click();
  await link.click();
  await page.waitForLoadState();
}

async function person(): Promise<Page> {
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 390, height: 844 } });
  contexts.push(context);
  return context.newPage();
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NEW_PASSWORD = "un tout nouveau mot de passe";

t.test("the journey of a section's secretary, a member and the fédération", async (t) => {
  const check = async (page: Page, name: string, docImage?: string, docFrom?: string) => t.same(await checkPage(page, name, { docImage, docFrom }), [], `${name}: accessible, no sideways scroll`);

  // --- The secretary sets the section up from the first-run link. ---
  const sec = await person();
  t.ok(section.setupUrl, "the first start printed a setup link");
  await sec.goto(section.setupUrl!);
  await check(sec, "01-setup", "journey-01-setup");
  await sec.getByLabel("Nom affiché").fill("Sophie Martin");
  await sec.getByLabel("Nom d'utilisateur").fill("sophie");
  await sec.getByLabel("Mot de passe").fill(PASSWORD);
  await sec.getByRole("button", { name: "Créer le compte" }).click();
  await sec.waitForURL(`${section.origin}/`);
  await check(sec, "02-home-secretary");

  // Invites a member: the link is shown once, with a copy button.
  await navigate(sec, "Membres");
  await check(sec, "03-members");
  await navigate(sec, "Inviter");
  await sec.getByRole("button", { name: "Créer un lien d'invitation" }).click();
  const inviteUrl = (await sec.locator("#invitation-link").textContent())!.trim();
  t.match(inviteUrl, `${section.origin}/invite/`);
  await sec.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: section.origin });
  await sec.getByRole("button", { name: "Copier le lien" }).click();
  t.equal(await sec.evaluate("navigator.clipboard.readText()"), inviteUrl, "the copy button puts the link in the clipboard");
  await check(sec, "04-invitation", "journey-03-invitation");

  // Plans a meeting.
  await navigate(sec, "Agenda");
  await check(sec, "05-agenda");
  await sec.getByRole("link", { name: "Nouvel événement" }).click();
  await check(sec, "05-event-form");
  await sec.getByLabel("Titre", { exact: true }).fill("Réunion de section");
  await sec.getByLabel("Début", { exact: true }).fill(paris(3 * DAY, true));
  await sec.getByLabel("Fin", { exact: true }).fill(paris(3 * DAY + 2 * HOUR, true));
  await sec.getByLabel("Description", { exact: true }).fill("Préparation de la campagne de rentrée.");
  await sec.getByLabel("Nom du lieu").fill("Maison des associations");
  await sec.locator("form[action='/events'] button[type=submit]").click();
  await sec.waitForURL(/\/events\/\d+/);
  const eventUrl = sec.url().replace(/\?.*$/, "");
  await check(sec, "06-event", "journey-04-event");

  // Opens a group.
  await navigate(sec, "Groupes");
  await check(sec, "07-groups");
  await sec.getByRole("link", { name: "Proposer un groupe" }).click();
  await check(sec, "07-group-form");
  await sec.getByLabel("Nom du groupe").fill("Logement");
  await sec.getByLabel("Description").fill("Loyers, logement social, habitat indigne.");
  await sec.getByRole("button", { name: "Créer le groupe" }).click();
  await sec.waitForURL(/\/groups\/logement/);
  const groupUrl = `${section.origin}/groups/logement`;
  await check(sec, "08-group");

  // Opens a campaign, with an action started an hour ago and two shifts.
  await navigate(sec, "Campagnes");
  await check(sec, "09-campaigns");
  await sec.getByLabel("Titre").fill("Rentrée 2026");
  await sec.getByLabel("Début").fill(paris(-7 * DAY));
  await sec.getByLabel("Fin (facultatif)").fill(paris(30 * DAY));
  await sec.getByLabel("Portes frappées").fill("1000");
  await sec.getByRole("button", { name: "Créer la campagne" }).click();
  await sec.waitForURL(/\/campaigns\/\d+\?notice=created$/);
  await check(sec, "10-campaign", "journey-05-campaign");
  await sec.getByRole("link", { name: "Organiser une action" }).click();
  await check(sec, "11-action-form");
  await sec.getByLabel("Type d'action").selectOption("door_to_door");
  await sec.getByLabel("Titre").fill("Porte-à-porte Fives");
  await sec.getByLabel("Début").fill(paris(-HOUR, true));
  await sec.getByLabel("Point de rendez-vous").fill("Métro Fives");
  await sec.locator("#shift-start_1").fill("10:00");
  await sec.locator("#shift-end_1").fill("12:00");
  await sec.locator("#shift-capacity_1").fill("4");
  await sec.locator("#shift-start_2").fill("14:00");
  await sec.locator("#shift-end_2").fill("16:00");
  await sec.getByRole("button", { name: "Créer l'action" }).click();
  await sec.waitForURL(/\/actions\/\d+\?notice=created$/);
  const actionUrl = sec.url().replace(/\?.*$/, "");
  await check(sec, "12-action");

  // --- The member joins from the invitation link. ---
  const mem = await person();
  await mem.goto(inviteUrl);
  await check(mem, "13-invite", "journey-06-invite");
  await mem.getByLabel("Nom affiché").fill("Karim Benali");
  await mem.getByLabel("Nom d'utilisateur").fill("karim");
  await mem.getByLabel("Mot de passe").fill(PASSWORD);
  await mem.getByRole("button", { name: "Créer mon compte" }).click();
  await mem.waitForURL(`${section.origin}/`);
  await check(mem, "14-home-member");

  // Answers the meeting.
  await mem.goto(eventUrl);
  await mem.getByRole("button", { name: "Je viens" }).click();
  await mem.waitForURL(/\/events\/\d+/);
  t.ok(await mem.getByRole("button", { name: "Je viens", pressed: true }).isVisible(), "the answer is shown");
  await check(mem, "15-event-member");

  // Joins the group and posts.
  await mem.goto(groupUrl);
  await mem.getByRole("button", { name: "Rejoindre" }).first().click();
  await mem.getByLabel("Sujet").fill("Permanence logement");
  await mem.getByLabel("Votre message").fill("Je propose une permanence le samedi matin.");
  await mem.getByRole("button", { name: "Publier dans le groupe" }).click();
  await eventually(async () => {
    await mem.goto(groupUrl);
    return (await mem.locator("main").textContent())?.includes("Permanence logement");
  }, 15_000, "the thread is in the group");
  await check(mem, "16-group-member", "journey-07-group");

  // Signs up for a shift and reports results.
  await mem.goto(actionUrl);
  await mem.getByRole("button", { name: "Je m'inscris" }).first().click();
  await mem.waitForURL(/notice=signed_up/);
  await mem.getByLabel("Portes frappées").fill("80");
  await mem.getByLabel("Conversations").fill("25");
  await mem.getByRole("button", { name: "Enregistrer les résultats" }).click();
  await mem.waitForURL(/notice=result_saved/);
  await check(mem, "17-action-member", "journey-08-results", "#results");

  // Changes their password.
  await navigate(mem, "Réglages");
  await check(mem, "18-settings");
  await mem.getByRole("link", { name: "Changer mon mot de passe" }).click();
  await check(mem, "18-password");
  await mem.getByLabel("Mot de passe actuel").fill(PASSWORD);
  await mem.getByLabel("Nouveau mot de passe").fill(NEW_PASSWORD);
  await mem.getByRole("button", { name: "Changer le mot de passe" }).click();
  t.match(await mem.getByRole("status").textContent(), "Votre mot de passe est changé");

  // --- The secretary reads the notifications and manages the member. ---
  await sec.getByRole("link", { name: /^Notifications/ }).first().click();
  await sec.waitForURL(/\/notifications/);
  const notifications = await sec.locator("main").textContent();
  t.match(notifications, "s'est inscrit·e à un créneau de l'action Porte-à-porte Fives");
  t.match(notifications, "a saisi des résultats pour l'action Porte-à-porte Fives");
  await check(sec, "19-notifications", "journey-09-notifications");
  await sec.getByRole("link", { name: "Voir la liste des participant·es" }).first().click();
  t.match(await sec.locator("main").textContent(), "Karim Benali", "the meeting's attendee list");
  await check(sec, "19-attendees");
  await sec.goto(groupUrl);
  await sec.getByRole("link", { name: /^Gérer le groupe/ }).click();
  await check(sec, "19-group-manage");
  await sec.locator(".subnav").getByRole("link", { name: "Réglages du groupe" }).click();
  await sec.getByLabel("Règles de la discussion").fill("Pas d'attaques personnelles.");
  await sec.getByRole("button", { name: "Enregistrer" }).click();
  await sec.waitForURL(/\/groups\/logement\/manage\/settings\?notice=saved$/);
  await check(sec, "19-group-settings");

  await navigate(sec, "Membres");
  // On a phone the controls of a row wait behind its « Gérer ».
  await sec.locator("tr", { hasText: "@karim" }).locator("summary").click();
  await sec.locator("#role-karim").selectOption("moderator");
  await sec.locator("form[action='/members/karim/role'] button").click();
  t.match(await sec.getByRole("status").textContent(), /karim.*Modérateur·rice/);
  await check(sec, "20-members-role", "journey-10-members");
  t.equal(section.query<{ role: string }>("select role from users where username = 'karim'")[0]?.role, "moderator");

  // Sends a report to the fédération, once the two are linked.
  await eventually(() => section.query<{ state: string }>("select state from territory_links where role = 'parent'")[0]?.state === "linked", 30_000, "the section is linked to its fédération");
  await navigate(sec, "Campagnes");
  await sec.locator(".subnav").getByRole("link", { name: "Rapports" }).click();
  await check(sec, "21-reports");
  await sec.getByLabel("Type").selectOption("field");
  await sec.getByLabel("Titre").fill("Bilan de la rentrée à Fives");
  await sec.getByLabel("Texte").fill("Quatre-vingts portes frappées.\n\nBon accueil.");
  await sec.getByRole("button", { name: "Envoyer le rapport" }).click();
  await sec.waitForURL(/\/reports\/\d+\?notice=sent$/);
  await check(sec, "22-report");

  // --- The fédération's manager sees the report arrive. ---
  const fed = await person();
  await fed.goto(`${federation.origin}/login`);
  await fed.getByLabel("Nom d'utilisateur").fill("fanny");
  await fed.getByLabel("Mot de passe").fill(PASSWORD);
  await fed.getByRole("button", { name: "Se connecter" }).click();
  await fed.waitForURL(`${federation.origin}/`);
  await eventually(async () => {
    await fed.goto(`${federation.origin}/notifications`);
    return (await fed.locator("main").textContent())?.includes("Bilan de la rentrée à Fives");
  }, 20_000, "the report's notification");
  t.match(await fed.locator("main").textContent(), "vous a envoyé un rapport");
  await check(fed, "23-federation-notifications");
  await navigate(fed, "Tableau de bord");
  await fed.waitForURL(`${federation.origin}/dashboard`);
  t.match(await fed.locator("main").textContent(), "Bilan de la rentrée à Fives");
  await check(fed, "24-dashboard", "journey-11-dashboard");

  // The member's new password works, the old one no longer does.
  await mem.context().clearCookies();
  await mem.goto(`${section.origin}/login`);
  await mem.getByLabel("Nom d'utilisateur").fill("karim");
  await mem.getByLabel("Mot de passe").fill(NEW_PASSWORD);
  await mem.getByRole("button", { name: "Se connecter" }).click();
  await mem.waitForURL(`${section.origin}/`);
  t.ok(await mem.locator("form[action='/logout']").count(), "logged in with the new password");
});
