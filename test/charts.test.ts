// Dashboard building blocks: charts (src/web/charts.ts + static/dashboard.js)
// and the map of départements (src/web/territory-map.ts). Unit tests on the
// HTML they render, then a real headless Chromium (Debian's package, driven by
// playwright-core) against a tiny fastify server, with JavaScript on and off.
import t from "tap";
import Fastify, { type FastifyInstance } from "fastify";
import { type Browser } from "playwright-core";
import { launchChromium } from "./helpers/chromium.ts";
import { barChart, chartScripts, CHART_PALETTE, jsonIsland, lineChart, numberFormat, scriptSafeJson, type ChartSpec } from "../src/web/charts.ts";
import { classBreaks, classOf, departementMap, legendLabels, MAP_PALETTE, paletteIndex } from "../src/web/territory-map.ts";
import { DEPARTEMENTS, OVERSEAS_ROW, departement, departementName, departementOfCommune, isDepartementCode } from "../src/territory/departements.ts";
import { registerStaticFiles, STATIC_URLS } from "../src/web/static.ts";
import { registerSecurityHeaders } from "../src/web/security-headers.ts";
import { translator } from "../src/web/i18n.ts";
import { html, type Html } from "../src/web/html.ts";

const NNBSP = "\u202f"; // fr-FR's thousands separator

/** The JSON text of the first data island in some HTML. */
function island(markup: string): string {
  const m = /<script type="application\/json" class="chart-data">([\s\S]*?)<\/script>/.exec(markup);
  if (!m) throw new Error("no data island");
  return m[1]!;
}

t.test("JSON data islands cannot end their script element", async (t) => {
  const nasty = {
    a: "</script><script>alert(1)</script>",
    b: "<!-- <script>",
    c: "Tom & Jerry > 2",
    d: "line\u2028separator\u2029paragraph",
    e: "</SCRIPT >",
  };
  const json = scriptSafeJson(nasty);
  t.notMatch(json, /[<>&\u2028\u2029]/, "none of the dangerous characters is left");
  t.same(JSON.parse(json), nasty, "JSON.parse gives back the same value");
  const markup = jsonIsland(nasty).value;
  t.equal(markup.match(/<\/script/gi)?.length, 1, "one end tag: the island's own");
  t.same(JSON.parse(island(markup)), nasty);
});

t.test("charts escape titles, labels and series names, in the table and the island", async (t) => {
  const markup = barChart({
    id: "evil",
    title: `<img src=x onerror="alert(1)">`,
    description: "Pendant <b>la</b> campagne",
    labels: ["Section <script>", "Lille & Roubaix", "</script>"],
    series: [{ label: `Portes "frappées"`, values: [1, 2, 3] }],
    unit: "<u>",
    locale: "fr",
  }).value;
  t.notMatch(markup, /<img|<b>|<u>|<script>|"frappées"/, "no raw markup from the values");
  t.match(markup, "&#60;img src=x onerror=&#34;alert(1)&#34;&#62;");
  t.match(markup, "Lille &#38; Roubaix");
  t.equal(markup.match(/<\/script/gi)?.length, 1, "the island's end tag only");
  const spec = JSON.parse(island(markup)) as ChartSpec;
  t.same(spec.labels, ["Section <script>", "Lille & Roubaix", "</script>"], "the island carries the exact labels");
  t.equal(spec.title, `<img src=x onerror="alert(1)">`);
  t.equal(spec.unit, "<u>");
  t.throws(() => barChart({ id: `x" onclick="y`, title: "", labels: [], series: [], locale: "fr" }), /chart id/, "ids are checked");
});

