// Image uploads for statuses (processed at once, so v1 and v2 answer alike).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { UserError } from "../../errors.ts";
import { describeMedia, ownMedia, saveUpload, type Upload } from "../../media/media.ts";
import type { Services } from "../../services.ts";
import { requireUser } from "../auth.ts";
import { renderMedia } from "../entities.ts";
import { idParam, paramsOf, str } from "../params.ts";

type WithId = FastifyRequest<{ Params: { id: string } }>;

export function registerMediaRoutes(api: FastifyInstance, services: Services): void {
  const { db, config } = services;

  const upload = async (request: FastifyRequest) => {
    const user = requireUser(services, request, "write:media");
    const params = paramsOf(request);
    const file = params.file as Upload | undefined;
    if (!file || typeof file !== "object" || !Buffer.isBuffer(file.data)) throw new UserError("media_missing", 422);
    return renderMedia(config.origin, saveUpload(services, user.actorId, { ...file, description: str(params, "description") }));
  };
  api.post("/api/v1/media", upload);
  api.post("/api/v2/media", upload);

  api.get("/api/v1/media/:id", async (request: WithId) => {
    const user = requireUser(services, request, "write:media");
    return renderMedia(config.origin, ownMedia(db, user.actorId, idParam(request.params.id, "media_not_found")));
  });

  api.put("/api/v1/media/:id", async (request: WithId) => {
    const user = requireUser(services, request, "write:media");
    const description = str(paramsOf(request), "description") ?? "";
    return renderMedia(config.origin, describeMedia(db, user.actorId, idParam(request.params.id, "media_not_found"), description));
  });
}
