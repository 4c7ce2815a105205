// /api/coopol/v1 routes for campaigns, field actions, shifts, results,
// contacts, reports, directives, the hierarchy and dashboards. Thin: the
// domain functions check rights and input; openapi.ts describes every route.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { eq, inArray } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Services } from "../services.ts";
import { actors, campaigns, type ActionType, type DirectiveKind, type Metric, type ReportKind } from "../storage/schema.ts";
import { requireUser } from "../mastodon/auth.ts";
import { bool, idParam, int, paramsOf, str, type Params } from "../mastodon/params.ts";
import { cancelCampaign, canRunCampaigns, createCampaign, getCampaign, joinCampaign, listCampaigns, updateCampaign, type CampaignInput, type CampaignRow } from "../campaigns/campaigns.ts";
import { addShift, cancelAction, createAction, getAction, listActions, shiftsOf, signUp, updateAction, withdraw, type ActionInput } from "../campaigns/actions.ts";
import { addContact, contactsOf, correctResult, deleteResult, recordResult, resultsCsv, resultsOfAction } from "../campaigns/results.ts";
import { listReports, openReport, writeReport } from "../reports/reports.ts";
import { adoptProposal, listDirectives, sendDirective } from "../reports/directives.ts";
import { linksOf, refusals } from "../territory/links.ts";
import { dashboard, dashboardCsv } from "../territory/dashboard.ts";
import { nodeActor } from "../federation/actors.ts";
import { renderAction, renderCampaign, renderContact, renderDashboard, renderDirective, renderLink, renderReport, renderResult } from "./territory-entities.ts";

type WithId = FastifyRequest<{ Params: { id: string } }>;

function time(params: Params, key: string): number | undefined {
  const value = str(params, key);
  if (value === undefined || value === "") return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new UserError("api_bad_request", 400, { detail: `${key}=${value}` });
  return ms;
}

const objectOf = (params: Params, key: string): Params => (params[key] && typeof params[key] === "object" && !Array.isArray(params[key]) ? (params[key] as Params) : {});
/** Result figures as sent: through Number, so that the domain refuses "abc" (NaN) with its own message. */
const figuresOf = (figures: Params) => Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Number(v)]));

function campaignInput(params: Params): CampaignInput {
  const startsAt = time(params, "starts_at");
  if (startsAt === undefined) throw new UserError("campaign_dates_invalid", 422);
  const goals = objectOf(params, "goals");
  return {
    title: str(params, "title") ?? "",
    description: str(params, "description"),
    startsAt,
    endsAt: time(params, "ends_at") ?? null,
    goals: Object.fromEntries(Object.entries(goals).map(([k, v]) => [k, Number(v)])) as Partial<Record<Metric, number>>,
    materials: (Array.isArray(params.materials) ? params.materials : []).map((m) => ({ name: String((m as Params)?.name ?? ""), url: String((m as Params)?.url ?? "") })),
  };
}

function actionInput(params: Params): ActionInput {
  const startAt = time(params, "start");
  if (startAt === undefined) throw new UserError("action_dates_invalid", 422);
  const campaignId = str(params, "campaign_id");
  return {
    campaignId: campaignId && /^\d+$/.test(campaignId) ? Number(campaignId) : -1,
    type: str(params, "type") as ActionType,
    title: str(params, "title") ?? "",
    startAt,
    endAt: time(params, "end") ?? null,
    timezone: str(params, "timezone"),
    meetingPoint: str(params, "meeting_point") ?? null,
    area: str(params, "area") ?? null,
    coordinatorId: int(params, "coordinator_id") ?? null,
    notes: str(params, "notes"),
    shifts: (Array.isArray(params.shifts) ? params.shifts : []).map((s) => shiftInput(s as Params)),
  };
}

function shiftInput(params: Params) {
  return { startAt: time(params, "start") ?? NaN, endAt: time(params, "end") ?? NaN, capacity: int(params, "capacity") ?? null, label: str(params, "label") ?? null };
}

