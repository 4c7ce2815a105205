// Charts for dashboards. The server renders a <figure class="chart"> holding
// the numbers twice: an HTML table (what people without JavaScript, screen
// readers and printers get) and a JSON data island that /static/dashboard.js
// turns into a Chart.js canvas, folding the table into "Show figures". The
// look (colours, goal line) is decided here, not by callers, so every
// dashboard reads the same way.
import { html, raw, type Html } from "./html.ts";
import { translator, type Locale, type Translate } from "./i18n.ts";
import { STATIC_URLS } from "./static.ts";

export interface ChartSeries {
  label: string;
  /** One value per label; null where there is no figure. */
  values: ReadonlyArray<number | null>;
}

export interface ChartOptions {
  /** HTML id of the figure (letters, digits, - and _), unique on the page. */
  id: string;
  title: string;
  /** One sentence under the title saying what is counted, if the title does not. */
  description?: string;
  labels: readonly string[];
  series: readonly ChartSeries[];
  /** A goal for every label (one number, drawn as a line), or one per label. */
  goal?: number | ReadonlyArray<number | null>;
  /** Shown after the values: column headers, axis title, tooltips ("adhésions", "%"). */
  unit?: string;
  /** Header of the labels' column; "Catégorie" by default. */
  labelHeader?: string;
  /** The page's language: number formatting and the few words of the figure. */
  locale: Locale;
  t?: Translate;
  /** Intl.NumberFormat options, used on the server (table) and in the browser (axis, tooltips). */
  format?: Intl.NumberFormatOptions;
}

export interface BarChartOptions extends ChartOptions {
  /** Bars along the horizontal axis: better for many or long labels (sections). */
  horizontal?: boolean;
  /** Series stacked into one bar per label instead of side by side. */
  stacked?: boolean;
}

export type LineChartOptions = ChartOptions;

/**
 * Okabe & Ito's palette, which stays distinguishable with the common colour
 * vision deficiencies; ordered so the first colours contrast best on white
 * (the yellow, hard to see on white, comes last).
 */
export const CHART_PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442"] as const;

/** The goal line's colour: ink, dashed, so it never reads as one more series. */
export const GOAL_COLOR = "#1a1a1a";

// Full locale tags give the local conventions (fr-FR: narrow no-break space
// between thousands, comma for decimals).
const INTL_LOCALE: Record<Locale, string> = { fr: "fr-FR", en: "en-GB" };

const formatters = new Map<string, Intl.NumberFormat>();