t.test("the table: numbers in the page's language, goals, missing values", async (t) => {
  const options = {
    id: "adhesions",
    title: "Adhésions",
    labels: ["Lille", "Roubaix", "Tourcoing"],
    series: [
      { label: "2025", values: [12345.6, null, 3] },
      { label: "2026", values: [1500, 20, 4] },
    ],
    goal: 2000,
    unit: "adhésions",
    labelHeader: "Section",
  };
  const fr = barChart({ ...options, locale: "fr" }).value;
  t.match(fr, `<td class="num">12${NNBSP}345,6</td>`, "French grouping and decimal comma");
  t.match(fr, `<td class="num">2${NNBSP}000</td>`, "the goal column, one goal per row");
  t.match(fr, `<th scope="col" class="num">Objectif (adhésions)</th>`);
  t.match(fr, `<th scope="col">Section</th>`);
  t.match(fr, `<th scope="row">Roubaix</th><td class="num"><span aria-hidden="true">—</span><span class="visually-hidden">pas de donnée</span></td>`);
  t.equal(fr.match(/<tr>/g)?.length, 4, "a header row and one row per label");
  const spec = JSON.parse(island(fr)) as ChartSpec;
  t.same(spec.goal, { label: "Objectif", values: [2000, 2000, 2000], constant: true, color: "#1a1a1a" });
  t.same(spec.series.map((s) => s.color), [CHART_PALETTE[0], CHART_PALETTE[1]], "colours from the colour-blind safe palette, in order");
  t.equal(spec.locale, "fr-FR");
  t.equal(spec.text.showFigures, "Voir les chiffres");

  const en = lineChart({ ...options, goal: [10, null, 30], locale: "en" }).value;
  t.match(en, `<td class="num">12,345.6</td>`, "English formatting");
  t.match(en, `<th scope="col" class="num">Goal (adhésions)</th>`);
  t.match(en, `<figure class="chart chart-line"`);
  const enSpec = JSON.parse(island(en)) as ChartSpec;
  t.same(enSpec.goal?.values, [10, null, 30]);
  t.equal(enSpec.goal?.constant, false);
  t.equal(enSpec.text.showFigures, "Show figures");

  t.throws(() => barChart({ ...options, locale: "fr", series: [{ label: "x", values: [1] }] }), /1 values for 3 labels/);
  t.throws(() => barChart({ ...options, locale: "fr", goal: [1, 2] }), /2 goals for 3 labels/);
  t.same((JSON.parse(island(barChart({ ...options, locale: "fr", series: [{ label: "x", values: [NaN, Infinity, 1] }] }).value)) as ChartSpec).series[0]!.values, [null, null, 1], "non-finite numbers become gaps");
});

t.test("the départements: 101 codes, each on its own cell of the grid", async (t) => {
  t.equal(DEPARTEMENTS.length, 101);
  const codes = DEPARTEMENTS.map((d) => d.code);
  t.equal(new Set(codes).size, 101, "codes are unique");
  t.equal(new Set(DEPARTEMENTS.map((d) => `${d.row},${d.col}`)).size, 101, "grid cells are unique");
  t.equal(new Set(DEPARTEMENTS.map((d) => d.name)).size, 101, "names are unique");
  const expected = [
    ...Array.from({ length: 95 }, (_, i) => String(i + 1).padStart(2, "0")).filter((c) => c !== "20"),
    "2A", "2B", "971", "972", "973", "974", "976",
  ];
  t.same([...codes].sort(), expected.sort(), "01–95 without 20, 2A, 2B, 971–974, 976");
  t.equal(codes.indexOf("2A"), codes.indexOf("19") + 1, "listed in INSEE order");
  t.equal(DEPARTEMENTS.filter((d) => d.overseas).length, 5);
  t.ok(DEPARTEMENTS.every((d) => (d.overseas ? d.row === OVERSEAS_ROW : d.row < OVERSEAS_ROW - 1)), "overseas on their own row, apart from the mainland");
  t.ok(DEPARTEMENTS.every((d) => Number.isInteger(d.row) && Number.isInteger(d.col) && d.row >= 0 && d.col >= 0 && d.col < 13));

  // Roughly where they are: a few facts anyone can check on a map.
  const at = (code: string) => departement(code)!;
  t.ok(at("59").row < at("13").row && at("62").row < at("66").row, "north above south");
  t.ok(at("29").col < at("67").col && at("64").col < at("06").col, "west left of east");
  const touches = (a: string, b: string) => Math.abs(at(a).row - at(b).row) + Math.abs(at(a).col - at(b).col) === 1;
  for (const neighbour of ["92", "93", "94"]) t.ok(touches("75", neighbour), `Paris next to ${neighbour}`);
  t.ok(touches("2A", "2B"), "Corsica's two halves together");
  t.ok(touches("67", "68") || Math.abs(at("67").row - at("68").row) <= 1, "Alsace together");

  t.equal(departementName("75"), "Paris");
  t.equal(departementName("2a"), "Corse-du-Sud");
  t.equal(departementName("1"), "Ain");
  t.equal(departementName("974"), "La Réunion");
  t.equal(departementName("20"), "20", "not a département: the code itself");
  t.ok(isDepartementCode("2B"));
  t.notOk(isDepartementCode("975"));
});

