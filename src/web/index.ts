// Coopol's own web pages: server-rendered HTML that works without JavaScript.
// This plugin sets up what every page needs (who is logged in, language,
// CSRF protection, error pages); routes/ hold the pages themselves.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { UserError } from "../errors.ts";
import { cookieOptions } from "./respond.ts";
import { LoginRateLimiter } from "../members/rate-limit.ts";
import { SESSION_COOKIE, sessionUser } from "../members/sessions.ts";
import type { Services } from "../services.ts";
import { html } from "./html.ts";
import { sendPage } from "./respond.ts";
import { pickLocale, translator } from "./i18n.ts";
import { layout, type PageContext } from "./layout.ts";
import { registerAccountRoutes } from "./routes/account.ts";
import { registerMemberDataRoutes } from "./routes/member-data.ts";
import { registerAuthRoutes } from "./routes/auth.ts";
import { registerMemberRoutes } from "./routes/members.ts";
import { registerPasswordRoutes } from "./routes/passwords.ts";
import { registerTimelineRoutes } from "./routes/timeline.ts";
import { registerOAuthPages } from "./routes/oauth.ts";
import { registerAgendaRoutes } from "./routes/agenda.ts";
import { registerGroupAgendaRoutes } from "./routes/group-agenda.ts";
import { registerCampaignRoutes } from "./routes/campaigns.ts";
import { registerReportRoutes } from "./routes/reports.ts";
import { registerTerritoryRoutes } from "./routes/territory.ts";
import { registerPartyRoutes } from "./routes/party.ts";
import { registerGroupRoutes } from "./routes/groups.ts";
import { registerDebateRoutes } from "./routes/group-debate.ts";
import { registerNotificationPages } from "./routes/notifications.ts";
import { registerStaticFiles } from "./static.ts";
import { registerSecurityHeaders } from "./security-headers.ts";

export const CSRF_COOKIE = "coopol_csrf";

/** Addresses read by programs, never by people: their errors stay JSON. */
const PROGRAM_PATHS = /^\/(api|oauth\/token|oauth\/revoke|\.well-known|nodeinfo|users|inbox|media)(\/|\?|$)/;

/** The page context of a request that did not go through the pages' own hook (unknown addresses, early errors). */
function fallbackPage(services: Services, request: FastifyRequest): PageContext {
  const locale = pickLocale(request.headers["accept-language"]);
  return { services, user: sessionUser(services.db, request.cookies[SESSION_COOKIE]), locale, t: translator(locale), csrf: request.cookies[CSRF_COOKIE] ?? "" };
}

/** Every error a person sees: the site's frame, the reason in plain words, a way back. */
function errorPage(reply: FastifyReply, page: PageContext, message: string, status: number): FastifyReply {
  const body = html`<h1>${page.t("error.title")}</h1><p><a class="button" href="/">${page.t("error.back_home")}</a></p>`;
  return sendPage(reply, layout(page, page.t("error.title"), body, { error: message }), status);
}

declare module "fastify" {
  interface FastifyRequest {
    page: PageContext;
  }
}

export async function registerWeb(app: FastifyInstance, services: Services): Promise<void> {
  const limiter = new LoginRateLimiter();

  registerSecurityHeaders(app);
  registerStaticFiles(app);

  // An unknown address: a page in the site's layout for browsers, JSON for
  // programs (APIs, ActivityPub, WebFinger), as they expect.
  app.setNotFoundHandler((request, reply) => {
    const wantsPage = !PROGRAM_PATHS.test(request.url) && (request.headers.accept ?? "").includes("text/html");
    if (!wantsPage) return reply.code(404).send({ error: "Not found" });
    return errorPage(reply, fallbackPage(services, request), translator(pickLocale(request.headers["accept-language"]))("error.not_found"), 404);
  });

  await app.register(async (web) => {
    web.addHook("preHandler", async (request, reply) => {
      const locale = pickLocale(request.headers["accept-language"]);
      let csrf = request.cookies[CSRF_COOKIE];
      if (!csrf || csrf.length < 20) {
        csrf = randomBytes(24).toString("base64url");
        reply.setCookie(CSRF_COOKIE, csrf, cookieOptions(services));
      }
      request.page = {
        services,
        user: sessionUser(services.db, request.cookies[SESSION_COOKIE]),
        locale,
        t: translator(locale),
        csrf,
      };
      // Double-submit check on every form: the hidden field must match the cookie.
      if (request.method === "POST") {
        const sent = (request.body as Record<string, unknown> | undefined)?._csrf;
        const cookie = request.cookies[CSRF_COOKIE];
        const ok = typeof sent === "string" && !!cookie && sent.length === cookie.length && timingSafeEqual(Buffer.from(sent), Buffer.from(cookie));
        if (!ok) throw new UserError("error.csrf", 403);
      }
    });

    web.setErrorHandler((error, request, reply) => {
      const page = request.page ?? fallbackPage(services, request);
      if (error instanceof UserError) {
        // A visitor's browser on a members-only page (a link pasted in a chat) is
        // asked to log in, then comes back; it is told nothing else, existing or not.
        const visitorsPage = error.status === 404 && !page.user && (request.headers.accept ?? "").includes("text/html");
        if ((error.status === 401 || visitorsPage) && request.method === "GET") {
          return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`);
        }
        return errorPage(reply, page, page.t(error.code, error.params), error.status);
      }
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      if (status === 413) return errorPage(reply, page, page.t("error.too_large"), 413);
      if (status < 500) return errorPage(reply, page, error instanceof Error ? error.message : String(error), status);
      services.log.error({ err: error, url: request.url }, "web page failed");
      return errorPage(reply, page, page.t("error.internal"), 500);
    });

    registerAuthRoutes(web, services, limiter);
    registerTimelineRoutes(web, services);
    registerMemberRoutes(web, services);
    registerPasswordRoutes(web, services);
    registerAccountRoutes(web, services);
    registerMemberDataRoutes(web, services);
    registerOAuthPages(web, services);
    registerAgendaRoutes(web, services);
    registerGroupAgendaRoutes(web, services);
    registerCampaignRoutes(web, services);
    registerReportRoutes(web, services);
    registerTerritoryRoutes(web, services);
    registerPartyRoutes(web, services);
    registerGroupRoutes(web, services);
    registerDebateRoutes(web, services);
    registerNotificationPages(web, services);
  });
}
