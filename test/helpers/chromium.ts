// The real headless Chromium of Debian (`chromium` package), driven by
// playwright-core: browsers cannot be downloaded here. Shared by the web tests.
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** Every form control on the page has a label, there is one h1, and the page says its language. */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  // Runs in the page; a string keeps the DOM's types out of the Node project.
  return page.evaluate(`(() => {
    const problems = [];
    for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
      if (!el.labels || el.labels.length === 0) problems.push("no label: " + el.name);
    }
    const h1 = document.querySelectorAll("h1").length;
    if (h1 !== 1) problems.push("h1 count " + h1);
    if (!document.documentElement.lang) problems.push("no lang");
    return problems;
  })()`);
}

/**
 * How far the page scrolls sideways (0 when nothing overflows), and the
 * widest elements sticking out, to say what to fix.
 */
export async function horizontalOverflow(page: Page): Promise<{ px: number; culprits: string[] }> {
  return page.evaluate(`(() => {
    const root = document.documentElement;
    const px = root.scrollWidth - root.clientWidth;
    const culprits = px <= 0 ? [] : [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > root.clientWidth + 1)
      .slice(0, 5)
      .map((el) => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : "") + " " + (el.textContent || "").trim().slice(0, 40));
    return { px, culprits };
  })()`);
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * The serious and critical violations axe-core finds in the page (WCAG 2.x A
 * and AA rules), each with the elements concerned.
 */
let axeSource: string | undefined;

export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, which the pages' Content-Security-Policy
  // (no inline script) does not apply to, unlike an added <script> tag.
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  await page.evaluate(axeSource);
  return page.evaluate(`(async () => {
    const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => String(n.target)) }));
  })()`);
}

/** A wall-clock date ("2026-03-01") or datetime ("2026-03-01T10:00") in Paris, `offsetMs` from now, as date fields take it. */
export function paris(offsetMs: number, withTime = false): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", { timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date(Date.now() + offsetMs))
      .map((p) => [p.type, p.value]),
  );
  const day = `${parts.year}-${parts.month}-${parts.day}`;
  return withTime ? `${day}T${parts.hour}:${parts.minute}` : day;
}

/** Where `checkPage` saves its screenshots, relative to the project's root. */
export const SCREENSHOTS_DIR = "test-artifacts/screenshots";

/** The widths every page of a journey is checked at: a phone and a laptop. */
export const PAGE_WIDTHS = [390, 1280] as const;

/**
 * Checks the page as it stands at a phone's and a laptop's width: axe-core's
 * serious and critical violations, anything that makes it scroll sideways,
 * and a full-page screenshot `<SCREENSHOTS_DIR>/<name>-<width>.png` to look
 * at. Returns the problems in words (none: an empty list). With
 * `COOPOL_DOC_SCREENSHOTS=<folder>` set, the phone view of a page given a
 * `docImage` name is also saved there, for the guides (the screen's height,
 * from the top or from the element `docFrom` names).
 */
export async function checkPage(page: Page, name: string, options: { docImage?: string; docFrom?: string } = {}): Promise<string[]> {
  const problems: string[] = [];
  const initial = page.viewportSize();
  const root = new URL("../..", import.meta.url).pathname;
  mkdirSync(join(root, SCREENSHOTS_DIR), { recursive: true });
  for (const width of PAGE_WIDTHS) {
    await page.setViewportSize({ width, height: width < 600 ? 844 : 800 });
    for (const v of await axeViolations(page)) problems.push(`${width} px: ${v.id} (${v.impact}) ${v.help}: ${v.targets.slice(0, 3).join(", ")}`);
    const overflow = await horizontalOverflow(page);
    if (overflow.px > 0) problems.push(`${width} px: scrolls ${overflow.px} px sideways: ${overflow.culprits.join(" | ")}`);
    await page.screenshot({ path: join(root, SCREENSHOTS_DIR, `${name}-${width}.png`), fullPage: true });
    const docs = process.env.COOPOL_DOC_SCREENSHOTS;
    // The top of the page only, so that the guide's images stay small.
    if (docs && options.docImage && width < 600) {
      mkdirSync(resolve(root, docs), { recursive: true });
      if (options.docFrom) await page.locator(options.docFrom).first().evaluate("(el) => el.scrollIntoView()");
      await page.screenshot({ path: resolve(root, docs, `${options.docImage}.png`) });
    }
  }
  if (initial) await page.setViewportSize(initial);
  return problems;
}
