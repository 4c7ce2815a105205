// Logging in and out, the first-run page and accepting an invitation.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { UserError } from "../../errors.ts";
import { findUsableInvitation, redeemInvitation } from "../../members/invitations.ts";
import { authenticate, type User } from "../../members/members.ts";
import { DEVICE_COOKIE, DEVICE_DAYS, newDeviceCookie, trustedDevice, type LoginRateLimiter } from "../../members/rate-limit.ts";
import { createSession, destroySession, SESSION_COOKIE, SESSION_DAYS } from "../../members/sessions.ts";
import { completeFirstRun, isSetupTokenValid } from "../../members/setup.ts";
import type { Services } from "../../services.ts";
import { html, type Html } from "../html.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { cookieOptions, safeRedirect, sendPage } from "../respond.ts";

type Form = Record<string, string | undefined>;

function accountForm(page: PageContext, action: string, submit: string, values: Form = {}): Html {
  const { t } = page;
  return html`<form method="post" action="${action}">
  ${csrfField(page)}
  <label for="display_name">${t("field.display_name")}</label>
  <input type="text" id="display_name" name="display_name" maxlength="100" value="${values.display_name ?? ""}" autocomplete="name">
  <label for="username">${t("login.username")}</label>
  <input type="text" id="username" name="username" required maxlength="30" pattern="[a-z0-9_]{1,30}" aria-describedby="username-help" value="${values.username ?? ""}" autocomplete="username">
  <p class="help" id="username-help">${t("field.username_help")}</p>
  <label for="password">${t("login.password")}</label>
  <input type="password" id="password" name="password" required minlength="10" aria-describedby="password-help" autocomplete="new-password">
  <p class="help" id="password-help">${t("field.password_help")}</p>
  <p><button type="submit">${submit}</button></p>
</form>`;
}

function startSession(services: Services, reply: FastifyReply, user: User): void {
  const token = createSession(services.db, user.id);
  reply.setCookie(SESSION_COOKIE, token, cookieOptions(services, SESSION_DAYS * 86_400));
}

type NewAccount = { username: string; displayName: string | undefined; password: string };

/**
 * The end of both ways in (first-run link, invitation): create the account,
 * log its owner in and go home; a mistake in the form shows the form again
 * with the reason, and a dead link is the error page (`deadLink`).
 */
async function createAccountAndLogIn(
  services: Services,
  reply: FastifyReply,
  form: Form,
  deadLink: string,
  create: (account: NewAccount) => Promise<User>,
  showForm: (error: UserError) => unknown,
): Promise<unknown> {
  try {
    const user = await create({ username: form.username ?? "", displayName: form.display_name, password: form.password ?? "" });
    startSession(services, reply, user);
    return reply.redirect("/", 303);
  } catch (error) {
    if (!(error instanceof UserError) || error.code === deadLink) throw error;
    return showForm(error);
  }
}

