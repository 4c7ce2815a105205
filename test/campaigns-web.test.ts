// Campaign, field-action, report and dashboard pages in a real headless
// Chromium (Debian's package, driven by playwright-core) against real
// instance processes: a section for the field work, then a fédération and a
// national node for the dashboards and directives.
import t from "tap";
import { readFileSync } from "node:fs";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { accessibilityProblems, horizontalOverflow, launchChromium, paris } from "./helpers/chromium.ts";
import { PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { CONSENT_TEXT_FR } from "../src/campaigns/results.ts";

let browser: Browser;
const started: TestInstance[] = [];

t.before(async () => {
  browser = await launchChromium();
});

t.teardown(async () => {
  await browser?.close();
  for (const instance of started) await instance.stop();
});

async function start(name: string, env: Record<string, string> = {}): Promise<TestInstance> {
  const instance = await startInstance(name, env);
  started.push(instance);
  return instance;
}

async function person(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: "fr-FR", acceptDownloads: true });
  return { context, page: await context.newPage() };
}

async function login(page: Page, instance: TestInstance, username: string): Promise<void> {
  await page.goto(`${instance.origin}/login`);
  await page.getByLabel("Nom d'utilisateur").fill(username);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL(`${instance.origin}/`);
}



const DAY = 86_400_000;

