// Security headers of every HTML page, set in one hook: a Content-Security-Policy
// that lets only our own files run (pages need no inline script; chart data
// travels in JSON data islands, which are never executed), no framing, no
// plugins, no <base>, forms posted to this site only, and a Referer that never
// leaves it. A page may let its form lead elsewhere (allowFormTarget): the
// OAuth consent form ends in a redirect to the app, and Chromium checks
// form-action on the redirects that follow a form too.
import type { FastifyInstance, FastifyReply } from "fastify";

const POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // Avatars and images of other servers are shown as they are (https only).
  "img-src 'self' https: data:",
  "media-src 'self' https:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
];

const formTargets = new WeakMap<FastifyReply, string[]>();

/**
 * Lets this reply's forms lead to `url` as well (its origin; a custom scheme
 * such as `org.joinmastodon.app:` for a native app). Anything else is ignored.
 */
export function allowFormTarget(reply: FastifyReply, url: string): void {
  const parsed = URL.parse(url);
  if (!parsed) return;
  const source = parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : parsed.protocol;
  // A CSP source: an origin as URL prints it, or a scheme (letters, digits, + - .).
  if (!/^(https?:\/\/[a-z0-9.:[\]-]+|[a-z][a-z0-9+.-]*:)$/.test(source)) return;
  formTargets.set(reply, [...(formTargets.get(reply) ?? []), source]);
}

export function contentSecurityPolicy(reply: FastifyReply): string {
  return [...POLICY, ["form-action 'self'", ...(formTargets.get(reply) ?? [])].join(" ")].join("; ");
}

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook("onSend", async (_request, reply, payload) => {
    // No response is to be read as another type than it says (uploads, JSON, pages).
    reply.header("x-content-type-options", "nosniff");
    const type = reply.getHeader("content-type");
    if (typeof type === "string" && type.startsWith("text/html")) {
      reply.header("content-security-policy", contentSecurityPolicy(reply));
      // Addresses of members' pages say who reads what: they stay on this site.
      reply.header("referrer-policy", "same-origin");
    }
    return payload;
  });
}
