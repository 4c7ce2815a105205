// The départements of France: INSEE code, name, and a cell on a tile
// cartogram (one square per département, roughly where it lies). A tile map
// gives every département the same weight on screen, so Paris and its petite
// couronne stay readable next to the Gironde; positions are hand-placed so
// that most neighbours on the grid are neighbours on the ground.
// Rows go north to south, columns west to east. Metropolitan France uses
// rows 0–13 (Corsica at the east of rows 12–13); the five overseas
// départements sit apart on row 15.

export interface Departement {
  /** INSEE code: "01"…"95", "2A", "2B", "971"…"976". */
  code: string;
  name: string;
  row: number;
  col: number;
  overseas: boolean;
}

// code, name, row, col
const METROPOLE: ReadonlyArray<readonly [string, string, number, number]> = [
  ["62", "Pas-de-Calais", 0, 5],
  ["80", "Somme", 1, 5],
  ["59", "Nord", 1, 6],
  ["76", "Seine-Maritime", 2, 4],
  ["60", "Oise", 2, 5],
  ["02", "Aisne", 2, 6],
  ["08", "Ardennes", 2, 7],
  ["50", "Manche", 3, 2],
  ["14", "Calvados", 3, 3],
  ["27", "Eure", 3, 4],
  ["95", "Val-d'Oise", 3, 5],
  ["93", "Seine-Saint-Denis", 3, 6],
  ["51", "Marne", 3, 7],
  ["55", "Meuse", 3, 8],
  ["57", "Moselle", 3, 9],
  ["29", "Finistère", 4, 0],
  ["22", "Côtes-d'Armor", 4, 1],
  ["35", "Ille-et-Vilaine", 4, 2],
  ["61", "Orne", 4, 3],
  ["78", "Yvelines", 4, 4],
  ["92", "Hauts-de-Seine", 4, 5],
  ["75", "Paris", 4, 6],
  ["77", "Seine-et-Marne", 4, 7],
  ["54", "Meurthe-et-Moselle", 4, 8],
  ["67", "Bas-Rhin", 4, 9],
  ["56", "Morbihan", 5, 1],
  ["53", "Mayenne", 5, 2],
  ["72", "Sarthe", 5, 3],
  ["28", "Eure-et-Loir", 5, 4],
  ["91", "Essonne", 5, 5],
  ["94", "Val-de-Marne", 5, 6],
  ["10", "Aube", 5, 7],
  ["52", "Haute-Marne", 5, 8],
  ["88", "Vosges", 5, 9],
  ["68", "Haut-Rhin", 5, 10],
  ["44", "Loire-Atlantique", 6, 1],
  ["49", "Maine-et-Loire", 6, 2],
  ["37", "Indre-et-Loire", 6, 3],
  ["41", "Loir-et-Cher", 6, 4],
  ["45", "Loiret", 6, 5],
  ["89", "Yonne", 6, 6],
  ["21", "Côte-d'Or", 6, 7],
  ["70", "Haute-Saône", 6, 8],
  ["90", "Territoire de Belfort", 6, 9],
  ["85", "Vendée", 7, 1],
  ["79", "Deux-Sèvres", 7, 2],
  ["86", "Vienne", 7, 3],
  ["36", "Indre", 7, 4],
  ["18", "Cher", 7, 5],
  ["58", "Nièvre", 7, 6],
  ["71", "Saône-et-Loire", 7, 7],
  ["39", "Jura", 7, 8],
  ["25", "Doubs", 7, 9],
  ["17", "Charente-Maritime", 8, 2],
  ["16", "Charente", 8, 3],
  ["87", "Haute-Vienne", 8, 4],
  ["23", "Creuse", 8, 5],
  ["03", "Allier", 8, 6],
  ["69", "Rhône", 8, 7],
  ["01", "Ain", 8, 8],
  ["74", "Haute-Savoie", 8, 9],
  ["33", "Gironde", 9, 2],
  ["24", "Dordogne", 9, 3],
  ["19", "Corrèze", 9, 4],
  ["15", "Cantal", 9, 5],
  ["63", "Puy-de-Dôme", 9, 6],
  ["42", "Loire", 9, 7],
  ["38", "Isère", 9, 8],
  ["73", "Savoie", 9, 9],
  ["40", "Landes", 10, 2],
  ["47", "Lot-et-Garonne", 10, 3],
  ["46", "Lot", 10, 4],
  ["12", "Aveyron", 10, 5],
  ["43", "Haute-Loire", 10, 6],
  ["07", "Ardèche", 10, 7],
  ["26", "Drôme", 10, 8],
  ["05", "Hautes-Alpes", 10, 9],
  ["64", "Pyrénées-Atlantiques", 11, 2],
  ["32", "Gers", 11, 3],
  ["82", "Tarn-et-Garonne", 11, 4],
  ["81", "Tarn", 11, 5],
  ["48", "Lozère", 11, 6],
  ["30", "Gard", 11, 7],
  ["84", "Vaucluse", 11, 8],
  ["04", "Alpes-de-Haute-Provence", 11, 9],
  ["06", "Alpes-Maritimes", 11, 10],
  ["65", "Hautes-Pyrénées", 12, 3],
  ["31", "Haute-Garonne", 12, 4],
  ["11", "Aude", 12, 5],
  ["34", "Hérault", 12, 6],
  ["13", "Bouches-du-Rhône", 12, 8],
  ["83", "Var", 12, 9],
  ["2B", "Haute-Corse", 12, 11],
  ["09", "Ariège", 13, 4],
  ["66", "Pyrénées-Orientales", 13, 5],
  ["2A", "Corse-du-Sud", 13, 11],
];