t.test("a section: campaign, action with shifts, sign-up, results, contact, report", async (t) => {
  const section = await start("campagnes");
  section.addMember("sophie", "secretary");
  section.addMember("marc", "member");
  section.addMember("sam", "sympathisant");

  const secretary = await person();
  const page = secretary.page;
  await login(page, section, "sophie");
  await page.getByRole("link", { name: "Campagnes", exact: true }).first().click();
  await page.waitForURL(`${section.origin}/campaigns`);
  t.equal(await page.locator("h1").textContent(), "Campagnes");
  t.same(await accessibilityProblems(page), [], "campaign list");
  t.equal(await page.getByRole("link", { name: "Tableau de bord" }).count(), 0, "no dashboard on a section");

  // The campaign.
  await page.getByLabel("Titre").fill("Municipales 2026");
  await page.getByLabel("Description").fill("Faire connaître notre programme.");
  await page.getByLabel("Début").fill(paris(-7 * DAY));
  await page.getByLabel("Fin (facultatif)").fill(paris(30 * DAY));
  await page.getByLabel("Portes frappées").fill("1000");
  await page.getByLabel("Tracts distribués").fill("5000");
  await page.getByLabel("Matériel (tracts, argumentaires…)").fill("Tract recto-verso https://exemple.org/tract.pdf\nhttps://exemple.org/argumentaire.pdf");
  await page.getByRole("button", { name: "Créer la campagne" }).click();
  await page.waitForURL(/\/campaigns\/\d+\?notice=created$/);
  const campaignUrl = page.url().replace(/\?.*$/, "");
  t.equal(await page.locator("h1").textContent(), "Municipales 2026");
  t.match(await page.locator(".notice").textContent(), "Campagne créée.");
  t.equal(await page.getByRole("link", { name: "Tract recto-verso" }).getAttribute("href"), "https://exemple.org/tract.pdf");
  t.match(await page.locator("main").textContent(), "0 sur 1000 (0 %)", "progress against the goal");

  // The action, started an hour ago so that results can be recorded, with two shifts.
  await page.getByRole("link", { name: "Organiser une action" }).click();
  // The click only starts the navigation: the form must be there before it is checked.
  await page.waitForURL(/\/campaigns\/\d+\/actions\/new$/);
  t.same(await accessibilityProblems(page), [], "action form");
  await page.getByLabel("Type d'action").selectOption("door_to_door");
  await page.getByLabel("Titre").fill("Porte-à-porte quartier Nord");
  await page.getByLabel("Début").fill(paris(-3_600_000, true));
  await page.getByLabel("Point de rendez-vous").fill("Place de la Mairie");
  await page.getByLabel("Secteur").fill("Rue Victor-Hugo\nBureaux de vote 12 et 13");
  await page.locator("#shift-start_1").fill("10:00");
  await page.locator("#shift-end_1").fill("12:00");
  await page.locator("#shift-capacity_1").fill("2");
  await page.locator("#shift-start_2").fill("14:00");
  await page.locator("#shift-end_2").fill("16:00");
  await page.getByRole("button", { name: "Créer l'action" }).click();
  await page.waitForURL(/\/actions\/\d+\?notice=created$/);
  const actionUrl = page.url().replace(/\?.*$/, "");
  t.equal(await page.locator("h1").textContent(), "Porte-à-porte quartier Nord");
  t.equal(await page.locator("ul.shifts > li").count(), 2, "two shifts");
  t.match(await page.locator("ul.shifts > li").first().textContent(), "0 inscrit·e(s) sur 2 places");
  t.same(await accessibilityProblems(page), [], "action page");

  // Before any result, the action is among those awaiting results for its coordinator.
  await page.goto(`${section.origin}/actions`);
  t.match(await page.locator("#awaiting + p + ul").textContent(), "Porte-à-porte quartier Nord");

  // A member signs up for the first shift, withdraws, signs up again.
  const member = await person();
  await login(member.page, section, "marc");
  await member.page.goto(actionUrl);
  await member.page.getByRole("button", { name: "Je m'inscris" }).first().click();
  await member.page.waitForURL(/notice=signed_up/);
  const first = member.page.locator("ul.shifts > li").first();
  t.match(await first.textContent(), "1 inscrit·e(s) sur 2 places");
  t.match(await first.textContent(), "marc");
  await first.getByRole("button", { name: "Je me désinscris" }).click();
  await member.page.waitForURL(/notice=withdrawn/);
  t.match(await member.page.locator("ul.shifts > li").first().textContent(), "0 inscrit·e(s)");
  await member.page.getByRole("button", { name: "Je m'inscris" }).first().click();
  await member.page.waitForURL(/notice=signed_up/);
  await member.page.goto(`${section.origin}/actions`);
  t.match(await member.page.locator("main").textContent(), "Mes créneaux");
  t.equal(await member.page.locator("h2:has-text('Mes créneaux') + ul li").count(), 1, "the action is among the member's shifts");
  t.equal(await member.page.locator("#awaiting").count(), 0, "a member owes no results");
  await member.context.close();

  // The secretary records the results.
  await page.goto(actionUrl);
  await page.getByLabel("Portes frappées").fill("120");
  await page.getByLabel("Conversations").fill("35");
  await page.getByLabel("Tracts distribués").fill("300");
  await page.getByLabel("Commentaire").fill("Bon accueil rue Victor-Hugo.");
  await page.getByRole("button", { name: "Enregistrer les résultats" }).click();
  await page.waitForURL(/notice=result_saved/);
  t.match(await page.locator(".notice").textContent(), "Résultats enregistrés");
  t.match(await page.locator("#results ~ .table-wrap").first().textContent(), "Bon accueil rue Victor-Hugo.");
  t.equal(section.query<{ doors: number }>("select doors from action_results")[0]?.doors, 120);

  // A contact without the consent box ticked is refused, in plain words, the form kept (and unfolded).
  await page.getByText("Ajouter un contact").click();
  await page.getByLabel("Nom", { exact: true }).fill("Jeanne Dupont");
  await page.getByLabel("E-mail").fill("jeanne@example.org");
  const refused = page.waitForResponse((r) => r.url().endsWith("/contacts"));
  await page.getByRole("button", { name: "Enregistrer le contact" }).click();
  t.equal((await refused).status(), 422);
  await page.waitForLoadState();
  t.match(await page.locator(".error").textContent(), "la personne doit avoir donné son accord");
  t.equal(await page.getByLabel("Nom", { exact: true }).inputValue(), "Jeanne Dupont", "the form keeps what was typed");
  t.equal(section.query("select 1 from field_contacts").length, 0, "nothing stored without consent");
  await page.getByLabel(CONSENT_TEXT_FR).check();
  await page.getByRole("button", { name: "Enregistrer le contact" }).click();
  await page.waitForURL(/notice=contact_added/);
  t.match(await page.locator("#contacts ~ .table-wrap").first().textContent(), "jeanne@example.org");
  t.equal(section.query<{ consent: string }>("select consent from field_contacts")[0]?.consent, CONSENT_TEXT_FR);

  // The campaign's progress now counts the results.
  await page.goto(campaignUrl);
  t.match(await page.locator("main").textContent(), "120 sur 1000 (12 %)");
  t.match(await page.locator("main").textContent(), "300 sur 5000 (6 %)");

  // A report: there is no fédération, so it waits.
  await page.goto(`${section.origin}/reports`);
  t.same(await accessibilityProblems(page), [], "reports page");
  t.match(await page.locator("main").textContent(), "pas encore reliée à la fédération");
  await page.getByLabel("Type").selectOption("field");
  await page.getByLabel("Titre").fill("Bilan du porte-à-porte");
  await page.getByLabel("Texte").fill("Cent vingt portes.\n\nBon accueil.");
  await page.getByLabel("Envoyer aussi au national").check();
  await page.getByRole("button", { name: "Envoyer le rapport" }).click();
  await page.waitForURL(/\/reports\/\d+\?notice=sent$/);
  t.equal(await page.locator("h1").textContent(), "Bilan du porte-à-porte");
  t.match(await page.locator(".report-status").textContent(), "en attente : pas encore reçu par la fédération");
  t.match(await page.locator("table").textContent(), "Porte-à-porte", "the figures are attached");
  t.match(await page.locator("table").textContent(), "120");
  await page.goto(`${section.origin}/reports`);
  t.match(await page.locator(".reports-sent").textContent(), "en attente");

  // The hierarchy page, explained to the secretary.
  await page.goto(`${section.origin}/territory`);
  t.same(await accessibilityProblems(page), [], "territory page");
  t.match(await page.locator("main").textContent(), "Aucun niveau au-dessus n'est déclaré");
  t.match(await page.locator("main").textContent(), "COOPOL_PARENT");
  const dashboard = await page.goto(`${section.origin}/dashboard`);
  t.equal(dashboard?.status(), 404, "no dashboard on a section");
  await secretary.context.close();

  // A sympathisant sees none of it.
  const sympathisant = await person();
  await login(sympathisant.page, section, "sam");
  t.equal(await sympathisant.page.getByRole("link", { name: "Campagnes", exact: true }).count(), 0, "no link in the menu");
  for (const path of ["/campaigns", "/actions", new URL(actionUrl).pathname, "/reports", "/directives", "/territory"]) {
    const res = await sympathisant.page.goto(`${section.origin}${path}`);
    t.equal(res?.status(), 403, `403 on ${path}`);
  }
  t.match(await sympathisant.page.locator(".error").textContent(), "réservées aux adhérent·e·s");
  await sympathisant.context.close();

  // Visitors are sent to the login page.
  const visitor = new WebSession(section.origin);
  const anonymous = await visitor.get("/campaigns");
  t.equal(anonymous.status, 302);
  t.match(anonymous.location, "/login?next=");
});