t.test("the département of a commune", async (t) => {
  const cases: Array<[string, string | null]> = [
    ["75056", "75"],
    ["75111", "75"],
    ["01053", "01"],
    ["59350", "59"],
    ["2A004", "2A"],
    ["2b033", "2B"],
    ["97411", "974"],
    ["97101", "971"],
    ["97611", "976"],
    ["97502", null], // Saint-Pierre-et-Miquelon: a collectivité
    ["98735", null],
    ["20004", null], // Corsica's codes have been 2A/2B since 1976
    ["7505", null],
    ["75", null],
    ["ab123", null],
  ];
  for (const [commune, expected] of cases) t.equal(departementOfCommune(commune), expected, commune);
});

t.test("colour classes: quantiles, five at most, never an empty one", async (t) => {
  const oneToTen = Array.from({ length: 10 }, (_, i) => i + 1);
  t.same(classBreaks(oneToTen), [2, 4, 6, 8]);
  t.same(oneToTen.map((v) => classOf(v, [2, 4, 6, 8])), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  t.same(classBreaks([5, 5, 5]), [], "one value: one class");
  t.same(classBreaks([]), []);
  t.same(classBreaks([0, 0, 0, 0, 0, 0, 0, 1, 50]), [0, 1], "ties merge classes");
  t.same(classBreaks([1, 2, 3, 1000]), [1, 2, 3], "a skewed distribution keeps its small values apart");
  for (const values of [oneToTen, [0, 0, 0, 0, 0, 0, 0, 1, 50], [3, 7, 7, 7, 200, 201, 202]]) {
    const breaks = classBreaks(values);
    const used = new Set(values.map((v) => classOf(v, breaks)));
    t.equal(used.size, breaks.length + 1, `every class is used: ${values.join(",")}`);
  }
  t.same([0, 1, 2, 3, 4].map((c) => paletteIndex(c, 5)), [0, 1, 2, 3, 4]);
  t.same([0, 1].map((c) => paletteIndex(c, 2)), [0, 4], "two classes: the two ends of the ramp");
  t.same([0, 1, 2].map((c) => paletteIndex(c, 3)), [0, 2, 4]);
  t.equal(paletteIndex(0, 1), 2, "a single class: the middle colour");

  const fr = translator("fr");
  const format = numberFormat("fr");
  t.same(legendLabels([2, 4, 6, 8], oneToTen, format, fr), ["de 1 à 2", "de 3 à 4", "de 5 à 6", "de 7 à 8", "de 9 à 10"]);
  t.same(legendLabels([0, 1], [0, 0, 1, 50], format, fr), ["0", "1", "de 2 à 50"]);
  t.same(legendLabels([0.5, 1.5], [0.2, 1, 2.5], format, fr), ["jusqu'à 0,5", "de 0,5 à 1,5", "plus de 1,5"]);
  t.same(legendLabels([10, 20], [1, 2], format, fr), ["de 1 à 10", "de 11 à 20", "plus de 20"], "classes the caller's bounds leave empty");
});

t.test("the map: one tile per département, coloured by class, grey hatched without data", async (t) => {
  const values = new Map<string, number>([["75", 100], ["13", 1], ["2a", 50], ["971", 10], ["59", 30], ["xx", 5]]);
  const markup = departementMap({
    id: "activite",
    title: "Activité <par> département",
    values,
    locale: "fr",
    href: (code) => (code === "13" ? null : `/territoire/${code}?a=1&b="2"`),
  }).value;
  t.equal(markup.match(/data-code="/g)?.length, 101, "101 tiles");
  t.notMatch(markup, /<par>/);
  t.match(markup, "Activité &#60;par&#62; département");
  const tile = (code: string) => new RegExp(`<(a|g) [^>]*data-code="${code}">([\\s\\S]*?)</\\1>`).exec(markup)?.[0] ?? "";
  t.match(tile("75"), `fill="${MAP_PALETTE[4]}"`, "the largest value gets the darkest colour");
  t.match(tile("75"), `<title>Paris (75)\u00a0: 100</title>`);
  t.match(tile("75"), `fill="#fff">75</text>`, "white code on a dark tile");
  t.match(tile("13"), `fill="${MAP_PALETTE[0]}"`, "the smallest the lightest");
  t.match(tile("13"), /^<g /, "no link where href gives none");
  t.match(tile("2A"), "Corse-du-Sud (2A)\u00a0: 50", "codes are normalised (2a → 2A)");
  t.match(tile("29"), `fill="url(#activite-no-data)"`, "no data: the hatched pattern");
  t.match(tile("29"), "<title>Finistère (29)\u00a0: pas de données</title>");
  t.match(tile("59"), `href="/territoire/59?a=1&#38;b=&#34;2&#34;"`, "links are escaped");
  t.match(markup, `<pattern id="activite-no-data"`);
  t.match(markup, "<li>", "a legend");
  t.match(markup, "Pas de données</li>", "the legend says what grey means");
  t.match(markup, "96 département(s) sans données.");
  t.match(markup, `role="group"`, "tiles with links stay reachable");
  t.equal(markup.match(/<tr>/g)?.length, 6, "the table: a header and the five départements with data");

  const plain = departementMap({ title: "Sans liens", values: new Map(DEPARTEMENTS.map((d, i) => [d.code, i])), locale: "en", label: (code) => `Dept ${code}` }).value;
  t.notMatch(plain, /<a /, "no links without href");
  t.match(plain, `role="img"`);
  t.notMatch(plain, /no-data\)"/, "every tile has data: no hatching");
  t.notMatch(plain, "No data</li>", "nor a legend entry for it");
  t.match(plain, "<title>Dept 75: ");
  t.equal(new Set([...plain.matchAll(/class="tile c(\d)"/g)].map((m) => m[1])).size, 5, "five classes");
  t.throws(() => departementMap({ id: "a b", title: "", values: new Map(), locale: "fr" }), /map id/);
});

t.test("static files: Chart.js and dashboard.js with long cache, the stylesheet as before", async (t) => {
  const app = Fastify();
  registerStaticFiles(app);
  t.teardown(() => app.close());
  t.match(STATIC_URLS.chartJs, /^\/static\/chart\.umd\.min\.js\?v=4\.\d+\.\d+$/);
  t.match(STATIC_URLS.dashboardJs, /^\/static\/dashboard\.js\?v=[0-9a-f]{12}$/);
  const chart = await app.inject(STATIC_URLS.chartJs);
  t.equal(chart.statusCode, 200);
  t.match(chart.headers["content-type"], "text/javascript");
  t.equal(chart.headers["cache-control"], "public, max-age=31536000, immutable");
  t.ok(chart.body.length > 100_000, "the whole bundle");
  const dashboard = await app.inject("/static/dashboard.js");
  t.equal(dashboard.statusCode, 200);
  t.match(dashboard.body, "figure.chart");
  const css = await app.inject("/static/coopol.css");
  t.match(css.headers["content-type"], "text/css");
  t.equal(css.headers["cache-control"], "public, max-age=3600");
  t.match(css.body, ".territory-map");
});

// ---- In a real browser --------------------------------------------------

let app: FastifyInstance;
let origin = "";
let browser: Browser;

function page(body: Html): string {
  return `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tableau de bord</title><link rel="stylesheet" href="${STATIC_URLS.css}"></head>
<body><main id="main"><h1>Tableau de bord</h1>
${body}
</main>
${chartScripts()}
</body></html>`;
}

t.test("in Chromium", async (t) => {
  app = Fastify();
  // The pages' own Content-Security-Policy: Chart.js and dashboard.js must draw under it.
  registerSecurityHeaders(app);
  registerStaticFiles(app);
  const sections = ["Lille-Centre", "Roubaix", "Tourcoing", "Villeneuve-d'Ascq </script>"];
  const body = html`
${barChart({ id: "portes", title: "Portes frappées", labels: sections, series: [{ label: "Mai", values: [1200, 800, 350, 90] }, { label: "Juin", values: [1500, null, 420, 130] }], goal: 1000, unit: "portes", locale: "fr" })}
${barChart({ id: "adhesions", title: "Adhésions par section", labels: sections, series: [{ label: "Adhésions", values: [40, 22, 15, 8] }], goal: [50, 20, 20, 10], horizontal: true, locale: "fr" })}
${lineChart({ id: "semaines", title: "Actions par semaine", labels: ["S1", "S2", "S3", "S4", "S5"], series: [{ label: "Tractages", values: [3, 5, 4, 8, 9] }, { label: "Porte-à-porte", values: [1, 2, 6, 5, 7] }], goal: [2, 4, 6, 8, 10], locale: "fr" })}
${departementMap({ title: "Actions par département", values: new Map(DEPARTEMENTS.filter((_, i) => i % 3 !== 0).map((d, i) => [d.code, (i * 37) % 101])), href: (code) => `/departements/${code}`, locale: "fr" })}`;
  app.get("/", (_request, reply) => reply.type("text/html; charset=utf-8").send(page(body)));
  origin = await app.listen({ port: 0, host: "127.0.0.1" });
  browser = await launchChromium();
  t.teardown(async () => {
    await browser?.close();
    await app?.close();
  });

  t.test("with JavaScript: every chart is drawn, its table folded into « Voir les chiffres »", async (t) => {
    // Reduced motion: charts are drawn at once, without animation.
    const context = await browser.newContext({ locale: "fr-FR", reducedMotion: "reduce", viewport: { width: 900, height: 1200 } });
    const tab = await context.newPage();
    const errors: string[] = [];
    tab.on("pageerror", (error) => errors.push(error.message));
    tab.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    const response = await tab.goto(origin);
    t.match(response?.headers()["content-security-policy"], /script-src 'self'; style-src 'self'/, "under the pages' CSP");
    await tab.waitForFunction(`document.querySelectorAll("figure.chart[data-drawn]").length === 3`, undefined, { timeout: 10_000 });
    t.same(errors, [], "no script error, no CSP violation (Chromium reports them as console errors)");

    // Pixels drawn on each canvas, and some of them in the first series' colour.
    const drawn = (await tab.evaluate(`(() => [...document.querySelectorAll("figure.chart canvas")].map((canvas) => {
      const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
      let painted = 0, firstColour = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0) painted++;
        if (data[i] === 0 && data[i + 1] === 114 && data[i + 2] === 178 && data[i + 3] === 255) firstColour++;
      }
      return { id: canvas.closest("figure").id, width: canvas.width, height: canvas.height, painted, firstColour, label: canvas.getAttribute("aria-label") };
    }))()`)) as Array<{ id: string; width: number; height: number; painted: number; firstColour: number; label: string }>;
    t.same(drawn.map((c) => c.id), ["portes", "adhesions", "semaines"]);
    for (const c of drawn) {
      t.ok(c.width > 100 && c.height > 100, `${c.id}: a canvas of some size (${c.width}×${c.height})`);
      t.ok(c.painted > 2000, `${c.id}: ${c.painted} painted pixels`);
      t.ok(c.firstColour > 50, `${c.id}: ${c.firstColour} pixels of the first series' colour`);
      t.match(c.label, /graphique/, "the canvas says what it is");
    }

    const portes = tab.locator("#portes");
    t.equal(await portes.locator("details > summary").textContent(), "Voir les chiffres");
    t.notOk(await portes.locator("table").isVisible(), "the table is folded");
    await portes.locator("summary").click();
    t.ok(await portes.locator("table").isVisible(), "and unfolds");
    t.equal(await portes.locator("tbody tr").nth(0).locator("td").nth(0).textContent(), `1${NNBSP}200`);
    t.equal(await tab.locator("#adhesions tbody th").nth(3).textContent(), "Villeneuve-d'Ascq </script>", "a label that looks like markup is only text");

    const map = tab.locator("figure.territory-map");
    t.equal(await map.locator("svg a").count(), 101, "one link per tile");
    t.equal(await map.locator("svg a[href='/departements/75']").getAttribute("data-code"), "75");
    const tileBox = await map.locator("svg a[data-code='29'] rect").boundingBox();
    t.ok(tileBox && tileBox.width > 10 && tileBox.height > 10, "tiles are drawn with a real size");
    // COOPOL_SCREENSHOT=/tmp/dashboard.png keeps a picture of the page, to look at the layout.
    if (process.env.COOPOL_SCREENSHOT) await tab.screenshot({ path: process.env.COOPOL_SCREENSHOT, fullPage: true });
    await context.close();
  });

  t.test("without JavaScript: tables and the map, no canvas", async (t) => {
    const context = await browser.newContext({ locale: "fr-FR", javaScriptEnabled: false });
    const tab = await context.newPage();
    await tab.goto(origin);
    t.equal(await tab.locator("canvas").count(), 0, "nothing is drawn");
    t.equal(await tab.locator("figure.chart details").count(), 0, "tables are not folded");
    for (const id of ["portes", "adhesions", "semaines"]) {
      t.ok(await tab.locator(`#${id} table`).isVisible(), `${id}: the table is visible`);
    }
    t.equal(await tab.locator("#portes figcaption").textContent(), "Portes frappées");
    t.equal(await tab.locator("#portes tbody tr").count(), 4);
    t.equal(await tab.locator("#portes thead th").allTextContents().then((h) => h.join(" | ")), "Catégorie | Mai (portes) | Juin (portes) | Objectif (portes)");
    t.equal(await tab.locator("#semaines tbody tr").nth(4).locator("td").allTextContents().then((c) => c.join(" ")), "9 7 10");
    t.notOk(await tab.locator("script[type='application/json']").first().isVisible(), "the data island is not shown");
    const map = tab.locator("figure.territory-map svg.map-tiles");
    t.ok(await map.isVisible(), "the map needs no script");
    const box = await map.boundingBox();
    t.ok(box && box.width > 200 && box.height > 200, "and has its size");
    t.ok(await tab.locator(".map-legend li").first().isVisible(), "with its legend");
    await context.close();
  });
});
