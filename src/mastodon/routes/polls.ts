// Polls: reading one, and voting.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { pollResults, vote } from "../../polls/polls.ts";
import { viewerOf } from "../../posts/posts.ts";
import type { Services } from "../../services.ts";
import { optionalUser, requireUser } from "../auth.ts";
import { renderPoll } from "../entities.ts";
import { idParam, list, paramsOf } from "../params.ts";

type WithId = FastifyRequest<{ Params: { id: string } }>;

export function registerPollRoutes(api: FastifyInstance, services: Services): void {
  const { db } = services;

  api.get("/api/v1/polls/:id", async (request: WithId) => {
    const user = optionalUser(services, request, "read:statuses");
    return renderPoll(pollResults(db, viewerOf(user), idParam(request.params.id, "poll_not_found")));
  });

  api.post("/api/v1/polls/:id/votes", async (request: WithId) => {
    const user = requireUser(services, request, "write:statuses");
    // Indices of the chosen options; anything not a whole number is refused by vote().
    const choices = list(paramsOf(request), "choices").map((c) => (/^\d+$/.test(c) ? Number(c) : -1));
    return renderPoll(await vote(services, user, idParam(request.params.id, "poll_not_found"), choices));
  });
}
