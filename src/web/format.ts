// Small pieces of text shared by the pages: dates (absolute and relative),
// an account's name, handle and profile address, a post's address and excerpt.
import { dateFormat } from "../dates.ts";
import type { ActorRow } from "../federation/actors.ts";
import type { PostRow } from "../posts/posts.ts";
import { htmlToText } from "../posts/content.ts";
import { firstSafeUrl } from "../safe-url.ts";
import type { PageContext } from "./layout.ts";

const intlLocale = (page: Pick<PageContext, "locale">) => (page.locale === "fr" ? "fr-FR" : "en-GB");

/** A date and time on the section's clock, in the page's language. */
export function dateText(page: Pick<PageContext, "locale">, ms: number): string {
  return dateFormat(intlLocale(page), { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Paris" }).format(ms);
}

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();
const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/** "il y a 5 minutes" / "5 minutes ago"; a week or more back, the date itself. */
export function relativeDate(page: Pick<PageContext, "locale">, ms: number, now = Date.now()): string {
  const ago = now - ms;
  if (ago >= 7 * 86_400_000 || ago < -60_000) return dateText(page, ms);
  const locale = intlLocale(page);
  let format = relativeFormats.get(locale);
  if (!format) {
    format = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
    relativeFormats.set(locale, format);
  }
  for (const [unit, size] of UNITS) if (ago >= size) return format.format(-Math.floor(ago / size), unit);
  return format.format(0, "second");
}

/** The name an account shows: its display name, or else its username. */
export function actorName(actor: Pick<ActorRow, "name" | "username"> | undefined): string {
  return actor?.name || actor?.username || "?";
}

/** @name for a local account, @name@host for another server's. */
export function handleOf(actor: Pick<ActorRow, "username" | "domain" | "local">): string {
  return actor.local ? `@${actor.username}` : `@${actor.username}@${actor.domain}`;
}

/** An account's page: ours for a local account, its own server's otherwise (http(s) only, else "#"). */
export function profileUrl(actor: Pick<ActorRow, "local" | "username" | "url" | "uri"> | undefined): string {
  return actor?.local ? `/@${actor.username}` : (firstSafeUrl(actor?.url, actor?.uri) ?? "#");
}

/** A post's page: ours for a local author's post, its own server's otherwise (http(s) only, else "#"). */
export function postUrl(post: Pick<PostRow, "id" | "url" | "uri">, author: Pick<ActorRow, "local" | "username"> | undefined): string {
  return author?.local ? `/@${author.username}/${post.id}` : (firstSafeUrl(post.url, post.uri) ?? "#");
}

/** A post's text without markup (entities decoded: the html tag escapes it again), on one line. */
export function plainText(content: string): string {
  return htmlToText(content).replace(/\s+/g, " ").trim();
}

/** The start of a post's text (its content warning instead, if it has one), at most `max` characters. */
export function postExcerpt(post: Pick<PostRow, "content" | "summary">, max = 140): string {
  if (post.summary) return post.summary;
  const text = plainText(post.content);
  return text.length > max ? `${text.slice(0, max - 1).trimEnd()}…` : text;
}
