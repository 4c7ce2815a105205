// A map of France by département, as a tile cartogram in inline SVG: one
// square per département (src/territory/departements.ts), coloured by one of
// five classes of a sequential palette. It needs no JavaScript, no map tiles
// and no external request; a table of the same figures follows in a <details>.
import { DEPARTEMENTS, OVERSEAS_ROW, departementName, normaliseDepartementCode } from "../territory/departements.ts";
import { numberFormat } from "./charts.ts";
import { html, type Html } from "./html.ts";
import { translator, type Locale, type Translate } from "./i18n.ts";

export interface DepartementMapOptions {
  /** Prefix of the ids inside the SVG (letters, digits, - and _), unique on the page. */
  id?: string;
  title: string;
  description?: string;
  /** Figure per département code ("75", "2A", "971"); a département missing here has no data. */
  values: ReadonlyMap<string, number>;
  /** Name shown in tooltips and the table; "Paris (75)" by default. */
  label?: (code: string) => string;
  /** A link per tile (a département's page, a filtered list); none when it returns null. */
  href?: (code: string) => string | null | undefined;
  locale: Locale;
  t?: Translate;
  format?: Intl.NumberFormatOptions;
  /** Header of the table's value column; "Valeur" by default. */
  valueHeader?: string;
  /** Upper bounds of the first classes, ascending; computed from the values (quantiles) if absent. */
  breaks?: readonly number[];
}

/** Five blues, light to dark: sequential, readable by colour-blind people and in grey. */
export const MAP_PALETTE = ["#dbe9f6", "#9ecae1", "#5a9fd0", "#2171b5", "#08306b"] as const;
/** Classes from this one on are dark: their tile labels are written in white. */
const FIRST_DARK_CLASS = 3;
const NO_DATA_FILL = "#e4e4e4";

const TILE = 40;
const GAP = 4;
const STEP = TILE + GAP;
const COLUMNS = Math.max(...DEPARTEMENTS.map((d) => d.col)) + 1;
const ROWS = OVERSEAS_ROW + 1;
const ID = /^[A-Za-z][\w-]*$/;

/**
 * Class bounds from quantiles: up to `classes - 1` ascending upper bounds
 * (inclusive), each a value that occurs, so every class holds at least one
 * département. Values bunched on a few numbers give fewer classes rather
 * than empty ones.
 */
export function classBreaks(values: Iterable<number>, classes = MAP_PALETTE.length): number[] {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  const breaks: number[] = [];
  if (sorted.length === 0) return breaks;
  const top = sorted[sorted.length - 1]!;
  for (let i = 1; i < classes; i++) {
    const bound = sorted[Math.ceil((i * sorted.length) / classes) - 1]!;
    if (bound < top && (breaks.length === 0 || bound > breaks[breaks.length - 1]!)) breaks.push(bound);
  }
  return breaks;
}

/** The class of a value: 0 up to the first bound, breaks.length above the last. */
export function classOf(value: number, breaks: readonly number[]): number {
  const i = breaks.findIndex((bound) => value <= bound);
  return i === -1 ? breaks.length : i;
}

/** Palette index of a class when there are `count` classes: spread over the whole ramp. */
export function paletteIndex(klass: number, count: number): number {
  const last = MAP_PALETTE.length - 1;
  if (count <= 1) return Math.floor(last / 2);
  return Math.round((klass * last) / (count - 1));
}

