// The member list and invitations. Membership is sensitive: only logged-in
// card-holding members see the list; only secretaries and admins invite.
import { dateFormat } from "../../dates.ts";
import type { FastifyInstance } from "fastify";
import { UserError } from "../../errors.ts";
import { createInvitation, INVITATION_DAYS } from "../../members/invitations.ts";
import { canManageMembers, isCardHolder, listMembers, parseRole } from "../../members/members.ts";
import type { Services } from "../../services.ts";
import { ROLES } from "../../storage/schema.ts";
import { html, raw } from "../html.ts";
import { csrfField, layout, type PageContext } from "../layout.ts";
import { requireUser, sendPage } from "../respond.ts";

export function registerMemberRoutes(web: FastifyInstance, services: Services): void {
  // What this instance is, who runs it, and where its source code is (AGPL).
  web.get("/about", (request, reply) => {
    const { page } = request;
    const { config } = services;
    return sendPage(reply, layout(page, page.t("about.title"), html`<h1>${page.t("about.title")}</h1>
<p>${page.t("about.intro", { name: config.name, kind: page.t(`kind.${config.kind}`) })}</p>
<dl>
  <dt>${page.t("about.handle")}</dt><dd>@${config.handle}@${new URL(config.origin).host}</dd>
  ${config.territory ? html`<dt>${page.t("about.territory")}</dt><dd>${config.territory}</dd>` : ""}
</dl>
<p>${page.t("about.software")}</p>`));
  });

  web.get("/members", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    if (!isCardHolder(user.role)) throw new UserError("error.forbidden", 403);
    const rows = listMembers(services.db);
    return sendPage(reply, layout(page, page.t("members.title"), html`<h1>${page.t("members.title")}</h1>
<table>
<thead><tr><th scope="col">${page.t("field.display_name")}</th><th scope="col">${page.t("members.username")}</th><th scope="col">${page.t("members.role")}</th><th scope="col">${page.t("members.status")}</th></tr></thead>
<tbody>${rows.map((m) => html`<tr><td><a href="/@${m.username}">${m.displayName}</a></td><td>@${m.username}</td><td>${page.t(`role.${m.role}`)}</td><td>${m.disabledAt ? page.t("members.disabled") : page.t("members.active")}</td></tr>`)}</tbody>
</table>`));
  });

  const invitationForm = (page: PageContext) => html`<h1>${page.t("invite.create.title")}</h1>
<p>${page.t("invite.create.intro", { days: INVITATION_DAYS })}</p>
<form method="post" action="/invitations">
  ${csrfField(page)}
  <label for="role">${page.t("field.role")}</label>
  <select id="role" name="role">${ROLES.map((r) => html`<option value="${r}" ${r === "member" ? raw("selected") : ""}>${page.t(`role.${r}`)}</option>`)}</select>
  <p><button type="submit">${page.t("invite.create.submit")}</button></p>
</form>`;

  web.get("/invitations/new", (request, reply) => {
    const user = requireUser(request);
    if (!canManageMembers(user.role)) throw new UserError("error.forbidden", 403);
    return sendPage(reply, layout(request.page, request.page.t("invite.create.title"), invitationForm(request.page)));
  });

  web.post("/invitations", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    if (!canManageMembers(user.role)) throw new UserError("error.forbidden", 403);
    const role = parseRole((request.body as { role?: string }).role ?? "member");
    const invitation = createInvitation(services.db, services.config, { role, createdBy: user.id });
    const until = dateFormat(page.locale === "fr" ? "fr-FR" : "en-GB", { dateStyle: "long", timeZone: "Europe/Paris" }).format(invitation.expiresAt);
    return sendPage(reply, layout(page, page.t("invite.create.title"), html`${invitationForm(page)}
<h2>${page.t("invite.created", { date: until })}</h2>
<code class="link" id="invitation-link">${invitation.url}</code>`));
  });
}