export function registerAuthRoutes(web: FastifyInstance, services: Services, limiter: LoginRateLimiter): void {
  const loginPage = (page: PageContext, next: string, error?: string, username = "") =>
    layout(page, page.t("login.title"), html`<h1>${page.t("login.title")}</h1>
<form method="post" action="/login">
  ${csrfField(page)}
  <input type="hidden" name="next" value="${next}">
  <label for="username">${page.t("login.username")}</label>
  <input type="text" id="username" name="username" required autocomplete="username" value="${username}">
  <label for="password">${page.t("login.password")}</label>
  <input type="password" id="password" name="password" required autocomplete="current-password">
  <p><button type="submit">${page.t("login.submit")}</button></p>
</form>
<p><a href="/password/forgot">${page.t("password.forgot_link")}</a></p>`, { error });

  web.get("/login", (request: FastifyRequest<{ Querystring: { next?: string } }>, reply) =>
    sendPage(reply, loginPage(request.page, safeRedirect(request.query.next))),
  );

  web.post("/login", async (request, reply) => {
    const form = request.body as Form;
    const username = form.username ?? "";
    const next = safeRedirect(form.next);
    // Throttling: see src/members/rate-limit.ts (a browser that logged in before is trusted).
    const deviceCookie = request.cookies[DEVICE_COOKIE];
    const attempt = { address: request.ip, username, device: trustedDevice(services.db, deviceCookie, username) };
    const wait = limiter.check(attempt);
    if (wait) {
      reply.header("retry-after", String(wait.minutes * 60));
      const message = wait.scope === "account" ? "login_rate_limited_account" : "login_rate_limited";
      return sendPage(reply, loginPage(request.page, next, request.page.t(message, { minutes: wait.minutes }), username), 429);
    }
    try {
      const user = await authenticate(services.db, username, form.password ?? "");
      limiter.succeed(attempt);
      reply.setCookie(DEVICE_COOKIE, attempt.device ? deviceCookie! : newDeviceCookie(services.db, user.username), cookieOptions(services, DEVICE_DAYS * 86_400));
      startSession(services, reply, user);
      return reply.redirect(next, 303);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      if (error.code === "login_failed") limiter.fail(attempt);
      return sendPage(reply, loginPage(request.page, next, request.page.t(error.code, error.params), username), error.status);
    }
  });

  web.post("/logout", (request, reply) => {
    const token = request.cookies[SESSION_COOKIE];
    if (token) destroySession(services.db, token);
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return reply.redirect("/", 303);
  });

  web.get("/setup/:token", (request: FastifyRequest<{ Params: { token: string } }>, reply) => {
    const { page } = request;
    if (!isSetupTokenValid(services.db, request.params.token)) throw new UserError("setup_link_invalid", 410);
    return sendPage(reply, layout(page, page.t("setup.title"), html`<h1>${page.t("setup.title")}</h1><p>${page.t("setup.intro")}</p>
${accountForm(page, `/setup/${request.params.token}`, page.t("setup.submit"))}`));
  });

  web.post("/setup/:token", (request: FastifyRequest<{ Params: { token: string } }>, reply) => {
    const { page } = request;
    const form = request.body as Form;
    return createAccountAndLogIn(services, reply, form, "setup_link_invalid", (account) => completeFirstRun(services.db, services.config, request.params.token, account), (error) =>
      sendPage(reply, layout(page, page.t("setup.title"), html`<h1>${page.t("setup.title")}</h1>
${accountForm(page, `/setup/${request.params.token}`, page.t("setup.submit"), form)}`, { error: page.t(error.code, error.params) }), error.status),
    );
  });

  const invitePage = (page: PageContext, token: string, role: string, values: Form = {}, error?: string) =>
    layout(page, page.t("invite.title"), html`<h1>${page.t("invite.title")}</h1>
<p>${page.t("invite.intro", { name: services.config.name, role: page.t(`role.${role}`) })}</p>
${accountForm(page, `/invite/${token}`, page.t("invite.submit"), values)}`, { error });

  web.get("/invite/:token", (request: FastifyRequest<{ Params: { token: string } }>, reply) => {
    const invitation = findUsableInvitation(services.db, request.params.token);
    if (!invitation) throw new UserError("invitation_invalid", 410);
    return sendPage(reply, invitePage(request.page, request.params.token, invitation.role));
  });

  web.post("/invite/:token", (request: FastifyRequest<{ Params: { token: string } }>, reply) => {
    const form = request.body as Form;
    const { token } = request.params;
    return createAccountAndLogIn(services, reply, form, "invitation_invalid", (account) => redeemInvitation(services.db, services.config, token, account), (error) => {
      const invitation = findUsableInvitation(services.db, token);
      return sendPage(reply, invitePage(request.page, token, invitation?.role ?? "member", form, request.page.t(error.code, error.params)), error.status);
    });
  });
}
