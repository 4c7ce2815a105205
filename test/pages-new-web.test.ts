// The pages of issues 13–14 in a real headless Chromium, held to issue 12's
// bar (`checkPage` at 390 px and 1280 px: no serious or critical axe-core
// violation, no sideways scroll, a screenshot under test-artifacts/screenshots/):
// a member's /settings/data, the secretary's /members/transfers and member
// removal, the admins' /admin/federation, the party directory, and the host
// operator's /host. Two instances (a national node N, which holds a
// directory, and a section S where a member asks to bring her account from
// N) and one small host process; each main form is used once.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { request } from "undici";
import { checkPage, launchChromium } from "./helpers/chromium.ts";
import { PASSWORD, eventually, freePort, startInstance, type TestInstance } from "./helpers/instances.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const TOKEN = "operator-token-for-page-tests-0123456789";

let browser: Browser;
let national: TestInstance;
let section: TestInstance;
let host: ChildProcess;
let hostPort = 0;
const hostOutput: string[] = [];
const contexts: BrowserContext[] = [];

t.before(async () => {
  [national, section, browser] = await Promise.all([
    startInstance("pn", { COOPOL_KIND: "national", COOPOL_NAME: "Coopol national", COOPOL_HANDLE: "national" }),
    startInstance("ps", { COOPOL_NAME: "Section Lille Nord", COOPOL_HANDLE: "section_nord", COOPOL_TERRITORY: "59350" }),
    launchChromium(),
  ]);
  national.addMember("chief", "admin");
  national.addMember("ana");
  section.addMember("ana");
  section.addMember("sec", "secretary");
  section.addMember("zoe");

  hostPort = await freePort();
  host = spawn(process.execPath, [join(ROOT, "src/host/main.ts")], {
    env: {
      ...process.env,
      COOPOL_HOST_DATA: mkdtempSync(join(tmpdir(), "coopol-pages-host-")),
      HOST: "127.0.0.1",
      PORT: String(hostPort),
      COOPOL_ALLOW_PRIVATE_ADDRESS: "true",
      COOPOL_HOST_ADMIN_TOKEN: TOKEN,
      LOG_LEVEL: process.env.COOPOL_TEST_LOG ?? "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  host.stdout!.on("data", (chunk: Buffer) => hostOutput.push(chunk.toString()));
  host.stderr!.on("data", (chunk: Buffer) => hostOutput.push(chunk.toString()));
  process.once("exit", () => host.kill("SIGKILL"));
  await eventually(async () => {
    if (host.exitCode !== null) throw new Error(`host exited: ${hostOutput.join("")}`);
    const res = await request(`http://127.0.0.1:${hostPort}/host`).catch(() => null);
    await res?.body.dump();
    return res?.statusCode === 200;
  }, 20_000, "the host listens");
});

t.teardown(async () => {
  for (const context of contexts) await context.close();
  await browser?.close();
  if (host && host.exitCode === null) {
    await new Promise<void>((resolve) => {
      host.once("exit", () => resolve());
      host.kill("SIGTERM");
      setTimeout(() => host.kill("SIGKILL"), 5000).unref();
    });
  }
  await Promise.all([national, section].filter(Boolean).map((i) => i.stop()));
});

async function person(): Promise<Page> {
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 390, height: 844 } });
  contexts.push(context);
  return context.newPage();
}

async function logIn(instance: TestInstance, username: string): Promise<Page> {
  const page = await person();
  await page.goto(`${instance.origin}/login`);
  await page.getByLabel("Nom d'utilisateur").fill(username);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.locator("main form button[type=submit]").first().click();
  await page.waitForURL(`${instance.origin}/`);
  return page;
}

/** The filled (primary) buttons of the page's main area, by their words. */
const filledButtons = (page: Page) =>
  page.evaluate(`[...document.querySelectorAll("main button, main a.button")].filter((b) => !b.closest("[hidden]") && !b.classList.contains("secondary") && !b.classList.contains("danger") && !b.classList.contains("link")).map((b) => b.textContent.trim())`) as Promise<string[]>;

