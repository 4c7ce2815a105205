// The real headless Chromium of Debian (`chromium` package), driven by
// playwright-core: browsers cannot be downloaded here. Shared by the web tests.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
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
