// Limits on what a document may make this process do or keep: any server of
// the fediverse, and any member, can send a value whose size sets the work
// (nesting depth, list lengths, dates, coordinates). One place for the figures,
// so docs/federation.md's table and the code agree.

/** JSON nesting (objects and arrays) accepted on the inbox and the JSON APIs. */
export const MAX_JSON_DEPTH = 64;
/** Addressees (to, cc, bto, bcc, audience together) and tags of an incoming object. */
export const MAX_ADDRESSEES = 500;
export const MAX_TAGS = 100;
export const MAX_ATTACHMENTS = 20;
/** Other accounts an actor may name (`alsoKnownAs`) that we keep. */
export const MAX_ALIASES = 20;
/** Options of a remote poll (Question) kept; Mastodon allows 4 by default, some servers 20. */
export const MAX_POLL_OPTIONS = 20;
/** Counters a peer reports (votes, participants, results): kept within this. */
export const MAX_COUNTER = 1_000_000_000;
/** A campaign result's figure (per metric), from a member or a peer. */
export const MAX_FIGURE = 1_000_000;
/** Images: pixels and side, checked from the header before anything decodes them. */
export const MAX_IMAGE_PIXELS = 40_000_000;
export const MAX_IMAGE_SIDE = 16_384;
/** Plain-text fields of remote objects (names, titles, summaries) and HTML content. */
export const MAX_NAME_LENGTH = 500;
export const MAX_CONTENT_LENGTH = 100_000;

/** Dates outside 1900–2200 are refused: year 275760 is a valid JavaScript date, and no meeting's. */
export const MIN_DATE = Date.UTC(1900, 0, 1);
export const MAX_DATE = Date.UTC(2201, 0, 1) - 1;

export function inDateRange(ms: number | null | undefined): boolean {
  return ms == null || (Number.isFinite(ms) && ms >= MIN_DATE && ms <= MAX_DATE);
}

export function validLatitude(value: number | null | undefined): boolean {
  return value == null || (Number.isFinite(value) && value >= -90 && value <= 90);
}

export function validLongitude(value: number | null | undefined): boolean {
  return value == null || (Number.isFinite(value) && value >= -180 && value <= 180);
}

/**
 * Whether JSON text nests deeper than `max`, found by one scan of its
 * characters (no recursion, no parse): JSON.parse and the code that walks its
 * result recurse, and a body 200,000 levels deep overflows the stack.
 * Brackets inside strings are skipped; the text need not be valid JSON.
 */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** The same for a value already parsed (a document Fedify fetched), walked with a stack of its own. */
export function valueTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop()!;
    if (!item || typeof item !== "object") continue;
    if (depth > max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) if (child && typeof child === "object") stack.push([child, depth + 1]);
  }
  return false;
}