t.test("a member's data page, the transfer to the secretary, the removal form", async (t) => {
  const check = async (page: Page, name: string) => t.same(await checkPage(page, name), [], `${name}: accessible, no sideways scroll`);

  const ana = await logIn(section, "ana");
  await ana.goto(`${section.origin}/settings/data`);
  await check(ana, "new-01-settings-data");
  t.same(await filledButtons(ana), ["Télécharger l'archive"], "one filled action: the download; moving and deleting are not");
  const danger = ana.getByRole("button", { name: "Supprimer définitivement mon compte" });
  t.match(await danger.getAttribute("class"), /danger/, "deleting the account is a danger button");
  t.match(await ana.locator("main").textContent(), "C'est définitif", "the deletion says plainly it is final");
  const download = ana.waitForEvent("download");
  await ana.getByRole("link", { name: "Télécharger l'archive" }).click();
  t.match((await download).suggestedFilename(), /^coopol-ana-.*\.tar\.gz$/, "the export link downloads the archive");

  // Asks to bring her account over from the national node.
  await ana.getByLabel(/ancien compte/i).fill(`@ana@127.0.0.1:${national.port}`);
  await ana.getByRole("button", { name: /Demander/ }).click();
  await ana.waitForURL(/notice=requested/);
  await check(ana, "new-02-settings-data-requested");

  const sec = await logIn(section, "sec");
  await sec.goto(`${section.origin}/members/transfers`);
  await check(sec, "new-03-transfers");
  await sec.getByRole("button", { name: "Refuser" }).click();
  await sec.waitForURL(`${section.origin}/members/transfers`);
  t.match(await sec.locator("main").textContent(), "refusée", "the transfer is refused");
  await check(sec, "new-04-transfers-answered");

  await sec.goto(`${section.origin}/members`);
  const row = sec.locator("details", { has: sec.locator("input[name=confirm][id='erase-zoe']") });
  await row.locator("summary").click();
  await check(sec, "new-05-members-removal");
  await row.getByLabel("Pour confirmer, tapez « zoe »").fill("zoe");
  await row.getByRole("button", { name: "Supprimer définitivement" }).click();
  await sec.waitForLoadState();
  t.match(await sec.locator("main").textContent(), "supprimé", "the member is removed");
});

t.test("the admins' federation page and the party directory", async (t) => {
  const check = async (page: Page, name: string) => t.same(await checkPage(page, name), [], `${name}: accessible, no sideways scroll`);

  const chief = await logIn(national, "chief");
  await chief.goto(`${national.origin}/admin/federation`);
  await check(chief, "new-06-admin-federation");
  await chief.getByLabel(/^Serveur/).fill("spam.example");
  await chief.getByRole("radio", { name: /Suspendre/ }).check();
  await chief.getByLabel("Raison").fill("Harcèlement répété");
  await chief.locator("form[action='/admin/federation/domains'] button[type=submit]").click();
  await chief.waitForURL(/domain=spam.example/);
  t.match(await chief.locator("main").textContent(), /spam\.example — Suspendre/, "the domain is listed, suspended");
  t.ok(await chief.getByRole("button", { name: "Retirer spam.example" }).isVisible(), "its remove button names it");
  await check(chief, "new-07-admin-federation-domain");

  await chief.goto(`${national.origin}/territory/directory`);
  await check(chief, "new-08-directory");
  await chief.getByRole("searchbox").fill("national");
  await chief.getByRole("search").getByRole("button").click();
  await chief.waitForURL(/q=national/);
  t.match(await chief.locator("main table").textContent(), "Coopol national", "the search finds the national node");
  await check(chief, "new-09-directory-search");
});

t.test("the host operator's page", async (t) => {
  const check = async (page: Page, name: string) => t.same(await checkPage(page, name), [], `${name}: accessible, no sideways scroll`);
  const origin = `http://127.0.0.1:${hostPort}`;
  const op = await person();
  await op.goto(`${origin}/host`);
  await check(op, "new-10-host-login");
  await op.getByLabel(/jeton/i).fill(TOKEN);
  await op.getByRole("button").click();
  await op.waitForURL(`${origin}/host`);
  await check(op, "new-11-host-empty");

  const domain = `127.0.0.9:${hostPort}`;
  await op.getByLabel("Domaine").fill(`http://${domain}`);
  await op.getByLabel("Nom", { exact: true }).fill("Section de test");
  await op.getByRole("button", { name: "Créer l'instance" }).click();
  await op.waitForLoadState();
  t.match(await op.getByRole("status").textContent(), "créée", "the instance is added, with its first-run link");
  await check(op, "new-12-host-list");
  t.same(await filledButtons(op), ["Créer l'instance"], "one filled action: adding; suspend and remove are not");

  // Removing asks to type the domain first.
  await op.getByRole("button", { name: `Supprimer… : ${domain}` }).click();
  await op.waitForLoadState();
  await check(op, "new-13-host-remove-confirm");
  t.match(await op.locator("main").textContent(), domain);
  await op.getByLabel(/tapez/).fill("not the domain");
  await op.getByRole("button", { name: /Supprimer/ }).click();
  await op.waitForLoadState();
  t.match(await op.getByRole("alert").textContent(), /./, "a wrong name is refused in plain words");
  await op.getByLabel(/tapez/).fill(domain);
  await op.getByRole("button", { name: /Supprimer/ }).click();
  await op.waitForLoadState();
  t.match(await op.getByRole("status").textContent(), "supprimée", "the instance is removed");
});
