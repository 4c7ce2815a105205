// The pages of OAuth a member sees: consent to an app (or the code to copy,
// for apps without a redirect), and the list of authorised apps to revoke.
import { dateText } from "../format.ts";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { UserError } from "../../errors.ts";
import { authorisedApps, checkAuthorizationRequest, createAuthorizationCode, OOB_REDIRECT, revokeApp, type AuthorizationRequest } from "../../oauth/oauth.ts";
import type { Services } from "../../services.ts";
import { html } from "../html.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { requireUser, sendPage } from "../respond.ts";
import { safeUrl } from "../../safe-url.ts";
import { allowFormTarget } from "../security-headers.ts";

type Query = Record<string, string | undefined>;

function scopeText(page: PageContext, scope: string): string {
  const top = ["read", "write", "follow", "push", "profile"];
  return top.includes(scope) ? page.t(`oauth.scope.${scope}`) : page.t("oauth.scope.other", { scope });
}

/** Where the browser goes back to the app, with the code (or the refusal). */
function redirectBack(auth: AuthorizationRequest, params: Record<string, string>): string {
  const url = new URL(auth.redirectUri);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  if (auth.state) url.searchParams.set("state", auth.state);
  return url.href;
}

export function registerOAuthPages(web: FastifyInstance, services: Services): void {
  const { db } = services;

  web.get("/oauth/authorize", (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    const { page } = request;
    // Checked before login, so a broken link says so at once.
    const auth = checkAuthorizationRequest(db, request.query);
    const user = requireUser(request);
    // Whatever the app registered: shown only if it is a web address.
    const website = safeUrl(auth.app.website);
    // The form ends in a redirect to the app: the page's form-action must allow it.
    if (auth.redirectUri !== OOB_REDIRECT) allowFormTarget(reply, auth.redirectUri);
    const fields = ["client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "response_type"];
    return sendPage(reply, layout(page, page.t("oauth.title"), html`<h1>${page.t("oauth.title")}</h1>
<p>${page.t("oauth.intro", { name: auth.app.name, username: user.username })}</p>
${website ? html`<p><a href="${website}" rel="nofollow noopener noreferrer">${website}</a></p>` : ""}
<p>${page.t("oauth.scopes")}</p>
<ul>${auth.scopes.map((s) => html`<li>${scopeText(page, s)}</li>`)}</ul>
<form method="post" action="/oauth/authorize">
  ${csrfField(page)}
  ${fields.map((f) => (request.query[f] !== undefined ? html`<input type="hidden" name="${f}" value="${request.query[f]!}">` : ""))}
  <p><button type="submit" name="decision" value="allow">${page.t("oauth.allow")}</button>
  <button type="submit" name="decision" value="deny" class="secondary">${page.t("oauth.deny")}</button></p>
</form>`));
  });

  web.post("/oauth/authorize", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const form = request.body as Query;
    const auth = checkAuthorizationRequest(db, form);
    if (form.decision !== "allow") {
      if (auth.redirectUri === OOB_REDIRECT) return reply.redirect("/", 303);
      return reply.redirect(redirectBack(auth, { error: "access_denied" }), 303);
    }
    const code = createAuthorizationCode(db, user, auth);
    if (auth.redirectUri !== OOB_REDIRECT) return reply.redirect(redirectBack(auth, { code }), 303);
    return sendPage(reply, layout(page, page.t("oauth.code_title"), html`<h1>${page.t("oauth.code_title")}</h1>
<p>${page.t("oauth.code_help", { name: auth.app.name })}</p>
<p><code id="oauth-code" class="code">${code}</code></p>`));
  });

  web.get("/settings/apps", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const apps = authorisedApps(db, user);
    const revoked = (request.query as Query).revoked === "1";
    return sendPage(reply, layout(page, page.t("apps.title"), html`<h1>${page.t("apps.title")}</h1>
${apps.length === 0 ? html`<p>${page.t("apps.none")}</p>` : html`<ul class="apps">${apps.map((a) => html`<li>
  <strong>${a.name}</strong> — ${a.scopes}<br>
  <small>${a.lastUsedAt ? page.t("apps.last_used", { date: dateText(page, a.lastUsedAt) }) : page.t("apps.never_used")}</small>
  <form method="post" action="/settings/apps/${a.appId}/revoke" class="inline">${csrfField(page)}<button type="submit">${page.t("apps.revoke")}</button></form>
</li>`)}</ul>`}`, { notice: revoked ? page.t("apps.revoked") : undefined }));
  });

  web.post("/settings/apps/:id/revoke", (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const user = requireUser(request);
    if (!/^\d+$/.test(request.params.id)) throw new UserError("oauth_invalid_client", 404);
    revokeApp(db, user, Number(request.params.id), services.events);
    return reply.redirect("/settings/apps?revoked=1", 303);
  });
}
