// Text of posts: what members type becomes safe HTML with links, mentions and
// hashtags; HTML from other servers is sanitised before it is stored.
import sanitizeHtml from "sanitize-html";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// @user or @user@host; #tag (letters, digits, _ in any script); http(s) links.
const TOKEN = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'])|(?<![\w@/])@([a-z0-9_]{1,30})(?:@([a-z0-9.-]+(?::\d+)?))?|(?<![\w&/#])#([\p{L}\p{N}_]{1,100})/giu;

export interface MentionRef {
  username: string;
  /** null: a local account. */
  domain: string | null;
}

export interface ParsedText {
  mentions: MentionRef[];
  tags: string[];
}

/** Mentions and hashtags a member's text contains, before anything is resolved. */
export function parseText(text: string): ParsedText {
  const mentions = new Map<string, MentionRef>();
  const tags = new Set<string>();
  for (const m of text.matchAll(TOKEN)) {
    if (m[2]) {
      const ref = { username: m[2].toLowerCase(), domain: m[3]?.toLowerCase() ?? null };
      mentions.set(`${ref.username}@${ref.domain ?? ""}`, ref);
    } else if (m[4]) tags.add(m[4].toLowerCase());
  }
  return { mentions: [...mentions.values()], tags: [...tags] };
}

/**
 * Turns a member's plain text into HTML. `mentionUrl` gives the profile link of
 * a mention it could resolve; unresolved mentions stay plain text.
 */
/** A hashtag's page on this instance. */
export function tagUrl(origin: string, tag: string): string {
  return `${origin}/tags/${encodeURIComponent(tag)}`;
}

export function formatText(
  text: string,
  options: { mentionUrl: (ref: MentionRef) => string | null; tagUrl: (tag: string) => string },
): string {
  const paragraphs = text.trim().split(/\n{2,}/);
  return paragraphs
    .map((paragraph) => {
      let html = "";
      let last = 0;
      for (const m of paragraph.matchAll(TOKEN)) {
        html += escapeHtml(paragraph.slice(last, m.index));
        last = m.index + m[0].length;
        if (m[1]) {
          html += `<a href="${escapeHtml(m[1])}" rel="nofollow noopener noreferrer" target="_blank">${escapeHtml(m[1])}</a>`;
        } else if (m[2]) {
          const url = options.mentionUrl({ username: m[2].toLowerCase(), domain: m[3]?.toLowerCase() ?? null });
          html += url
            ? `<span class="h-card"><a href="${escapeHtml(url)}" class="u-url mention">@<span>${escapeHtml(m[2])}</span></a></span>`
            : escapeHtml(m[0]);
        } else if (m[4]) {
          html += `<a href="${escapeHtml(options.tagUrl(m[4].toLowerCase()))}" class="mention hashtag" rel="tag">#<span>${escapeHtml(m[4])}</span></a>`;
        }
      }
      html += escapeHtml(paragraph.slice(last));
      return `<p>${html.replace(/\n/g, "<br>")}</p>`;
    })
    .join("");
}

const ALLOWED = {
  allowedTags: ["p", "br", "a", "span", "strong", "b", "em", "i", "u", "s", "del", "pre", "code", "blockquote", "ul", "ol", "li"],
  allowedAttributes: { a: ["href", "rel", "class", "target"], span: ["class"] },
  // Web links only (no javascript:, data:, mailto:…), for href and anything else that holds a URL.
  allowedSchemes: ["http", "https"],
  allowedSchemesByTag: {},
  allowProtocolRelative: false,
  // Another server's links: no ranking credit, no access to our window, no Referer.
  transformTags: { a: sanitizeHtml.simpleTransform("a", { rel: "nofollow noopener noreferrer", target: "_blank" }) },
} satisfies sanitizeHtml.IOptions;

/** HTML from another server, reduced to what Mastodon also keeps. */
export function sanitizeRemoteHtml(html: string): string {
  return sanitizeHtml(html, ALLOWED);
}

/** Plain text of stored HTML, for previews and search. */
export function htmlToText(html: string): string {
  return sanitizeHtml(html.replace(/<br\s*\/?>/gi, "\n").replace(/<\/p>\s*<p>/gi, "\n\n"), { allowedTags: [], allowedAttributes: {} })
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
}
