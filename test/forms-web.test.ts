// Forms as people expect them, in a real Chromium against a real instance: a
// form the server refuses comes back with everything typed still there and
// the reason in plain words.
import t from "tap";
import { type Browser } from "playwright-core";
import { launchChromium } from "./helpers/chromium.ts";
import { PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";

let a: TestInstance;
let browser: Browser;

t.before(async () => {
  a = await startInstance("forms-web");
  a.addMember("sec", "secretary");
  browser = await launchChromium();
});

t.teardown(async () => {
  await browser?.close();
  await a?.stop();
});

t.test("a refused event form keeps what was typed", async (t) => {
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await page.goto(`${a.origin}/login`);
  await page.getByLabel("Nom d'utilisateur").fill("sec");
  await page.getByLabel("Mot de passe", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL(`${a.origin}/`);

  await page.goto(`${a.origin}/events/new`);
  await page.getByLabel("Titre", { exact: true }).fill("Assemblée générale");
  await page.getByLabel("Début", { exact: true }).fill("2031-05-12T18:30");
  await page.getByLabel("Fin", { exact: true }).fill("2031-05-12T17:00"); // before the start: the server refuses
  await page.getByLabel("Description", { exact: true }).fill("Bilan de l'année et élection du bureau.");
  await page.getByLabel("Nom du lieu").fill("Salle des fêtes");
  await page.getByLabel("Qui peut voir l'événement ?").selectOption("section");
  // The less used fields wait behind « Plus d'options », closed on a new form.
  t.notOk(await page.getByLabel("Répétition").isVisible(), "the repetition is behind « Plus d'options »");
  await page.locator("summary", { hasText: "Plus d'options" }).click();
  await page.getByLabel("Répétition").selectOption("FREQ=MONTHLY;BYDAY=1TU");
  await page.locator("form[action='/events'] button[type=submit]").click();
  await page.waitForLoadState();

  t.ok(await page.getByRole("alert").isVisible(), "the reason is shown");
  t.equal(await page.getByLabel("Titre", { exact: true }).inputValue(), "Assemblée générale");
  t.equal(await page.getByLabel("Début", { exact: true }).inputValue(), "2031-05-12T18:30");
  t.equal(await page.getByLabel("Fin", { exact: true }).inputValue(), "2031-05-12T17:00");
  t.equal(await page.getByLabel("Description", { exact: true }).inputValue(), "Bilan de l'année et élection du bureau.");
  t.equal(await page.getByLabel("Nom du lieu").inputValue(), "Salle des fêtes");
  t.equal(await page.getByLabel("Qui peut voir l'événement ?").inputValue(), "section", "the audience is not reset to public");
  t.ok(await page.getByLabel("Répétition").isVisible(), "« Plus d'options » open again: it holds a typed value");
  t.equal(await page.getByLabel("Répétition").inputValue(), "FREQ=MONTHLY;BYDAY=1TU");

  // Corrected, it goes through with the same values.
  await page.getByLabel("Fin", { exact: true }).fill("2031-05-12T21:00");
  await page.locator("form[action='/events'] button[type=submit]").click();
  await page.waitForURL(/\/events\/\d+\?notice=created/);
  const [row] = a.query<{ title: string; audience: string; place_name: string }>("select title, audience, place_name from events");
  t.same(row, { title: "Assemblée générale", audience: "section", place_name: "Salle des fêtes" });
  await context.close();
});
