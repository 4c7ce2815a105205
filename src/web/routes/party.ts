// The party directory: the signed document other nodes fetch (GET
// /party/directory, no session, served byte for byte as verified), the
// directory page members search, and national admins' additions and removals.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { UserError } from "../../errors.ts";
import type { Services } from "../../services.ts";
import { FEDERATION_MODES } from "../../config.ts";
import { DOMAIN_POLICIES, NODE_KINDS } from "../../storage/schema.ts";
import { DIRECTORY_PATH, directoryEdits, dropDirectoryEdit, editDirectory, heldDirectory, listPartyNodes, partyNode } from "../../party/directory.ts";
import { domainPolicies, federationMode, removeDomainPolicy, setDomainPolicy, setFederationMode } from "../../party/modes.ts";
import { linksOf } from "../../territory/links.ts";
import { lookupActor } from "../../federation/remote.ts";
import { nodeActor } from "../../federation/actors.ts";
import { html, raw } from "../html.ts";
import { csrfField, layout, scrollBox } from "../layout.ts";
import { requireUser, sendPage } from "../respond.ts";
import { one } from "./agenda.ts";
import { dateTimeText, fieldNav, requireCardHolder, type Form } from "./campaigns.ts";

/** The document, for other nodes: public (node actors and their servers are public), conditional on its version. */
export function registerDirectoryDocument(app: FastifyInstance, services: Services): void {
  app.get(DIRECTORY_PATH, (request, reply) => {
    const held = heldDirectory(services.db);
    if (!held) return reply.code(404).send({ error: "This node holds no party directory yet." });
    const etag = `"${held.version}"`;
    reply.header("etag", etag).header("cache-control", "no-cache");
    if (request.headers["if-none-match"] === etag) return reply.code(304).send();
    return reply.type("application/activity+json; charset=utf-8").send(held.document);
  });
}

