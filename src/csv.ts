// CSV files for spreadsheets as French users open them: semicolons, CRLF,
// a byte-order mark so Excel reads UTF-8, and cells that cannot be taken for
// formulas (CSV injection).
export type Cell = string | number | boolean | null | undefined;

function cell(value: Cell): string {
  if (value == null) return "";
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "";
  if (typeof value === "boolean") return value ? "oui" : "non";
  const safe = value.replace(/^[=+\-@\t\r]/, "'$&");
  return /[";\r\n]/.test(safe) || safe !== value ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(header: string[], rows: Cell[][]): string {
  return `\ufeff${[header.map(cell), ...rows.map((r) => r.map(cell))].map((r) => r.join(";")).join("\r\n")}\r\n`;
}
