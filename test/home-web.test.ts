// A new member's home page in real headless Chromium: until they follow a few
// people it shows the section's posts (public and section-only, never what
// they may not read) with a welcome box — next steps, the instance's address
// for a Mastodon app, members to follow, groups to join — and axe-core finds
// no serious or critical accessibility problem in it. A post in a public
// group appears once, not again as the group's boost.
import t from "tap";
import type { Browser, Page } from "playwright-core";
import { PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { axeViolations, launchChromium } from "./helpers/chromium.ts";
import { apiToken } from "./helpers/oauth.ts";

let a: TestInstance;
let browser: Browser;

async function post(token: string, status: string, visibility = "public"): Promise<string> {
  const res = await fetch(`${a.origin}/api/v1/statuses`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ status, visibility }) });
  if (res.status !== 200) throw new Error(await res.text());
  return ((await res.json()) as { id: string }).id;
}

async function api(token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${a.origin}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, json: (await res.json()) as any };
}

async function login(page: Page, username: string): Promise<void> {
  await page.goto(`${a.origin}/login`);
  await page.getByLabel("Nom d'utilisateur").fill(username);
  await page.getByLabel("Mot de passe").fill(PASSWORD);
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.waitForURL(`${a.origin}/`);
}

let tokens: Record<string, string> = {};

t.before(async () => {
  [a, browser] = await Promise.all([startInstance("home"), launchChromium()]);
  a.addMember("sec", "secretary");
  a.addMember("louise");
  a.addMember("karim");
  a.addMember("sym", "sympathisant");
  a.addMember("nouveau");
  tokens = Object.fromEntries(await Promise.all(["sec", "louise", "karim", "nouveau"].map(async (n) => [n, await apiToken(a.origin, n)] as const)));
  await post(tokens.louise!, "Tractage samedi au marché, qui vient ?");
  await post(tokens.sec!, "Réunion de section mardi, ordre du jour en ligne", "section");
  await post(tokens.karim!, "Message réservé à mes abonné·es", "private");
  // A public group that louise posts in: her post comes back to her as the group's boost.
  const group = await api(tokens.sec!, "POST", "/api/coopol/v1/groups", { name: "Logement", slug: "logement", policy: "party_only", visibility: "public" });
  if (group.status !== 200) throw new Error(JSON.stringify(group.json));
  await api(tokens.louise!, "POST", `/api/coopol/v1/groups/${group.json.id}/join`);
  await post(tokens.louise!, "@g_logement Premier fil : les loyers du quartier");
});
t.teardown(async () => {
  await browser?.close();
  await a?.stop();
});

t.test("a new member's home: the section's posts, a welcome and suggestions, accessible", async (t) => {
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await login(page, "nouveau");
  const welcome = page.getByRole("region", { name: /Bienvenue sur Section home/ });
  await welcome.waitFor();
  t.ok(await welcome.getByRole("link", { name: /Complétez votre profil/ }).isVisible());
  t.ok(await welcome.getByRole("link", { name: /Rejoignez les groupes/ }).isVisible());
  t.ok(await welcome.getByRole("link", { name: /Consultez l'agenda/ }).isVisible());
  t.match(await welcome.textContent(), `connectez-vous avec l'adresse de l'instance : ${new URL(a.origin).host}`);
  const body = await page.locator("main").textContent();
  t.match(body, "Tractage samedi au marché", "a public post of the section");
  t.match(body, "Réunion de section mardi", "a section-only post, readable by a card-holder");
  t.notMatch(body, "réservé à mes abonné·es", "never a followers-only post of someone not followed");
  t.equal((body!.match(/Premier fil : les loyers du quartier/g) ?? []).length, 1, "shown once");

  t.same(await axeViolations(page), [], "no serious or critical accessibility violation");

  // Suggestions: members not followed yet, each with a button; following one comes back home.
  t.ok(await welcome.getByRole("button", { name: "Suivre louise" }).isVisible());
  t.notOk(await welcome.getByRole("button", { name: "Suivre nouveau" }).count(), "not oneself");
  await welcome.getByRole("button", { name: "Suivre louise" }).click();
  await page.waitForURL(`${a.origin}/`);
  t.equal(await page.getByRole("button", { name: "Suivre louise" }).count(), 0, "someone followed is no longer suggested");
  // Groups to join.
  t.ok(await welcome.getByRole("button", { name: "Rejoindre : Logement" }).isVisible());

  // Once they follow a few people, the ordinary home timeline, without the welcome.
  await welcome.getByRole("button", { name: "Suivre karim" }).click();
  await page.waitForURL(`${a.origin}/`);
  await welcome.getByRole("button", { name: "Suivre sec" }).click();
  await page.waitForURL(`${a.origin}/`);
  t.equal(await page.getByRole("region", { name: /Bienvenue/ }).count(), 0, "no welcome after three follows");
  await context.close();
});

t.test("a member's own post in a public group is shown once on their home page", async (t) => {
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  t.equal(a.query("select 1 from posts b join posts o on o.id = b.reblog_of_id where o.content like '%Premier fil%'").length, 1, "the group boosted it: both are in her home timeline");
  await login(page, "louise");
  const body = await page.locator("main").textContent();
  t.equal((body!.match(/Premier fil : les loyers du quartier/g) ?? []).length, 1);
  t.same(await axeViolations(page), []);
  await context.close();
});

t.test("a sympathisant's welcome never shows section-only posts", async (t) => {
  const context = await browser.newContext({ locale: "fr-FR" });
  const page = await context.newPage();
  await login(page, "sym");
  await page.getByRole("region", { name: /Bienvenue/ }).waitFor();
  const body = await page.locator("main").textContent();
  t.match(body, "Tractage samedi au marché");
  t.notMatch(body, "Réunion de section mardi");
  await context.close();
});
