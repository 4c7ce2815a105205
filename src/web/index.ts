// Coopol's own web pages: server-rendered HTML that works without JavaScript.
// This plugin sets up what every page needs (who is logged in, language,
// CSRF protection, error pages); routes/ hold the pages themselves.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
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
import { registerAuthRoutes } from "./routes/auth.ts";
import { registerMemberRoutes } from "./routes/members.ts";
import { registerTimelineRoutes } from "./routes/timeline.ts";
import { registerOAuthPages } from "./routes/oauth.ts";
import { registerAgendaRoutes } from "./routes/agenda.ts";
import { registerCampaignRoutes } from "./routes/campaigns.ts";
import { registerReportRoutes } from "./routes/reports.ts";
import { registerTerritoryRoutes } from "./routes/territory.ts";
import { registerGroupRoutes } from "./routes/groups.ts";
import { registerDebateRoutes } from "./routes/group-debate.ts";
import { registerNotificationPages } from "./routes/notifications.ts";
import { registerStaticFiles } from "./static.ts";
import { registerSecurityHeaders } from "./security-headers.ts";

export const CSRF_COOKIE = "coopol_csrf";

declare module "fastify" {
  interface FastifyRequest {
    page: PageContext;
  }
}

export async function registerWeb(app: FastifyInstance, services: Services): Promise<void> {
  const limiter = new LoginRateLimiter();

  registerSecurityHeaders(app);
  registerStaticFiles(app);

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
      const page = request.page ?? { services, user: null, locale: "fr", t: translator("fr"), csrf: "" };
      if (error instanceof UserError) {
        if (error.status === 401 && request.method === "GET") {
          return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`);
        }
        return sendPage(reply, layout(page, page.t("error.title"), html`<h1>${page.t("error.title")}</h1>`, { error: page.t(error.code, error.params) }), error.status);
      }
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      if (status === 413) return sendPage(reply, layout(page, page.t("error.title"), html`<h1>${page.t("error.title")}</h1>`, { error: page.t("error.too_large") }), 413);
      if (status < 500) return sendPage(reply, layout(page, page.t("error.title"), html`<h1>${page.t("error.title")}</h1>`, { error: error instanceof Error ? error.message : String(error) }), status);
      services.log.error({ err: error, url: request.url }, "web page failed");
      return sendPage(reply, layout(page, page.t("error.title"), html`<h1>${page.t("error.title")}</h1>`, { error: page.t("error.internal") }), 500);
    });

    registerAuthRoutes(web, services, limiter);
    registerTimelineRoutes(web, services);
    registerMemberRoutes(web, services);
    registerAccountRoutes(web, services);
    registerOAuthPages(web, services);
    registerAgendaRoutes(web, services);
    registerCampaignRoutes(web, services);
    registerReportRoutes(web, services);
    registerTerritoryRoutes(web, services);
    registerGroupRoutes(web, services);
    registerDebateRoutes(web, services);
    registerNotificationPages(web, services);
  });
}