t.test("a fédération: dashboard, CSV export, directives; national: the map", async (t) => {
  const federation = await start("federation", {
    COOPOL_KIND: "federation",
    COOPOL_NAME: "Fédération de Paris",
    COOPOL_HANDLE: "federation_75",
    COOPOL_TERRITORY: "75",
    // A declared section that does not answer: its row shows the link state.
    COOPOL_CHILDREN: "section_absente@127.0.0.1:9",
  });
  federation.addMember("fanny", "secretary");
  const { context, page } = await person();
  await login(page, federation, "fanny");

  // A campaign with a goal, so that the dashboard draws its chart.
  await page.goto(`${federation.origin}/campaigns`);
  await page.getByLabel("Titre").fill("Rentrée militante");
  await page.getByLabel("Début").fill(paris(-DAY));
  await page.getByLabel("Tracts distribués").fill("20000");
  await page.getByRole("button", { name: "Créer la campagne" }).click();
  await page.waitForURL(/\/campaigns\/\d+\?notice=created$/);
  t.match(await page.locator("main").textContent(), "Fédération", "level badge");

  await page.getByRole("link", { name: "Tableau de bord" }).first().click();
  await page.waitForURL(`${federation.origin}/dashboard`);
  t.equal(await page.locator("h1").textContent(), "Tableau de bord de la fédération");
  t.equal(await page.locator("header .brand span").textContent(), "Le réseau social de la fédération", "a fédération never calls itself « la section »");
  t.ok(await page.locator("nav").getByRole("link", { name: "Fédération", exact: true }).isVisible(), "nor in its navigation");
  t.same(await accessibilityProblems(page), [], "dashboard");
  t.equal((await horizontalOverflow(page)).px, 0, "the page never scrolls sideways");
  const mainWidth = await page.locator("main").evaluate((m) => m.getBoundingClientRect().width);
  t.ok(mainWidth > 1000, `at 1280 px the dashboard uses the width (${mainWidth} px)`);
  t.equal(await page.locator(".table-wrap[role=region][tabindex='0']").count(), 1, "its table scrolls in its own box, reachable by keyboard");
  const table = await page.locator("table.dashboard").textContent();
  t.match(table, "section_absente@127.0.0.1:9", "the declared section has its row");
  t.match(table, "Total");
  t.match(await page.locator("main").textContent(), "Rentrée militante");
  t.equal(await page.locator("figure.chart").count(), 1, "a chart of results against goals");
  t.match(await page.locator("figure.chart table").textContent(), "Tracts distribués");

  // The CSV downloads as an attachment.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Télécharger le tableau (CSV)" }).click()]);
  t.match(download.suggestedFilename(), /^tableau-de-bord-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync((await download.path())!, "utf8");
  t.match(csv, /^\ufeffnom;compte;territoire;membres;/);
  t.match(csv, "section_absente@127.0.0.1:9");

  // Directives: an announcement and a proposed action go to the overseen sections.
  await page.goto(`${federation.origin}/directives`);
  t.same(await accessibilityProblems(page), [], "directives page");
  await page.getByLabel("Type", { exact: true }).selectOption("action_proposal");
  await page.getByLabel("Titre").fill("Tractage devant les gares");
  await page.getByLabel("Texte").fill("Samedi matin, toutes les sections.");
  await page.getByLabel("Type d'action").selectOption("leafleting");
  await page.getByLabel("Campagne").selectOption({ label: "Rentrée militante" });
  await page.getByLabel("Date et heure (heure de Paris)").fill(paris(5 * DAY, true));
  await page.getByLabel("Point de rendez-vous").fill("Gare du Nord");
  await page.getByRole("button", { name: "Envoyer" }).click();
  await page.waitForURL(/\/directives\?notice=sent$/);
  t.match(await page.locator("main").textContent(), "Tractage devant les gares");
  t.match(await page.locator("main").textContent(), "Gare du Nord");
  await context.close();

  // The national dashboard draws the map of fédérations.
  const national = await start("national", { COOPOL_KIND: "national", COOPOL_NAME: "National", COOPOL_HANDLE: "national" });
  national.addMember("nina", "admin");
  const session = new WebSession(national.origin);
  await session.login("nina", PASSWORD);
  const board = await session.get("/dashboard");
  t.equal(board.status, 200);
  t.match(board.body, "Tableau de bord national");
  t.match(board.body, "Le réseau social du national");
  t.match(board.body, /<figure class="territory-map"/);
  const csvRes = await session.get("/dashboard.csv");
  t.equal(csvRes.status, 200);
  t.match(csvRes.body, "sections");
});
