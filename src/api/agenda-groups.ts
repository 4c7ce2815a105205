// A thematic group's agenda in the Coopol JSON API: GET /groups/:id/events,
// the events the group organises or that are addressed to it, as the caller
// may see them (described in openapi.ts with the other agenda paths).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { UserError } from "../errors.ts";
import { agenda } from "../agenda/events.ts";
import { groupActor, groupById } from "../groups/groups.ts";
import { optionalUser } from "../mastodon/auth.ts";
import { idParam, paramsOf, str } from "../mastodon/params.ts";
import { viewerOf } from "../posts/posts.ts";
import type { Services } from "../services.ts";
import { renderOccurrences } from "./entities.ts";

const DAY = 86_400_000;

function time(value: string | undefined, key: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new UserError("api_bad_request", 400, { detail: `${key}=${value}` });
  return ms;
}

export function registerGroupAgendaApi(api: FastifyInstance, services: Services): void {
  const { db } = services;
  api.get("/api/coopol/v1/groups/:id/events", async (request: FastifyRequest<{ Params: { id: string } }>) => {
    const user = optionalUser(services, request, "read");
    const group = groupById(db, idParam(request.params.id, "group_not_found"));
    if (!group || group.state !== "active" || !groupActor(db, group)) throw new UserError("group_not_found", 404);
    const params = paramsOf(request);
    const from = time(str(params, "from"), "from") ?? Date.now();
    const to = Math.min(time(str(params, "to"), "to") ?? from + 365 * DAY, from + 730 * DAY);
    return renderOccurrences(services, user, agenda(db, viewerOf(user), { from, to, group }).slice(0, 500));
  });
}
