// A member's own settings: profile, locked account, follow requests to answer.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { UserError } from "../../errors.ts";
import { actorOf } from "../../members/members.ts";
import { updateProfile } from "../../members/profile.ts";
import { setEmailSettings } from "../../members/email.ts";
import { mailEnabled } from "../../mail/mailer.ts";
import { editLocalPost, findPost } from "../../posts/posts.ts";
import { htmlToText } from "../../posts/content.ts";
import type { Services } from "../../services.ts";
import { answerFollowRequest, pendingFollowRequests } from "../../social/follows.ts";
import { html, raw } from "../html.ts";
import { csrfField, layout } from "../layout.ts";
import { requireUser, safeRedirect, sendPage } from "../respond.ts";

type Form = Record<string, string | undefined>;

export function registerAccountRoutes(web: FastifyInstance, services: Services): void {
  const { db } = services;

  web.get("/settings", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const actor = actorOf(db, user);
    const saved = (request.query as { saved?: string }).saved === "1";
    return sendPage(reply, layout(page, page.t("settings.title"), html`<h1>${page.t("settings.title")}</h1>
<form method="post" action="/settings">
  ${csrfField(page)}
  <label for="display_name">${page.t("field.display_name")}</label>
  <input type="text" id="display_name" name="display_name" maxlength="100" value="${actor.name}">
  <label for="bio">${page.t("settings.bio")}</label>
  <textarea id="bio" name="bio" maxlength="1000">${htmlToText(actor.summary)}</textarea>
  <label><input type="checkbox" name="locked" value="1" ${actor.locked ? raw("checked") : ""}> ${page.t("settings.locked")}</label>
  <p class="help">${page.t("settings.locked_help")}</p>
  <label for="email">${page.t("settings.email")}</label>
  <input type="email" id="email" name="email" maxlength="254" autocomplete="email" value="${user.email ?? ""}" aria-describedby="email-help">
  <p class="help" id="email-help">${page.t("settings.email_help")}</p>
  <label><input type="checkbox" name="email_reminders" value="1" ${user.emailReminders ? raw("checked") : ""}> ${page.t("settings.email_reminders")}</label>
  <p class="help">${page.t(mailEnabled(services.config) ? "settings.email_reminders_help" : "settings.email_unavailable")}</p>
  <label><input type="checkbox" name="email_digest" value="1" aria-describedby="digest-help" ${user.emailDigest ? raw("checked") : ""}> ${page.t("settings.email_digest")}</label>
  <p class="help" id="digest-help">${page.t("settings.email_digest_help", { hours: String(services.config.digestHours) })}</p>
  <p><button type="submit">${page.t("settings.save")}</button></p>
</form>
<p><a href="/settings/password">${page.t("password.change_title")}</a> · <a href="/follow-requests">${page.t("requests.title")}</a> · <a href="/settings/apps">${page.t("apps.title")}</a> · <a href="/settings/calendar">${page.t("calendar.title")}</a> · <a href="/agenda/me">${page.t("agenda.mine")}</a> · <a href="/settings/data">${page.t("mydata.link")}</a></p>`, { notice: saved ? page.t("settings.saved") : undefined }));
  });

  web.post("/settings", async (request, reply) => {
    const user = requireUser(request);
    const form = request.body as Form;
    // First, so that a wrong address stops the form before anything is saved.
    setEmailSettings(db, user, { email: form.email ?? "", reminders: form.email_reminders === "1", digest: form.email_digest === "1", locale: request.page.locale });
    await updateProfile(services, user, { displayName: form.display_name ?? "", bio: form.bio ?? "", locked: form.locked === "1" });
    return reply.redirect("/settings?saved=1", 303);
  });

  web.get("/follow-requests", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const pending = pendingFollowRequests(db, user.actorId);
    return sendPage(reply, layout(page, page.t("requests.title"), html`<h1>${page.t("requests.title")}</h1>
${pending.length === 0 ? html`<p>${page.t("requests.none")}</p>` : html`<ul>${pending.map((a) => html`<li>
  <strong>${a.name || a.username}</strong> @${a.username}@${a.domain}
  <form method="post" action="/follow-requests/${a.id}/accept" class="inline">${csrfField(page)}<button type="submit">${page.t("requests.accept")}</button></form>
  <form method="post" action="/follow-requests/${a.id}/reject" class="inline">${csrfField(page)}<button type="submit">${page.t("requests.reject")}</button></form>
</li>`)}</ul>`}`));
  });

  const answer = (accept: boolean) => async (request: FastifyRequest<{ Params: { id: string } }>, reply: import("fastify").FastifyReply) => {
    const user = requireUser(request);
    if (!/^\d+$/.test(request.params.id)) throw new UserError("follow_request_not_found", 404);
    await answerFollowRequest(services, user, Number(request.params.id), accept);
    // The notifications page sends its own address back.
    return reply.redirect(safeRedirect((request.body as Form | undefined)?.back, "/follow-requests"), 303);
  };
  web.post("/follow-requests/:id/accept", answer(true));
  web.post("/follow-requests/:id/reject", answer(false));

  web.get("/posts/:id/edit", (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const post = /^\d+$/.test(request.params.id) ? findPost(db, Number(request.params.id)) : undefined;
    if (!post || post.actorId !== user.actorId || post.reblogOfId) throw new UserError("post_not_found", 404);
    return sendPage(reply, layout(page, page.t("post.edit"), html`<h1>${page.t("post.edit")}</h1>
<form method="post" action="/posts/${post.id}/edit">
  ${csrfField(page)}
  <label for="text">${page.t("post.label")}</label>
  <textarea id="text" name="text" required maxlength="5000">${post.source ?? htmlToText(post.content)}</textarea>
  <label for="summary">${page.t("post.summary")}</label>
  <input type="text" id="summary" name="summary" maxlength="200" value="${post.summary}">
  <p><button type="submit">${page.t("post.save")}</button></p>
</form>`));
  });

  web.post("/posts/:id/edit", async (request: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const user = requireUser(request);
    if (!/^\d+$/.test(request.params.id)) throw new UserError("post_not_found", 404);
    const form = request.body as Form;
    const post = await editLocalPost(services, user, Number(request.params.id), { text: form.text ?? "", summary: form.summary });
    return reply.redirect(`/@${user.username}/${post.id}`, 303);
  });
}