export function registerTerritoryApi(api: FastifyInstance, services: Services): void {
  const { db } = services;
  const base = "/api/coopol/v1";
  const node = () => nodeActor(services);
  const campaignsOut = (rows: CampaignRow[]) => {
    const owners = new Map(rows.length ? db.select({ id: actors.id, uri: actors.uri }).from(actors).where(inArray(actors.id, [...new Set(rows.map((r) => r.ownerActorId))])).all().map((a) => [a.id, a.uri]) : []);
    return rows.map((r) => renderCampaign(r, owners.get(r.ownerActorId) ?? null, node().id));
  };
  const actionOut = (request: FastifyRequest, id: number) => {
    const user = requireUser(services, request, "read");
    return renderAction(getAction(db, user, id), user, shiftsOf(db, user, id));
  };

  // ---- The hierarchy ----
  api.get(`${base}/territory`, async (request) => {
    const user = requireUser(services, request, "read");
    if (!canRunCampaigns(user) && user.role === "sympathisant") throw new UserError("campaign_forbidden", 403);
    return {
      kind: services.config.kind,
      territory: services.config.territory,
      node_uri: node().uri,
      parent: linksOf(db, "parent").map(renderLink)[0] ?? null,
      children: linksOf(db, "child").map(renderLink),
      refused: canRunCampaigns(user) ? refusals(db).map((r) => ({ uri: r.uri, handle: r.handle, at: new Date(r.at).toISOString() })) : [],
    };
  });

  // ---- Campaigns ----
  api.get(`${base}/campaigns`, async (request) => {
    const user = requireUser(services, request, "read");
    if (user.role === "sympathisant") throw new UserError("campaign_forbidden", 403);
    return campaignsOut(listCampaigns(db, { current: bool(paramsOf(request), "current") }));
  });
  api.post(`${base}/campaigns`, async (request) => {
    const user = requireUser(services, request, "write");
    return campaignsOut([await createCampaign(services, user, campaignInput(paramsOf(request)))])[0];
  });
  api.get(`${base}/campaigns/:id`, async (request: WithId) => {
    const user = requireUser(services, request, "read");
    return campaignsOut([getCampaign(db, user, idParam(request.params.id, "campaign_not_found"))])[0];
  });
  api.put(`${base}/campaigns/:id`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    return campaignsOut([await updateCampaign(services, user, idParam(request.params.id, "campaign_not_found"), campaignInput(paramsOf(request)))])[0];
  });
  api.post(`${base}/campaigns/:id/cancel`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    return campaignsOut([await cancelCampaign(services, user, idParam(request.params.id, "campaign_not_found"))])[0];
  });
  api.post(`${base}/campaigns/:id/join`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    return campaignsOut([joinCampaign(services, user, idParam(request.params.id, "campaign_not_found"), bool(paramsOf(request), "join") ?? true)])[0];
  });

  // ---- Field actions and shifts ----
  api.get(`${base}/actions`, async (request) => {
    const user = requireUser(services, request, "read");
    const params = paramsOf(request);
    const campaignId = str(params, "campaign_id");
    return listActions(db, user, { campaignId: campaignId ? idParam(campaignId, "campaign_not_found") : undefined, upcoming: bool(params, "upcoming") }).map((a) => renderAction(a, user, shiftsOf(db, user, a.id)));
  });
  api.post(`${base}/actions`, async (request) => {
    const user = requireUser(services, request, "write");
    const row = createAction(services, user, actionInput(paramsOf(request)));
    return actionOut(request, row.id);
  });
  api.get(`${base}/actions/:id`, async (request: WithId) => actionOut(request, idParam(request.params.id, "action_not_found")));
  api.put(`${base}/actions/:id`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const row = updateAction(services, user, idParam(request.params.id, "action_not_found"), actionInput(paramsOf(request)));
    return actionOut(request, row.id);
  });
  api.post(`${base}/actions/:id/cancel`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const row = cancelAction(services, user, idParam(request.params.id, "action_not_found"));
    return actionOut(request, row.id);
  });
  api.post(`${base}/actions/:id/shifts`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const id = idParam(request.params.id, "action_not_found");
    addShift(services, user, id, shiftInput(paramsOf(request)));
    return actionOut(request, id);
  });
  const signup = (join: boolean) => async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const shiftId = idParam(request.params.id, "shift_not_found");
    if (join) signUp(services, user, shiftId);
    else withdraw(services, user, shiftId);
    const shift = db.query.shifts.findFirst({ where: (s, { eq }) => eq(s.id, shiftId) }).sync();
    if (!shift) throw new UserError("shift_not_found", 404);
    return actionOut(request, shift.actionId);
  };
  api.post(`${base}/shifts/:id/signup`, signup(true));
  api.delete(`${base}/shifts/:id/signup`, signup(false));

  // ---- Results and contacts ----
  api.get(`${base}/actions/:id/results`, async (request: WithId) => {
    const user = requireUser(services, request, "read");
    const id = idParam(request.params.id, "action_not_found");
    getAction(db, user, id);
    return resultsOfAction(db, id).map(renderResult);
  });
  api.post(`${base}/actions/:id/results`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const params = paramsOf(request);
    const figures = objectOf(params, "figures");
    const row = await recordResult(services, user, idParam(request.params.id, "action_not_found"), figuresOf(figures), str(params, "comment") ?? "");
    return renderResult(row);
  });
  api.put(`${base}/results/:id`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const params = paramsOf(request);
    const figures = objectOf(params, "figures");
    return renderResult(await correctResult(services, user, idParam(request.params.id, "result_not_found"), figuresOf(figures), str(params, "comment") ?? ""));
  });
  api.delete(`${base}/results/:id`, async (request: WithId, reply) => {
    const user = requireUser(services, request, "write");
    await deleteResult(services, user, idParam(request.params.id, "result_not_found"));
    return reply.code(204).send();
  });
  api.get(`${base}/actions/:id/contacts`, async (request: WithId) => {
    const user = requireUser(services, request, "read");
    return contactsOf(db, user, idParam(request.params.id, "action_not_found")).map(renderContact);
  });
  api.post(`${base}/actions/:id/contacts`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const params = paramsOf(request);
    return renderContact(addContact(services, user, idParam(request.params.id, "action_not_found"), {
      name: str(params, "name") ?? "",
      email: str(params, "email"),
      phone: str(params, "phone"),
      note: str(params, "note"),
      consent: bool(params, "consent") ?? false,
    }));
  });

  // ---- Reports ----
  api.get(`${base}/reports`, async (request) => {
    const user = requireUser(services, request, "read");
    const direction = str(paramsOf(request), "direction") === "received" ? "received" : "sent";
    return listReports(db, user, direction).map(renderReport);
  });
  api.post(`${base}/reports`, async (request) => {
    const user = requireUser(services, request, "write");
    const params = paramsOf(request);
    return renderReport(await writeReport(services, user, {
      kind: str(params, "kind") as ReportKind,
      title: str(params, "title") ?? "",
      body: str(params, "body"),
      alsoNational: bool(params, "also_national"),
      withFigures: bool(params, "with_figures"),
    }));
  });
  api.get(`${base}/reports/:id`, async (request: WithId) => {
    const user = requireUser(services, request, "read");
    return renderReport(await openReport(services, user, idParam(request.params.id, "report_not_found")));
  });

  // ---- Directives ----
  api.get(`${base}/directives`, async (request) => {
    const user = requireUser(services, request, "read");
    return listDirectives(db, user).map(renderDirective);
  });
  api.post(`${base}/directives`, async (request) => {
    const user = requireUser(services, request, "write");
    const params = paramsOf(request);
    const proposal = objectOf(params, "proposal");
    return renderDirective(await sendDirective(services, user, {
      kind: str(params, "kind") as DirectiveKind,
      title: str(params, "title") ?? "",
      body: str(params, "body"),
      proposal: str(params, "kind") === "action_proposal"
        ? { type: str(proposal, "type") as ActionType, campaignUri: str(proposal, "campaign_uri") ?? null, startAt: time(proposal, "start") ?? null, meetingPoint: str(proposal, "meeting_point") ?? null }
        : null,
    }));
  });
  api.post(`${base}/directives/:id/adopt`, async (request: WithId) => {
    const user = requireUser(services, request, "write");
    const params = paramsOf(request);
    const row = adoptProposal(services, user, idParam(request.params.id, "directive_not_found"), { startAt: time(params, "start"), meetingPoint: str(params, "meeting_point") });
    return actionOut(request, row.id);
  });

  // ---- Dashboard ----
  const manager = (request: FastifyRequest) => {
    const user = requireUser(services, request, "read");
    if (!canRunCampaigns(user)) throw new UserError("campaign_forbidden", 403);
    return user;
  };
  api.get(`${base}/dashboard`, async (request) => {
    manager(request);
    return renderDashboard(dashboard(db, services.config), node().id);
  });
  api.get(`${base}/dashboard.csv`, async (request, reply) => {
    manager(request);
    return reply.type("text/csv; charset=utf-8").header("content-disposition", 'attachment; filename="tableau-de-bord.csv"').send(dashboardCsv(dashboard(db, services.config)));
  });
  api.get(`${base}/results.csv`, async (request, reply) => {
    manager(request);
    return reply.type("text/csv; charset=utf-8").header("content-disposition", 'attachment; filename="resultats.csv"').send(resultsCsv(db));
  });
  // A campaign's uri is what results refer to: resolving it saves clients a lookup.
  api.get(`${base}/campaigns/by-uri`, async (request) => {
    const user = requireUser(services, request, "read");
    const uri = str(paramsOf(request), "uri") ?? "";
    const row = db.select().from(campaigns).where(eq(campaigns.uri, uri)).get();
    if (!row) throw new UserError("campaign_not_found", 404);
    return campaignsOut([getCampaign(db, user, row.id)])[0];
  });
}