const OVERSEAS: ReadonlyArray<readonly [string, string]> = [
  ["971", "Guadeloupe"],
  ["972", "Martinique"],
  ["973", "Guyane"],
  ["974", "La Réunion"],
  ["976", "Mayotte"],
];

/** The row of the overseas départements, one empty row below the mainland. */
export const OVERSEAS_ROW = 15;

/** All 101 départements, in INSEE code order (2A and 2B between 19 and 21). */
export const DEPARTEMENTS: readonly Departement[] = [
  ...METROPOLE.map(([code, name, row, col]) => ({ code, name, row, col, overseas: false })),
  ...OVERSEAS.map(([code, name], i) => ({ code, name, row: OVERSEAS_ROW, col: i, overseas: true })),
].sort((a, b) => (sortKey(a.code) < sortKey(b.code) ? -1 : 1));

// "2A"/"2B" sort as 20.1/20.2, where INSEE lists them.
function sortKey(code: string): string {
  return code.replace(/^2([AB])$/, (_, letter: string) => `20${letter}`).padEnd(3, " ");
}

const BY_CODE = new Map(DEPARTEMENTS.map((d) => [d.code, d]));

/** Normalises "2a" to "2A" and "1" to "01"; other strings are returned trimmed. */
export function normaliseDepartementCode(code: string): string {
  const c = code.trim().toUpperCase();
  return /^\d$/.test(c) ? `0${c}` : c;
}

export function departement(code: string): Departement | undefined {
  return BY_CODE.get(normaliseDepartementCode(code));
}

export function isDepartementCode(code: string): boolean {
  return BY_CODE.has(normaliseDepartementCode(code));
}

/** The département's name, or the code itself if it is not one. */
export function departementName(code: string): string {
  return departement(code)?.name ?? code;
}

/**
 * The département of a commune from its INSEE code (5 characters): the first
 * two characters, or three for overseas (97x), "2A"/"2B" in Corsica. Null when
 * the code is not a commune's or names no département (975 Saint-Pierre-et-
 * Miquelon and 977+ are collectivités, not départements).
 */
export function departementOfCommune(inseeCommune: string): string | null {
  const c = inseeCommune.trim().toUpperCase();
  if (!/^(\d{5}|2[AB]\d{3})$/.test(c)) return null;
  const code = c.startsWith("97") ? c.slice(0, 3) : c.slice(0, 2);
  return BY_CODE.has(code) ? code : null;
}