/** A cached Intl.NumberFormat: each costs some ICU memory, and pages reuse a few. */
export function numberFormat(locale: Locale, options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  const key = `${locale} ${JSON.stringify(options)}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat(INTL_LOCALE[locale] ?? locale, { maximumFractionDigits: 1, ...options });
    if (formatters.size < 100) formatters.set(key, format);
  }
  return format;
}

export function intlLocale(locale: Locale): string {
  return INTL_LOCALE[locale] ?? locale;
}

/**
 * JSON that can sit inside a <script> element: "<", ">" and "&" become \u
 * escapes (so neither "</script>" nor "<!--" can end or change the element),
 * and so do U+2028/U+2029, which some JavaScript parsers take as line ends.
 * JSON.parse gives back exactly the same value.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A <script type="application/json"> data island. */
export function jsonIsland(value: unknown, className = "chart-data"): Html {
  return html`<script type="application/json" class="${className}">${raw(scriptSafeJson(value))}</script>`;
}

/** The two scripts that draw charts; put once near the end of a page that has charts. */
export function chartScripts(): Html {
  return html`<script src="${STATIC_URLS.chartJs}" defer></script>
<script src="${STATIC_URLS.dashboardJs}" defer></script>`;
}

/** What /static/dashboard.js reads from the data island. */
export interface ChartSpec {
  type: "bar" | "line";
  title: string;
  locale: string;
  format: Intl.NumberFormatOptions;
  unit: string | null;
  horizontal: boolean;
  stacked: boolean;
  labels: string[];
  series: Array<{ label: string; values: Array<number | null>; color: string }>;
  /** constant: one value for every label, drawn as a line across the plot. */
  goal: { label: string; values: Array<number | null>; constant: boolean; color: string } | null;
  text: { showFigures: string; canvasLabel: string; tooltip: string; goalValue: string };
}

export function barChart(options: BarChartOptions): Html {
  return chart("bar", options, { horizontal: options.horizontal ?? false, stacked: options.stacked ?? false });
}

export function lineChart(options: LineChartOptions): Html {
  return chart("line", options, { horizontal: false, stacked: false });
}

const ID = /^[A-Za-z][\w-]*$/;

function chart(type: "bar" | "line", o: ChartOptions, layout: { horizontal: boolean; stacked: boolean }): Html {
  // Wrong shapes are programming errors: fail loudly rather than draw a false chart.
  if (!ID.test(o.id)) throw new Error(`chart id "${o.id}": letters, digits, - and _ only, starting with a letter`);
  for (const s of o.series) {
    if (s.values.length !== o.labels.length) throw new Error(`chart ${o.id}: series "${s.label}" has ${s.values.length} values for ${o.labels.length} labels`);
  }
  if (Array.isArray(o.goal) && o.goal.length !== o.labels.length) throw new Error(`chart ${o.id}: ${o.goal.length} goals for ${o.labels.length} labels`);

  const t = o.t ?? translator(o.locale);
  const format = numberFormat(o.locale, o.format);
  const goalValues: Array<number | null> | null =
    o.goal === undefined ? null : typeof o.goal === "number" ? o.labels.map(() => o.goal as number) : o.goal.map(finite);
  const spec: ChartSpec = {
    type,
    title: o.title,
    locale: intlLocale(o.locale),
    format: { maximumFractionDigits: 1, ...o.format },
    unit: o.unit ?? null,
    horizontal: layout.horizontal,
    stacked: layout.stacked,
    labels: [...o.labels],
    series: o.series.map((s, i) => ({ label: s.label, values: s.values.map(finite), color: CHART_PALETTE[i % CHART_PALETTE.length]! })),
    goal: goalValues && { label: t("chart.goal"), values: goalValues, constant: typeof o.goal === "number", color: GOAL_COLOR },
    text: {
      showFigures: t("chart.show_figures"),
      canvasLabel: t("chart.canvas_label", { title: o.title }),
      tooltip: t("chart.tooltip"),
      goalValue: t("chart.goal_value"),
    },
  };

  const withUnit = (header: string) => (o.unit ? `${header} (${o.unit})` : header);
  const cell = (value: number | null) =>
    value === null
      ? html`<td class="num"><span aria-hidden="true">—</span><span class="visually-hidden">${t("chart.no_value")}</span></td>`
      : html`<td class="num">${format.format(value)}</td>`;

  return html`<figure class="chart chart-${type}${layout.horizontal ? " chart-horizontal" : ""}" id="${o.id}" aria-labelledby="${o.id}-title">
<figcaption id="${o.id}-title">${o.title}${o.description ? html` <span class="chart-description">${o.description}</span>` : ""}</figcaption>
${jsonIsland(spec)}
<div class="chart-figures">
<table class="chart-table">
<caption class="visually-hidden">${o.title}</caption>
<thead><tr><th scope="col">${o.labelHeader ?? t("chart.category")}</th>${spec.series.map(
    (s) => html`<th scope="col" class="num"><span class="swatch" aria-hidden="true">${swatch(s.color)}</span>${withUnit(s.label)}</th>`,
  )}${spec.goal ? html`<th scope="col" class="num">${withUnit(spec.goal.label)}</th>` : ""}</tr></thead>
<tbody>
${o.labels.map(
  (label, row) => html`<tr><th scope="row">${label}</th>${spec.series.map((s) => cell(s.values[row] ?? null))}${goalValues ? cell(goalValues[row] ?? null) : ""}</tr>
`,
)}</tbody>
</table>
</div>
</figure>`;
}

function finite(value: number | null | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

// A small square of the series colour, so the table's columns match the
// chart's legend. An SVG attribute rather than a style attribute: no inline
// styles, should a Content-Security-Policy ever forbid them.
function swatch(color: string): Html {
  return html`<svg width="12" height="12" viewBox="0 0 12 12" focusable="false"><rect width="12" height="12" fill="${color}"/></svg>`;
}
