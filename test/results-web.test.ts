// Field results as a secretary corrects them, in a real Chromium against two
// real instances (a section linked to its fédération): a result is corrected
// from a pre-filled form and the fédération replaces the figures rather than
// adding them; an action dated outside its campaign is refused with what was
// typed kept (web and Coopol API); the fédération names the section's own
// campaign on its dashboard and in the section's report.
import t from "tap";
import { type Browser, type Page } from "playwright-core";
import { launchChromium, paris } from "./helpers/chromium.ts";
import { eventually, freePort, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";

let browser: Browser;
let section: TestInstance;
let federation: TestInstance;

const DAY = 86_400_000;
const CAMPAIGN = "Campagne locale : pistes cyclables";


t.before(async () => {
  const ports = { section: await freePort(), federation: await freePort() };
  const handles = { section: `section_velo@127.0.0.1:${ports.section}`, federation: `federation_75@127.0.0.1:${ports.federation}` };
  browser = await launchChromium();
  section = await startInstance("resultats", { PORT: String(ports.section), COOPOL_HANDLE: "section_velo", COOPOL_NAME: "Section Paris 11", COOPOL_PARENT: handles.federation });
  federation = await startInstance("federation-resultats", {
    PORT: String(ports.federation),
    COOPOL_HANDLE: "federation_75",
    COOPOL_KIND: "federation",
    COOPOL_NAME: "Fédération de Paris",
    COOPOL_CHILDREN: handles.section,
  });
  section.addMember("sophie", "secretary");
  section.addMember("marc", "member");
  federation.addMember("fanny", "secretary");
  await eventually(() => section.query<{ state: string }>("select state from territory_links where role = 'parent'")[0]?.state === "linked", 90_000, "section linked to its fédération");
});

t.teardown(async () => {
  await browser?.close();
  await section?.stop();
  await federation?.stop();
});

async function login(instance: TestInstance, username: string, locale = "fr-FR"): Promise<Page> {
  const context = await browser.newContext({ locale });
  const page = await context.newPage();
  await page.goto(`${instance.origin}/login`);
  await page.getByLabel("Nom d'utilisateur").or(page.getByLabel("Username")).fill(username);
  await page.getByLabel("Mot de passe").or(page.getByLabel("Password")).fill(PASSWORD);
  await page.locator("form[action^='/login'] button[type=submit]").click();
  await page.waitForURL(`${instance.origin}/`);
  return page;
}

let campaignId = 0;
let actionUrl = "";

t.test("an action dated outside its campaign is refused, what was typed kept", async (t) => {
  const page = await login(section, "sophie");
  await page.goto(`${section.origin}/campaigns`);
  await page.getByLabel("Titre").fill(CAMPAIGN);
  await page.getByLabel("Début").fill(paris(-7 * DAY));
  await page.getByLabel("Fin (facultatif)").fill(paris(30 * DAY));
  await page.getByLabel("Portes frappées").fill("1000");
  await page.getByRole("button", { name: "Créer la campagne" }).click();
  await page.waitForURL(/\/campaigns\/\d+\?notice=created$/);
  campaignId = Number(/\/campaigns\/(\d+)/.exec(page.url())![1]);

  // Ten days before the campaign starts.
  await page.getByRole("link", { name: "Organiser une action" }).click();
  await page.getByLabel("Type d'action").selectOption("door_to_door");
  await page.getByLabel("Titre").fill("Porte-à-porte rue Oberkampf");
  await page.getByLabel("Début").fill(paris(-10 * DAY, true));
  await page.getByLabel("Point de rendez-vous").fill("Métro Parmentier");
  await page.getByLabel("Secteur").fill("Bureaux de vote 1101 à 1104");
  await page.locator("#shift-start_1").fill("10:00");
  await page.locator("#shift-end_1").fill("12:00");
  await page.locator("#shift-capacity_1").fill("4");
  const refused = page.waitForResponse((r) => r.url().endsWith(`/campaigns/${campaignId}/actions`));
  await page.getByRole("button", { name: "Créer l'action" }).click();
  t.equal((await refused).status(), 422);
  await page.waitForLoadState();
  t.match(await page.getByRole("alert").textContent(), `avant le début de la campagne, le ${paris(-7 * DAY).split("-").reverse().join("/")}`, "the reason, with the campaign's first day");
  t.equal(await page.getByLabel("Type d'action").inputValue(), "door_to_door");
  t.equal(await page.getByLabel("Titre").inputValue(), "Porte-à-porte rue Oberkampf");
  t.equal(await page.getByLabel("Début").inputValue(), paris(-10 * DAY, true));
  t.equal(await page.getByLabel("Point de rendez-vous").inputValue(), "Métro Parmentier");
  t.equal(await page.getByLabel("Secteur").inputValue(), "Bureaux de vote 1101 à 1104");
  t.equal(await page.locator("#shift-capacity_1").inputValue(), "4", "the shifts too");
  t.equal(section.query("select 1 from field_actions").length, 0, "nothing stored");

  // Corrected: an hour ago, so that results can be recorded.
  await page.getByLabel("Début").fill(paris(-3_600_000, true));
  await page.getByRole("button", { name: "Créer l'action" }).click();
  await page.waitForURL(/\/actions\/\d+\?notice=created$/);
  actionUrl = page.url().replace(/\?.*$/, "");
  t.equal(await page.locator("ul.shifts > li").count(), 1);

  // Editing it to after the campaign's end is refused the same way.
  await page.getByRole("link", { name: "Modifier l'action" }).click();
  await page.getByLabel("Début").fill(paris(40 * DAY, true));
  await page.getByLabel("Titre").fill("Porte-à-porte rue Oberkampf (reporté)");
  const edited = page.waitForResponse((r) => r.url() === actionUrl && r.request().method() === "POST");
  await page.getByRole("button", { name: "Enregistrer" }).click();
  t.equal((await edited).status(), 422);
  await page.waitForLoadState();
  t.match(await page.getByRole("alert").textContent(), "après la fin de la campagne");
  t.equal(await page.getByLabel("Titre").inputValue(), "Porte-à-porte rue Oberkampf (reporté)");
  t.equal(await page.getByLabel("Début").inputValue(), paris(40 * DAY, true));
  t.equal(section.query<{ title: string }>("select title from field_actions")[0]?.title, "Porte-à-porte rue Oberkampf", "unchanged");
  await page.context().close();

  // The Coopol API applies the same rule, in the app's language.
  const token = await apiToken(section.origin, "sophie");
  const res = await fetch(`${section.origin}/api/coopol/v1/actions`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "accept-language": "en" },
    body: JSON.stringify({ campaign_id: campaignId, type: "leafleting", title: "Tractage", start: new Date(Date.now() + 60 * DAY).toISOString() }),
  });
  t.equal(res.status, 422);
  t.match(((await res.json()) as { error: string }).error, "cannot take place after the campaign ends");
});