/** The directory page (card holders), national admins' edits, and /admin/federation (admins). */
export function registerPartyRoutes(web: FastifyInstance, services: Services): void {
  const { db, config } = services;
  const requireAdmin = (request: FastifyRequest, code: string) => {
    const user = requireUser(request);
    if (user.role !== "admin") throw new UserError(code, 403);
    return user;
  };

  const directoryPage = (request: FastifyRequest, reply: FastifyReply, options: { notice?: string; error?: string; status?: number } = {}) => {
    const { page } = request;
    const { t } = page;
    const user = requireCardHolder(request);
    const search = one((request.query as Form).q);
    const held = heldDirectory(db);
    const nodes = listPartyNodes(db, search);
    const names = new Map(listPartyNodes(db).map((n) => [n.actorUri, n.name || n.domain]));
    const links = new Map([...linksOf(db, "parent"), ...linksOf(db, "child"), ...linksOf(db, "sibling")].filter((l) => l.actor).map((l) => [l.actor!.uri, l]));
    const ownFederation = config.kind === "section" ? linksOf(db, "parent")[0]?.actor : null;
    const national = config.kind === "national" && user.role === "admin";
    const edits = national ? directoryEdits(db) : [];
    const body = html`<h1>${t("directory.title")}</h1>
${fieldNav(page)}
<p>${t("directory.intro")}</p>
${user.role === "admin" ? html`<p><a href="/admin/federation">${t("federation.admin_title")}</a></p>` : ""}
${held ? html`<p>${t("directory.held", { date: dateTimeText(page, held.version), national: names.get(held.nationalUri) ?? held.nationalUri })}</p>` : html`<p>${t("directory.none")}</p>`}
${ownFederation ? html`<p>${t("directory.own_federation")} : <strong>${ownFederation.name || ownFederation.username}</strong> <code>@${ownFederation.username}@${ownFederation.domain}</code></p>` : ""}
<form method="get" action="/territory/directory" role="search"><label>${t("directory.search")} <input type="search" name="q" value="${search}"></label> <button type="submit" class="secondary">${t("directory.search_button")}</button></form>
<p>${t("directory.count", { n: nodes.length })}</p>
${scrollBox(t("directory.title"), html`<table><thead><tr><th scope="col">${t("directory.name")}</th><th scope="col">${t("directory.kind")}</th><th scope="col">${t("directory.territory")}</th><th scope="col">${t("directory.address")}</th><th scope="col">${t("directory.parent")}</th>${config.kind !== "section" ? html`<th scope="col">${t("directory.link")}</th>` : ""}</tr></thead>
<tbody>${nodes.map((n) => {
  const link = links.get(n.actorUri);
  return html`<tr><td>${n.name ?? ""}</td><td>${t(`kind.${n.kind}`)}</td><td>${n.territory ?? ""}</td><td><code>${n.domain}</code></td><td>${n.parentUri ? (names.get(n.parentUri) ?? n.parentUri) : ""}</td>${config.kind !== "section" ? html`<td>${link ? t(`territory.state.${link.state}`) : t("directory.link_none")}</td>` : ""}</tr>`;
})}</tbody></table>`)}
${national ? html`<h2>${t("directory.edits")}</h2>
<p>${t("directory.edits_help")}</p>
${edits.length ? html`<ul>${edits.map((e) => html`<li><strong>${t(e.action === "add" ? "directory.edit_add" : "directory.edit_remove")}</strong> <code>${e.actorUri}</code>${e.reason ? html` — ${e.reason}` : ""}
<form method="post" action="/territory/directory/edits/forget" class="inline">${csrfField(page)}<input type="hidden" name="actor" value="${e.actorUri}"><button type="submit" class="secondary">${t("directory.edit_forget")}<span class="visually-hidden"> ${e.actorUri}</span></button></form></li>`)}</ul>` : html`<p>${t("directory.edits_none")}</p>`}
<form method="post" action="/territory/directory/edits">${csrfField(page)}
<p><label>${t("directory.edit_actor")}<br><input name="actor" required maxlength="500"></label></p>
<fieldset><legend>${t("directory.edit_action")}</legend>
<label><input type="radio" name="action" value="add" checked> ${t("directory.edit_add")}</label>
<label><input type="radio" name="action" value="remove"> ${t("directory.edit_remove")}</label></fieldset>
<p><label>${t("directory.kind")}<br><select name="kind">${NODE_KINDS.filter((k) => k !== "national").map((k) => html`<option value="${k}">${t(`kind.${k}`)}</option>`)}</select></label></p>
<p><label>${t("directory.parent")}<br><select name="parent"><option value="">—</option>${listPartyNodes(db).filter((n) => n.kind !== "section").map((n) => html`<option value="${n.actorUri}">${n.name || n.domain}</option>`)}</select></label></p>
<p><label>${t("directory.edit_reason")}<br><input name="reason" maxlength="500"></label></p>
<p><button type="submit" class="primary">${t("directory.edit_submit")}</button></p></form>` : ""}`;
    return sendPage(reply, layout(page, t("directory.title"), body, { notice: options.notice, error: options.error, wide: true }), options.status);
  };

  web.get("/territory/directory", (request, reply) => directoryPage(request, reply, { notice: (request.query as Form).notice === "saved" ? request.page.t("directory.edit_saved") : undefined }));

  web.post("/territory/directory/edits", async (request, reply) => {
    requireAdmin(request, "directory_forbidden");
    if (config.kind !== "national") throw new UserError("directory_forbidden", 403);
    const form = request.body as Form;
    try {
      const actor = await lookupActor(services, one(form.actor));
      if (!actor || actor.local) throw new UserError("directory_actor_unknown", 400);
      const kind = NODE_KINDS.find((k) => k === one(form.kind)) ?? "section";
      const parent = one(form.parent);
      await editDirectory(services, {
        actorUri: actor.uri,
        action: one(form.action) === "remove" ? "remove" : "add",
        kind,
        name: actor.name || actor.username,
        parentUri: parent && partyNode(db, parent) ? parent : nodeActor(services).uri,
        reason: one(form.reason).slice(0, 500),
      });
      return reply.redirect("/territory/directory?notice=saved", 303);
    } catch (error) {
      if (!(error instanceof UserError) || error.status === 403) throw error;
      return directoryPage(request, reply, { error: request.page.t(error.code, error.params), status: error.status });
    }
  });

  web.post("/territory/directory/edits/forget", async (request, reply) => {
    requireAdmin(request, "directory_forbidden");
    if (config.kind !== "national") throw new UserError("directory_forbidden", 403);
    await dropDirectoryEdit(services, one((request.body as Form).actor));
    return reply.redirect("/territory/directory?notice=saved", 303);
  });

  const federationPage = (request: FastifyRequest, reply: FastifyReply, options: { notice?: string; error?: string; status?: number } = {}) => {
    const { page } = request;
    const { t } = page;
    requireAdmin(request, "federation_forbidden");
    const mode = federationMode(services);
    const domains = domainPolicies(db);
    const active = (policy: string) => (policy === "allow" ? mode === "party_only" : mode === "blocklist");
    const body = html`<h1>${t("federation.admin_title")}</h1>
<p>${t("federation.admin_intro")}</p>
<form method="post" action="/admin/federation/mode">${csrfField(page)}
<fieldset><legend>${t("federation.mode")}</legend>
${FEDERATION_MODES.map((m) => html`<p><label><input type="radio" name="mode" value="${m}"${m === mode ? raw(" checked") : ""}> ${t(`federation.mode.${m}`)}</label></p>`)}
</fieldset>
<p class="help">${t("federation.mode_help")}</p>
<p><button type="submit" class="secondary">${t("federation.mode_save")}</button></p></form>
<h2>${t("federation.domains")}</h2>
${domains.length ? html`<ul>${domains.map((d) => html`<li><code>${d.domain}</code> — ${t(`federation.policy.${d.policy}`)} ${active(d.policy) ? "" : html`<span class="help">${t("federation.inactive")}</span>`}${d.reason ? html`<br>${t("federation.reason")} : ${d.reason}` : ""}
<form method="post" action="/admin/federation/domains/remove" class="inline">${csrfField(page)}<input type="hidden" name="domain" value="${d.domain}"><button type="submit" class="secondary">${t("federation.domain_remove")}<span class="visually-hidden"> ${d.domain}</span></button></form></li>`)}</ul>` : html`<p>${t("federation.domains_none")}</p>`}
<form method="post" action="/admin/federation/domains">${csrfField(page)}
<p><label>${t("federation.domain")}<br><input name="domain" required maxlength="300"></label></p>
<fieldset><legend>${t("federation.policy")}</legend>
${DOMAIN_POLICIES.map((p, i) => html`<p><label><input type="radio" name="policy" value="${p}"${i === 0 ? raw(" checked") : ""}> ${t(`federation.policy.${p}`)}</label></p>`)}
</fieldset>
<p><label>${t("federation.reason")}<br><input name="reason" maxlength="500"></label></p>
<p><button type="submit" class="primary">${t("federation.domain_add")}</button></p></form>`;
    return sendPage(reply, layout(page, t("federation.admin_title"), body, options), options.status);
  };

  web.get("/admin/federation", (request, reply) => {
    const q = request.query as Form;
    const notice = q.notice === "mode" ? request.page.t("federation.mode_saved") : q.domain ? request.page.t("federation.domain_saved", { domain: one(q.domain) }) : undefined;
    return federationPage(request, reply, { notice });
  });

  const guarded = (handler: (request: FastifyRequest, form: Form) => string) => (request: FastifyRequest, reply: FastifyReply) => {
    requireAdmin(request, "federation_forbidden");
    try {
      return reply.redirect(handler(request, request.body as Form), 303);
    } catch (error) {
      if (!(error instanceof UserError) || error.status === 403) throw error;
      return federationPage(request, reply, { error: request.page.t(error.code, error.params), status: error.status });
    }
  };
  web.post("/admin/federation/mode", guarded((_request, form) => {
    setFederationMode(db, one(form.mode));
    return "/admin/federation?notice=mode";
  }));
  web.post("/admin/federation/domains", guarded((_request, form) => {
    const policy = DOMAIN_POLICIES.find((p) => p === one(form.policy));
    if (!policy) throw new UserError("federation_mode_invalid", 400);
    const domain = setDomainPolicy(services, one(form.domain), policy, one(form.reason));
    return `/admin/federation?domain=${encodeURIComponent(domain)}`;
  }));
  web.post("/admin/federation/domains/remove", guarded((_request, form) => {
    removeDomainPolicy(db, one(form.domain));
    return "/admin/federation";
  }));
}
