// The host operator's page, /host: the hosted instances with their state and
// size, a form to add one, and suspend / resume / remove buttons. Served by
// the front door (router.ts) on any host name that is not an instance's, and
// only with COOPOL_HOST_ADMIN_TOKEN set. Login: the token itself (failures
// throttled); the session
// cookie is an HMAC of it (changing the token logs everyone out), SameSite=Strict
// and limited to /host, and every POST must come from this page's own origin.
import { createHmac, timingSafeEqual } from "node:crypto";
import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import Fastify, { type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { ConfigError, INSTANCE_KINDS, loadConfig, pickHostWide } from "../config.ts";
import { UserError } from "../errors.ts";
import { LoginRateLimiter } from "../members/rate-limit.ts";
import { html, type Html } from "../web/html.ts";
import { pickLocale, translator, type Translate } from "../web/i18n.ts";
import { CSS } from "../web/static.ts";
import type { InstancePool } from "./pool.ts";
import { addInstance, confirmRemoval, hostedInstance, listInstances, removeInstance, resumeInstance, suspendInstance } from "./provision.ts";
import type { Registry } from "./registry.ts";

const COOKIE = "coopol_host";

export interface OperatorOptions {
  registry: Registry;
  pool: InstancePool;
  token: string;
  log: Logger;
  hostEnv: NodeJS.ProcessEnv;
}

function sessionValue(token: string): string {
  return createHmac("sha256", token).update("coopol host operator session").digest("base64url");
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function frame(t: Translate, locale: string, title: string, body: Html, message?: { notice?: string; error?: string }): string {
  return html`<!doctype html>
<html lang="${locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Coopol</title>
<link rel="stylesheet" href="/host/coopol.css">
</head>
<body>
<header><p class="brand">Coopol <span>${t("host.login.title")}</span></p></header>
<main id="main">
${message?.notice ? html`<p class="notice" role="status">${message.notice}</p>` : ""}
${message?.error ? html`<p class="error" role="alert">${message.error}</p>` : ""}
${body}
</main>
</body>
</html>`.value;
}

function sizeText(bytes: number): string {
  return bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export async function createOperatorApp(options: OperatorOptions) {
  const { registry, pool, token, log } = options;
  const app = Fastify({ loggerInstance: log.child({ component: "host-operator" }, { level: "warn" }) as unknown as FastifyBaseLogger, bodyLimit: 64 * 1024, trustProxy: loadConfig({ ...pickHostWide(options.hostEnv), COOPOL_DATA: registry.hostData }).trustedProxies });
  await app.register(cookie);
  await app.register(formbody);
  const session = sessionValue(token);
  // Guessing the token is throttled like members' passwords (src/members/rate-limit.ts).
  const limiter = new LoginRateLimiter();

  const localeOf = (request: FastifyRequest) => pickLocale(request.headers["accept-language"]);
  const loggedIn = (request: FastifyRequest) => same(request.cookies[COOKIE] ?? "", session);

  function send(reply: FastifyReply, page: string, status = 200) {
    return reply
      .code(status)
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-store")
      .header("content-security-policy", "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "same-origin")
      .send(page);
  }

  function loginPage(request: FastifyRequest, reply: FastifyReply, error?: string, status = error ? 401 : 200) {
    const locale = localeOf(request);
    const t = translator(locale);
    const body = html`<h1>${t("host.login.title")}</h1>
<form method="post" action="/host/login">
<label>${t("host.login.token")} <input type="password" name="token" autocomplete="current-password" required></label>
<button type="submit">${t("host.login.submit")}</button>
</form>`;
    return send(reply, frame(t, locale, t("host.login.title"), body, { error }), status);
  }

  function listPage(request: FastifyRequest, reply: FastifyReply, message: { notice?: string; error?: string } = {}, status = 200) {
    const locale = localeOf(request);
    const t = translator(locale);
    const rows = listInstances(registry);
    const actions = (domain: string, state: string) => html`<form method="post" action="/host/${state === "active" ? "suspend" : "resume"}" class="inline"><input type="hidden" name="domain" value="${domain}"><button type="submit" class="${state === "active" ? "danger" : "secondary"}" aria-label="${t(state === "active" ? "host.suspend" : "host.resume")} : ${domain}">${t(state === "active" ? "host.suspend" : "host.resume")}</button></form>
<form method="get" action="/host/remove" class="inline"><input type="hidden" name="domain" value="${domain}"><button type="submit" class="danger" aria-label="${t("host.remove")} : ${domain}">${t("host.remove")}</button></form>`;
    const table = rows.length
      ? html`<div class="table-wrap" role="region" aria-label="${t("host.title")}" tabindex="0"><table>
<thead><tr><th scope="col">${t("host.domain")}</th><th scope="col">${t("host.name")}</th><th scope="col">${t("host.kind")}</th><th scope="col">${t("host.state")}</th><th scope="col">${t("host.size")}</th><th scope="col">${t("host.last_activity")}</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${rows.map(
          (r) => html`<tr><td><a href="${r.origin}">${r.domain}</a></td><td>${r.name}</td><td>${t(`kind.${r.kind}`)}</td><td>${t(`host.state.${r.state}`)}${pool.isLoaded(r.domain) ? html` (${t("host.loaded")})` : ""}</td><td>${sizeText(r.size)}</td><td>${r.lastActivityAt ? new Date(r.lastActivityAt).toLocaleString(locale === "fr" ? "fr-FR" : "en-GB", { timeZone: "Europe/Paris" }) : "—"}</td><td>${actions(r.domain, r.state)}</td></tr>`,
        )}</tbody></table></div>`
      : html`<p>${t("host.none")}</p>`;
    const body = html`<h1>${t("host.title")}</h1>
${table}
<h2>${t("host.add")}</h2>
<form method="post" action="/host/add">
<label>${t("host.domain")} <input name="domain" required></label>
<label>${t("host.name")} <input name="name" required maxlength="100"></label>
<label>${t("host.kind")} <select name="kind">${INSTANCE_KINDS.map((k) => html`<option value="${k}">${t(`kind.${k}`)}</option>`)}</select></label>
<label>${t("host.territory")} <input name="territory"></label>
<label>${t("host.parent")} <input name="parent"></label>
<p><button type="submit">${t("host.add.submit")}</button></p>
</form>`;
    return send(reply, frame(t, locale, t("host.title"), body, message), status);
  }

  /** The step before removing: what it does, and the domain to type again. */
  function removePage(request: FastifyRequest, reply: FastifyReply, domain: string, error?: string, status = error ? 422 : 200) {
    const locale = localeOf(request);
    const t = translator(locale);
    const body = html`<h1>${t("host.remove_title", { domain })}</h1>
<p class="warning">${t("host.remove_warning")}</p>
<form method="post" action="/host/remove">
<input type="hidden" name="domain" value="${domain}">
<label>${t("host.remove_confirm", { domain })} <input name="confirm" autocomplete="off" required></label>
<p class="toolbar"><button type="submit" class="danger">${t("host.remove_submit")}</button> <a href="/host">${t("host.cancel")}</a></p>
</form>`;
    return send(reply, frame(t, locale, t("host.remove_title", { domain }), body, { error }), status);
  }

  // Forms of this page only: the browser names the page's origin on every POST.
  app.addHook("preHandler", async (request, reply) => {
    if (request.method !== "POST") return;
    const origin = request.headers.origin;
    if (origin && origin !== "null" && new URL(origin).host !== request.headers.host) return reply.code(403).send("forbidden");
    if (request.url !== "/host/login" && !loggedIn(request)) return loginPage(request, reply);
  });

  app.get("/host/coopol.css", (_request, reply) => reply.type("text/css; charset=utf-8").header("cache-control", "public, max-age=3600").send(CSS));
  app.get("/host", (request, reply) => (loggedIn(request) ? listPage(request, reply) : loginPage(request, reply)));
  app.post<{ Body: { token?: string } }>("/host/login", (request, reply) => {
    const t = translator(localeOf(request));
    const attempt = { address: request.ip, username: "host operator", device: null };
    const wait = limiter.check(attempt);
    if (wait) return loginPage(request, reply.header("retry-after", String(wait.minutes * 60)), t("login_rate_limited", { minutes: wait.minutes }), 429);
    if (!same(sessionValue(String(request.body?.token ?? "")), session)) {
      limiter.fail(attempt);
      return loginPage(request, reply, t("host_login_failed"));
    }
    limiter.succeed(attempt);
    const secure = request.protocol === "https";
    reply.setCookie(COOKIE, session, { path: "/host", httpOnly: true, sameSite: "strict", secure, maxAge: 12 * 3600 });
    return reply.redirect("/host", 303);
  });

  /** Runs an action and shows the list with its outcome (a setup link is shown, never put in a URL). */
  async function act(request: FastifyRequest, reply: FastifyReply, action: (t: Translate) => Promise<string>) {
    const t = translator(localeOf(request));
    try {
      return listPage(request, reply, { notice: await action(t) });
    } catch (error) {
      if (error instanceof UserError) return listPage(request, reply, { error: t(error.code, error.params) }, error.status);
      if (error instanceof ConfigError) return listPage(request, reply, { error: error.message }, 400);
      throw error;
    }
  }
  type Form = { Body: Record<string, string | undefined> };
  app.post<Form>("/host/add", (request, reply) =>
    act(request, reply, async (t) => {
      const b = request.body ?? {};
      const { entry, setupUrl } = addInstance(registry, { domain: b.domain ?? "", name: b.name, kind: b.kind, territory: b.territory, parent: b.parent }, options.hostEnv);
      return t("host.added", { domain: entry.domain, link: setupUrl });
    }),
  );
  app.post<Form>("/host/suspend", (request, reply) =>
    act(request, reply, async (t) => {
      const entry = suspendInstance(registry, request.body?.domain ?? "");
      await pool.unload(entry.domain);
      return t("host.suspended", { domain: entry.domain });
    }),
  );
  app.post<Form>("/host/resume", (request, reply) =>
    act(request, reply, async (t) => t("host.resumed", { domain: resumeInstance(registry, request.body?.domain ?? "").domain })),
  );
  app.get<{ Querystring: { domain?: string } }>("/host/remove", (request, reply) => {
    if (!loggedIn(request)) return loginPage(request, reply);
    try {
      return removePage(request, reply, hostedInstance(registry, String(request.query.domain ?? "")).domain);
    } catch (error) {
      if (error instanceof UserError) return listPage(request, reply, { error: translator(localeOf(request))(error.code, error.params) }, error.status);
      throw error;
    }
  });
  app.post<Form>("/host/remove", (request, reply) => {
    const domain = request.body?.domain ?? "";
    try {
      confirmRemoval(registry, domain, request.body?.confirm ?? "");
    } catch (error) {
      // A typing slip: the same confirmation again, saying so; an unknown domain: the list.
      if (error instanceof UserError && error.code === "host_remove_confirm") return removePage(request, reply, String(error.params?.domain), translator(localeOf(request))(error.code, error.params));
      if (!(error instanceof UserError)) throw error;
    }
    return act(request, reply, async (t) => {
      const { archive } = await removeInstance(registry, domain, (d) => pool.unload(d));
      return t("host.removed", { domain, archive });
    });
  });
  await app.ready();
  return app;
}