export function departementMap(o: DepartementMapOptions): Html {
  const id = o.id ?? "departements";
  if (!ID.test(id)) throw new Error(`map id "${id}": letters, digits, - and _ only, starting with a letter`);
  const t = o.t ?? translator(o.locale);
  const format = numberFormat(o.locale, o.format);
  const label = o.label ?? ((code: string) => `${departementName(code)} (${code})`);

  const values = new Map<string, number>();
  for (const [code, value] of o.values) {
    if (Number.isFinite(value)) values.set(normaliseDepartementCode(code), value);
  }
  const known = DEPARTEMENTS.filter((d) => values.has(d.code)).map((d) => values.get(d.code)!);
  const breaks = o.breaks ? [...o.breaks] : classBreaks(known);
  const count = breaks.length + 1;
  const colourOf = (value: number) => MAP_PALETTE[paletteIndex(classOf(value, breaks), count)]!;
  const missing = DEPARTEMENTS.some((d) => !values.has(d.code));

  const tiles = DEPARTEMENTS.map((d) => {
    const value = values.get(d.code);
    const x = d.col * STEP;
    const y = d.row * STEP;
    const name = label(d.code);
    const tip = value === undefined ? t("map.tooltip_no_data", { name }) : t("map.tooltip", { name, value: format.format(value) });
    const klass = value === undefined ? null : paletteIndex(classOf(value, breaks), count);
    const tile = html`<title>${tip}</title><rect x="${x}" y="${y}" width="${TILE}" height="${TILE}" rx="3" fill="${klass === null ? `url(#${id}-no-data)` : MAP_PALETTE[klass]!}" class="${klass === null ? "tile no-data" : `tile c${klass}`}"/><text x="${x + TILE / 2}" y="${y + TILE / 2}" text-anchor="middle" dominant-baseline="central" font-size="13" fill="${klass !== null && klass >= FIRST_DARK_CLASS ? "#fff" : "#1a1a1a"}">${d.code}</text>`;
    const href = o.href?.(d.code);
    return href
      ? html`<a href="${href}" data-code="${d.code}">${tile}</a>
`
      : html`<g data-code="${d.code}">${tile}</g>
`;
  });

  const width = COLUMNS * STEP - GAP;
  const height = ROWS * STEP - GAP;
  const linked = !!o.href;

  return html`<figure class="territory-map" id="${id}" aria-labelledby="${id}-title">
<figcaption id="${id}-title">${o.title}${o.description ? html` <span class="chart-description">${o.description}</span>` : ""}</figcaption>
<svg viewBox="0 0 ${width} ${height}" class="map-tiles" ${linked ? html`role="group"` : html`role="img"`} aria-labelledby="${id}-title" focusable="false">
<defs><pattern id="${id}-no-data" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="${NO_DATA_FILL}"/><line x1="0" y1="0" x2="0" y2="6" stroke="#8a8a8a" stroke-width="1.5"/></pattern></defs>
<text x="0" y="${(OVERSEAS_ROW - 1) * STEP + TILE - 8}" font-size="13" fill="#555">${t("map.overseas")}</text>
${tiles}</svg>
${legend(id, breaks, known, format, t, missing)}
<details class="map-figures"><summary>${t("chart.show_figures")}</summary>
<table>
<caption class="visually-hidden">${o.title}</caption>
<thead><tr><th scope="col">${t("map.departement")}</th><th scope="col" class="num">${o.valueHeader ?? t("map.value")}</th></tr></thead>
<tbody>
${DEPARTEMENTS.filter((d) => values.has(d.code)).map((d) => {
  const href = o.href?.(d.code);
  return html`<tr><th scope="row">${href ? html`<a href="${href}">${label(d.code)}</a>` : label(d.code)}</th><td class="num">${format.format(values.get(d.code)!)}</td></tr>
`;
})}</tbody>
</table>
${missing ? html`<p class="help">${t("map.no_data_count", { n: DEPARTEMENTS.filter((d) => !values.has(d.code)).length })}</p>` : ""}
</details>
</figure>`;
}

/** Legend text of each class, from the bounds and the values actually shown. */
export function legendLabels(breaks: readonly number[], values: readonly number[], format: Intl.NumberFormat, t: Translate): string[] {
  if (values.length === 0) return [];
  const min = Math.min(...values);
  const max = Math.max(...values);
  // Whole numbers (counts, the usual case) get closed ranges: "4 à 10".
  const whole = [...values, ...breaks].every(Number.isInteger);
  const range = (from: number, to: number) =>
    from === to ? format.format(from) : t("map.range", { from: format.format(from), to: format.format(to) });
  return Array.from({ length: breaks.length + 1 }, (_, i) => {
    const lower = i === 0 ? null : breaks[i - 1]!;
    const upper = i < breaks.length ? breaks[i]! : null;
    if (whole) {
      const from = lower === null ? min : lower + 1;
      const to = upper === null ? max : upper;
      if (from <= to) return range(from, to);
      // An empty class (bounds given by the caller): say its bounds only.
      if (lower !== null && upper !== null) return range(lower + 1, upper);
    }
    if (lower === null) return t("map.up_to", { to: format.format(upper!) });
    if (upper === null) return t("map.over", { from: format.format(lower) });
    return range(lower, upper);
  });
}

function legend(id: string, breaks: readonly number[], values: readonly number[], format: Intl.NumberFormat, t: Translate, missing: boolean): Html {
  const labels = legendLabels(breaks, values, format, t);
  const swatch = (fill: string) =>
    html`<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true" focusable="false"><rect x=".5" y=".5" width="17" height="17" rx="2" fill="${fill}" stroke="#777"/></svg>`;
  return html`<div class="map-legend" id="${id}-legend"><p class="map-legend-title">${t("map.legend")}</p><ul>
${labels.map((text, i) => html`<li>${swatch(MAP_PALETTE[paletteIndex(i, labels.length)]!)} ${text}</li>`)}
${missing ? html`<li>${swatch(`url(#${id}-no-data)`)} ${t("map.no_data")}</li>` : ""}
</ul></div>`;
}
