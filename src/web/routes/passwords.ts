// Passwords from the web: change one's own, "forgot my password" (an e-mail
// when SMTP is configured, otherwise the way to ask a secretary), and the
// one-time reset links that either way hands out.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { UserError } from "../../errors.ts";
import { duration } from "../../federation/time.ts";
import { mailEnabled, sendMail } from "../../mail/mailer.ts";
import { accountForReset, changePassword, createResetLink, resetLinkUser, resetPassword } from "../../members/passwords-reset.ts";
import { SESSION_COOKIE } from "../../members/sessions.ts";
import type { Services } from "../../services.ts";
import { hashToken } from "../../storage/tokens.ts";
import { html, raw } from "../html.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { requireUser, sendPage } from "../respond.ts";

type Form = Record<string, string | undefined>;
type WithToken = FastifyRequest<{ Params: { token: string } }>;

/** One e-mail per account every 10 minutes: the form cannot be used to flood someone's inbox. */
const MAIL_INTERVAL_MS = 10 * 60_000;

export function registerPasswordRoutes(web: FastifyInstance, services: Services): void {
  const { db, kv, config } = services;

  const newPasswordField = (page: PageContext) => html`<label for="password">${page.t("password.new")}</label>
  <input type="password" id="password" name="password" required minlength="10" autocomplete="new-password" aria-describedby="password-help">
  <p class="help" id="password-help">${page.t("field.password_help")}</p>`;

  const changePage = (page: PageContext, options: { notice?: string; error?: string } = {}) =>
    layout(page, page.t("password.change_title"), html`<h1>${page.t("password.change_title")}</h1>
<form method="post" action="/settings/password">
  ${csrfField(page)}
  <input type="hidden" name="username" value="${page.user?.username ?? ""}" autocomplete="username">
  <label for="current">${page.t("password.current")}</label>
  <input type="password" id="current" name="current" required autocomplete="current-password">
  ${newPasswordField(page)}
  <p><button type="submit">${page.t("password.change_submit")}</button></p>
</form>
<p><a href="/settings">${page.t("settings.title")}</a></p>`, options);

  web.get("/settings/password", (request, reply) => {
    requireUser(request);
    return sendPage(reply, changePage(request.page));
  });

  web.post("/settings/password", async (request, reply) => {
    const user = requireUser(request);
    const form = request.body as Form;
    const session = request.cookies[SESSION_COOKIE];
    try {
      await changePassword(db, user, form.current ?? "", form.password ?? "", session ? hashToken(session) : undefined);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      return sendPage(reply, changePage(request.page, { error: request.page.t(error.code, error.params) }), error.status);
    }
    return sendPage(reply, changePage(request.page, { notice: request.page.t("password.changed") }));
  });

  const forgotPage = (page: PageContext, notice?: string) => {
    const { t } = page;
    const byMail = mailEnabled(config);
    return layout(page, t("password.forgot_title"), html`<h1>${t("password.forgot_title")}</h1>
<p>${t(byMail ? "password.forgot_intro_mail" : "password.forgot_intro_nomail")}</p>
${byMail && !notice ? html`<form method="post" action="/password/forgot">
  ${csrfField(page)}
  <label for="identifier">${t("password.forgot_identifier")}</label>
  <input type="text" id="identifier" name="identifier" required maxlength="254" autocomplete="username">
  <p><button type="submit">${t("password.forgot_submit")}</button></p>
</form>` : ""}
<p><a href="/login">${t("nav.login")}</a></p>`, { notice });
  };

  web.get("/password/forgot", (request, reply) => sendPage(reply, forgotPage(request.page)));

  web.post("/password/forgot", async (request, reply) => {
    const { page } = request;
    if (!mailEnabled(config)) return sendPage(reply, forgotPage(page));
    const user = accountForReset(db, (request.body as Form).identifier ?? "");
    const throttle = user ? (["coopol", "password-reset-mail", String(user.id)] as const) : null;
    // The same answer whether or not an account matched: the form does not tell who is a member.
    if (user?.email && throttle && !(await kv.get(throttle))) {
      await kv.set(throttle, true, { ttl: duration(MAIL_INTERVAL_MS) });
      const link = await createResetLink(kv, config, user);
      const t = page.t;
      const text = t("password.mail_text", { name: config.name, url: link.url });
      try {
        await sendMail(config, { to: user.email, subject: t("password.mail_subject", { name: config.name }), text, html: html`<p>${text.split("\n").map((line, i) => html`${i ? raw("<br>") : ""}${line}`)}</p>`.value });
      } catch (error) {
        services.log.warn({ err: error }, "password reset e-mail not sent");
      }
    }
    return sendPage(reply, forgotPage(page, page.t("password.forgot_sent")));
  });

  const resetPage = (page: PageContext, token: string, username: string, error?: string) =>
    layout(page, page.t("password.reset_title"), html`<h1>${page.t("password.reset_title")}</h1>
<p>${page.t("password.reset_intro", { username })}</p>
<form method="post" action="/password/reset/${token}">
  ${csrfField(page)}
  <input type="hidden" name="username" value="${username}" autocomplete="username">
  ${newPasswordField(page)}
  <p><button type="submit">${page.t("password.reset_submit")}</button></p>
</form>`, { error });

  web.get("/password/reset/:token", async (request: WithToken, reply) => {
    const user = await resetLinkUser(db, kv, request.params.token);
    if (!user) throw new UserError("password_reset_invalid", 410);
    return sendPage(reply, resetPage(request.page, request.params.token, user.username));
  });

  web.post("/password/reset/:token", async (request: WithToken, reply) => {
    const { page } = request;
    const { token } = request.params;
    try {
      await resetPassword(db, kv, token, (request.body as Form).password ?? "");
    } catch (error) {
      if (!(error instanceof UserError) || error.code === "password_reset_invalid") throw error;
      const user = await resetLinkUser(db, kv, token);
      return sendPage(reply, resetPage(page, token, user?.username ?? "", page.t(error.code, error.params)), error.status);
    }
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return sendPage(reply, layout(page, page.t("password.reset_title"), html`<h1>${page.t("password.reset_title")}</h1>
<p><a class="button" href="/login">${page.t("nav.login")}</a></p>`, { notice: page.t("password.reset_done") }));
  });
}