t.test("a result corrected from a pre-filled form replaces the figures, at the fédération too", async (t) => {
  // Marc signs up, then records his result.
  const marc = await login(section, "marc");
  await marc.goto(actionUrl);
  await marc.getByRole("button", { name: "Je m'inscris" }).click();
  await marc.waitForURL(/notice=signed_up/);
  await marc.getByLabel("Portes frappées").fill("1200");
  await marc.getByLabel("Conversations").fill("30");
  await marc.getByLabel("Commentaire").fill("Bon accueil.");
  await marc.getByRole("button", { name: "Enregistrer les résultats" }).click();
  await marc.waitForURL(/notice=result_saved/);
  // His form now shows what he typed.
  t.equal(await marc.getByLabel("Portes frappées").inputValue(), "1200", "the form comes back pre-filled");
  t.equal(await marc.getByLabel("Commentaire").inputValue(), "Bon accueil.");
  const [first] = section.query<{ uri: string; version: number }>("select uri, version from action_results");
  await eventually(() => federation.query<{ doors: number }>("select doors from action_results where uri = ?", first!.uri)[0]?.doors === 1200, 20_000, "the result reached the fédération");
  await marc.context().close();

  // The secretary sees a typo (1,200 doors for 30 conversations) and corrects it.
  const sophie = await login(section, "sophie");
  await sophie.goto(actionUrl);
  t.equal(await sophie.getByLabel("Portes frappées").inputValue(), "", "her own form is empty: she recorded nothing");
  await sophie.locator("#results ~ .table-wrap").first().getByRole("link", { name: "Corriger" }).click();
  await sophie.waitForURL(/\?correct=\d+#results$/);
  t.match(await sophie.locator("main").textContent(), "Vous corrigez les résultats saisis par marc");
  t.equal(await sophie.getByLabel("Portes frappées").inputValue(), "1200", "pre-filled with Marc's figures");
  t.equal(await sophie.getByLabel("Conversations").inputValue(), "30");
  t.equal(await sophie.getByLabel("Commentaire").inputValue(), "Bon accueil.");

  // A refused correction keeps what she typed and stays a correction.
  await sophie.getByLabel("Portes frappées").fill("-5");
  await sophie.locator("#r-doors").evaluate((input) => input.removeAttribute("min"));
  await sophie.getByRole("button", { name: "Enregistrer les résultats" }).click();
  await sophie.waitForLoadState();
  t.ok(await sophie.getByRole("alert").isVisible(), "the reason is shown");
  t.equal(await sophie.getByLabel("Portes frappées").inputValue(), "-5");
  t.match(await sophie.locator("main").textContent(), "Vous corrigez les résultats saisis par marc");

  await sophie.getByLabel("Portes frappées").fill("120");
  await sophie.getByRole("button", { name: "Enregistrer les résultats" }).click();
  await sophie.waitForURL(/notice=result_saved/);
  const rows = section.query<{ uri: string; doors: number; conversations: number; recorded_by: number; version: number }>("select uri, doors, conversations, recorded_by, version from action_results");
  t.equal(rows.length, 1, "still one result");
  t.equal(rows[0]!.uri, first!.uri, "the same result");
  t.equal(rows[0]!.doors, 120);
  t.equal(rows[0]!.conversations, 30, "figures not retyped are kept");
  t.ok(rows[0]!.version > first!.version, "a newer version");
  const marcId = section.query<{ id: number }>("select id from users where username = 'marc'")[0]!.id;
  t.equal(rows[0]!.recorded_by, marcId, "still Marc's result");
  await sophie.goto(`${section.origin}/campaigns/${campaignId}`);
  t.match(await sophie.locator("main").textContent(), "120 sur 1000 (12 %)");

  // The fédération replaces the figures: 120, not 1,200 + 120.
  await eventually(() => federation.query<{ doors: number }>("select doors from action_results where uri = ?", first!.uri)[0]?.doors === 120, 20_000, "the correction reached the fédération");
  t.equal(federation.query("select 1 from action_results").length, 1, "one result at the fédération");
  t.same(federation.query("select doors, results from result_totals where results > 0"), [{ doors: 120, results: 1 }], "its totals hold the corrected figures only");

  // A report with the figures, for the next test.
  await sophie.goto(`${section.origin}/reports`);
  await sophie.getByLabel("Type").selectOption("field");
  await sophie.getByLabel("Titre").fill("Bilan vélo");
  await sophie.getByLabel("Texte").fill("Cent vingt portes.");
  await sophie.getByRole("button", { name: "Envoyer le rapport" }).click();
  await sophie.waitForURL(/\/reports\/\d+\?notice=sent$/);
  await sophie.context().close();
});

t.test("the fédération names the section's own campaign", async (t) => {
  const campaignUri = section.query<{ uri: string }>("select uri from campaigns")[0]!.uri;
  t.equal(federation.query("select 1 from campaigns where uri = ?", campaignUri).length, 0, "the fédération does not know the campaign");
  t.equal(federation.query<{ campaign_name: string }>("select campaign_name from action_results")[0]?.campaign_name, CAMPAIGN, "the name came with the result");
  await eventually(() => federation.query("select 1 from reports where title = 'Bilan vélo'").length > 0, 20_000, "the report reached the fédération");

  const page = await login(federation, "fanny");
  await page.goto(`${federation.origin}/dashboard`);
  const table = page.locator("table.section-campaigns");
  t.match(await table.textContent(), CAMPAIGN);
  t.match(await table.locator("tbody tr").first().textContent(), "120");
  t.notMatch(await page.locator("main").textContent(), campaignUri, "no URL in its place");

  await page.getByRole("link", { name: "Bilan vélo" }).click();
  await page.waitForURL(/\/reports\/\d+$/);
  const figures = await page.locator("table").textContent();
  t.match(figures, CAMPAIGN, "the report's figures name the campaign");
  t.notMatch(figures, campaignUri);
  await page.context().close();
});
