// The few static files the pages use: the stylesheet, Chart.js and our small
// script that draws dashboard charts. Scripts are addressed with a version in
// their URL (see STATIC_URLS), so browsers may keep them for a year and still
// fetch the new file after an upgrade.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { FastifyInstance, FastifyReply } from "fastify";

/** The stylesheet of every page (the host operator's pages too, src/host/operator.ts). */
export const CSS = readFileSync(new URL("./coopol.css", import.meta.url));
const DASHBOARD_JS = readFileSync(new URL("./static/dashboard.js", import.meta.url));
const COPY_JS = readFileSync(new URL("./static/copy.js", import.meta.url));

// Chart.js ships a ready-made UMD bundle; we serve it as is. Its 200 kB are
// read on the first request only: most instances (sections) never show a chart.
const CHART_JS_FILE = new URL("./chart.umd.min.js", import.meta.resolve("chart.js"));
const CHART_JS_VERSION = (JSON.parse(readFileSync(new URL("../package.json", CHART_JS_FILE), "utf8")) as { version: string }).version;
let chartJs: Buffer | null = null;

const FAVICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#b0002a"/><circle cx="16" cy="16" r="8" fill="none" stroke="#fff" stroke-width="4"/></svg>';

const YEAR = "public, max-age=31536000, immutable";

function version(file: Buffer): string {
  return createHash("sha256").update(file).digest("hex").slice(0, 12);
}

/** URLs to put in pages; the query string changes whenever the file does. */
export const STATIC_URLS = {
  css: "/static/coopol.css",
  chartJs: `/static/chart.umd.min.js?v=${CHART_JS_VERSION}`,
  dashboardJs: `/static/dashboard.js?v=${version(DASHBOARD_JS)}`,
  copyJs: `/static/copy.js?v=${version(COPY_JS)}`,
} as const;

export function registerStaticFiles(app: FastifyInstance): void {
  app.get("/static/coopol.css", (_request, reply) =>
    reply.type("text/css; charset=utf-8").header("cache-control", "public, max-age=3600").send(CSS),
  );
  app.get("/static/chart.umd.min.js", (_request, reply) => {
    chartJs ??= readFileSync(CHART_JS_FILE);
    return reply.type("text/javascript; charset=utf-8").header("cache-control", YEAR).header("x-content-type-options", "nosniff").send(chartJs);
  });
  const script = (body: Buffer) => (_request: unknown, reply: FastifyReply) =>
    reply.type("text/javascript; charset=utf-8").header("cache-control", YEAR).header("x-content-type-options", "nosniff").send(body);
  app.get("/static/dashboard.js", script(DASHBOARD_JS));
  app.get("/static/copy.js", script(COPY_JS));
  // Browsers ask for it on every site; an SVG icon in the party's colour, no 404 in the logs.
  app.get("/favicon.ico", (_request, reply) => reply.type("image/svg+xml").header("cache-control", "public, max-age=86400").send(FAVICON));
}
