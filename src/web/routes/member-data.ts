// A member's own data and account: /settings/data (the page), the archive
// (/settings/export), changing section (/settings/transfer on the new one,
// /settings/move on the old one), deleting the account (/settings/delete);
// and the secretary's /members/transfers. Rules live in members/transfer.ts,
// erasure.ts and export.ts.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { and, desc, eq } from "drizzle-orm";
import { UserError } from "../../errors.ts";
import { deleteOwnAccount } from "../../members/erasure.ts";
import { exportArchive } from "../../members/export.ts";
import { actorOf, canManageMembers } from "../../members/members.ts";
import { answerTransfer, listTransfers, moveAccount, requestTransfer } from "../../members/transfer.ts";
import type { Services } from "../../services.ts";
import { actors, memberTransfers } from "../../storage/schema.ts";
import { SESSION_COOKIE } from "../../members/sessions.ts";
import { dateText, handleOf } from "../format.ts";
import { html } from "../html.ts";
import { csrfField, layout } from "../layout.ts";
import { requireUser, sendPage } from "../respond.ts";

type Form = Record<string, string | undefined>;

export function registerMemberDataRoutes(web: FastifyInstance, services: Services): void {
  const { db } = services;

  web.get("/settings/data", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const me = actorOf(db, user);
    const notice = (request.query as { notice?: string }).notice === "requested" ? page.t("transfer.requested") : undefined;
    const mine = db
      .select({ status: memberTransfers.status, other: actors })
      .from(memberTransfers)
      .innerJoin(actors, eq(actors.id, memberTransfers.otherActorId))
      .where(and(eq(memberTransfers.actorId, me.id), eq(memberTransfers.direction, "in")))
      .orderBy(desc(memberTransfers.id))
      .limit(20)
      .all();
    return sendPage(reply, layout(page, page.t("mydata.title"), html`<h1>${page.t("mydata.title")}</h1>
<section>
  <h2>${page.t("export.title")}</h2>
  <p>${page.t("export.intro")}</p>
  <p><a class="button" href="/settings/export" download>${page.t("export.submit")}</a></p>
</section>
<section>
  <h2>${page.t("transfer.title")}</h2>
  <p>${page.t("transfer.intro")}</p>
  ${mine.length ? html`<ul>${mine.map((t) => html`<li>${handleOf(t.other)} : ${page.t(`transfer.status.${t.status}`)}</li>`)}</ul>` : ""}
  <form method="post" action="/settings/transfer">
    ${csrfField(page)}
    <label for="old_account">${page.t("transfer.old_account")}</label>
    <input type="text" id="old_account" name="old_account" required maxlength="300" autocomplete="off">
    <p><button type="submit" class="secondary">${page.t("transfer.submit")}</button></p>
  </form>
</section>
<section>
  <h2>${page.t("move.title")}</h2>
  <p>${page.t("move.intro")}</p>
  <form method="post" action="/settings/move">
    ${csrfField(page)}
    <label for="new_account">${page.t("move.new_account")}</label>
    <input type="text" id="new_account" name="new_account" required maxlength="300" autocomplete="off">
    <label for="move_password">${page.t("move.password")}</label>
    <input type="password" id="move_password" name="password" required autocomplete="current-password">
    <p><button type="submit" class="secondary">${page.t("move.submit")}</button></p>
  </form>
</section>
<section>
  <h2>${page.t("delete.title")}</h2>
  <p class="warning">${page.t("delete.warning")}</p>
  <form method="post" action="/settings/delete">
    ${csrfField(page)}
    <label for="delete_password">${page.t("delete.password")}</label>
    <input type="password" id="delete_password" name="password" required autocomplete="current-password">
    <p><button type="submit" class="danger">${page.t("delete.submit")}</button></p>
  </form>
</section>`, { notice }));
  });

  web.get("/settings/export", async (request, reply) => {
    const user = requireUser(request);
    const archive = await exportArchive(services, user);
    const day = new Date().toISOString().slice(0, 10);
    return reply
      .type("application/gzip")
      .header("cache-control", "no-store")
      .header("content-disposition", `attachment; filename="coopol-${user.username}-${day}.tar.gz"`)
      .send(archive);
  });

  web.post("/settings/transfer", async (request, reply) => {
    const user = requireUser(request);
    await requestTransfer(services, user, (request.body as Form).old_account ?? "");
    return reply.redirect("/settings/data?notice=requested", 303);
  });

  web.post("/settings/move", async (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    const form = request.body as Form;
    const target = await moveAccount(services, user, form.new_account ?? "", form.password ?? "");
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return sendPage(reply, layout({ ...page, user: null }, page.t("move.title"), html`<h1>${page.t("move.title")}</h1>
<p>${page.t("move.done", { handle: handleOf(target) })}</p>`));
  });

  web.post("/settings/delete", async (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    await deleteOwnAccount(services, user, (request.body as Form).password ?? "");
    reply.clearCookie(SESSION_COOKIE, { path: "/" });
    return sendPage(reply, layout({ ...page, user: null }, page.t("delete.title"), html`<h1>${page.t("delete.title")}</h1>
<p>${page.t("delete.done")}</p>`));
  });

  web.get("/members/transfers", (request, reply) => {
    const { page } = request;
    const user = requireUser(request);
    if (!canManageMembers(user.role)) throw new UserError("error.forbidden", 403);
    const list = listTransfers(db);
    return sendPage(reply, layout(page, page.t("transfers.title"), html`<h1>${page.t("transfers.title")}</h1>
<p>${page.t("transfers.intro")}</p>
${list.length === 0 ? html`<p>${page.t("transfers.none")}</p>` : html`<ul class="cards">${list.map(({ transfer, local, other }) => html`<li class="card">
  <p>${page.t(transfer.direction === "in" ? "transfers.in" : "transfers.out", { local: handleOf(local), other: handleOf(other) })}
  — ${page.t(`transfer.status.${transfer.status}`)}, ${dateText(page, transfer.decidedAt ?? transfer.createdAt)}</p>
  ${transfer.status === "pending" ? html`<div class="toolbar">
  <form method="post" action="/members/transfers/${transfer.id}/accept" class="inline">${csrfField(page)}<button type="submit">${page.t("transfers.accept")}</button></form>
  <form method="post" action="/members/transfers/${transfer.id}/refuse" class="inline">${csrfField(page)}<button type="submit" class="secondary">${page.t("transfers.refuse")}</button></form></div>` : ""}
</li>`)}</ul>`}`));
  });

  const answer = (accept: boolean) => (request: FastifyRequest<{ Params: { id: string } }>, reply: import("fastify").FastifyReply) => {
    const user = requireUser(request);
    if (!/^\d{1,16}$/.test(request.params.id)) throw new UserError("transfer_not_found", 404);
    answerTransfer(services, user, Number(request.params.id), accept);
    return reply.redirect("/members/transfers", 303);
  };
  web.post("/members/transfers/:id/accept", answer(true));
  web.post("/members/transfers/:id/refuse", answer(false));
}
