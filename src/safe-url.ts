// The one place that decides which addresses Coopol keeps, shows and follows.
// Every URL from outside (another server's documents, an app's registration)
// is hostile: a `javascript:`, `data:` or `vbscript:` link becomes script on
// our pages or in Mastodon apps. It is checked when a remote document is read
// (safeUrl) and again when a page or the API shows it, for rows stored before.
// Redirects after a form or a login go to a path of this site only (localPath).

/** Longer addresses are not links anyone follows; they only fill the database. */
export const MAX_URL_LENGTH = 2048;

// An address as another server writes it: a string, a URL, or an object with
// an `href` (an ActivityStreams Link, as Fedify reads it or as plain JSON).
function textOf(value: unknown, depth = 0): string | null {
  if (value instanceof URL) return value.href;
  if (typeof value === "string") return value;
  if (depth === 0 && value && typeof value === "object" && "href" in value) return textOf((value as { href: unknown }).href, 1);
  return null;
}

/**
 * An absolute `http:` or `https:` address, normalised (what a browser would
 * follow); null for anything else: other schemes, relative or unparsable
 * text, addresses with a user name or password (`https://bank.example@evil/`
 * misleads the reader), or longer than MAX_URL_LENGTH.
 */
export function safeUrl(value: unknown): string | null {
  const text = textOf(value);
  if (!text || text.length > MAX_URL_LENGTH) return null;
  const url = URL.parse(text.trim());
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) return null;
  if (url.username || url.password) return null;
  return url.href.length > MAX_URL_LENGTH ? null : url.href;
}

/** The first safe address among several (an object's `url`, then its id). */
export function firstSafeUrl(...values: unknown[]): string | null {
  for (const value of values) {
    const url = safeUrl(value);
    if (url) return url;
  }
  return null;
}

const LOCAL_BASE = "http://coopol.invalid";

/**
 * A path of this site to redirect to (`next=`, a form's `back`, a Referer), or
 * null. Browsers read `/\host`, `/\t/host` and `//host` as another site, so
 * only one leading slash and no backslash or control character pass; what is
 * left must resolve, as a browser would, to this site. `origin`: an absolute
 * address on it (a Referer) is taken as its path.
 */
export function localPath(target: unknown, origin?: string): string | null {
  if (typeof target !== "string" || target.length > MAX_URL_LENGTH) return null;
  let path = target;
  if (origin && path.startsWith(`${origin}/`)) path = path.slice(origin.length);
  if (!path.startsWith("/") || path.startsWith("//") || /[\\\u0000-\u001f\u007f]/.test(path)) return null;
  const url = URL.parse(path, LOCAL_BASE);
  if (!url || url.origin !== LOCAL_BASE) return null;
  // Normalised: non-ASCII is percent-encoded, so it can go in a Location header.
  return url.pathname + url.search + url.hash;
}
