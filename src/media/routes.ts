// Serves stored images and documents, and the default avatar. Names are random and
// unguessable: a file's address is only known to those shown its post.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Services } from "../services.ts";
import { DEFAULT_AVATAR_PNG } from "./default-avatar.ts";
import { readMediaFile } from "./media.ts";

export function registerMediaFiles(app: FastifyInstance, services: Services): void {
  app.get("/static/avatar.png", (_request, reply) => reply.type("image/png").header("cache-control", "public, max-age=86400").send(DEFAULT_AVATAR_PNG));

  app.get("/media/:file", (request: FastifyRequest<{ Params: { file: string } }>, reply) => {
    const file = readMediaFile(services, request.params.file);
    if (!file) return reply.code(404).type("text/plain; charset=utf-8").send("Not found");
    // Documents are downloaded, never rendered as part of our origin.
    if (!file.contentType.startsWith("image/")) reply.header("content-disposition", "attachment");
    return reply
      .type(file.contentType)
      .header("cache-control", "private, max-age=31536000, immutable")
      .header("x-content-type-options", "nosniff")
      .header("content-security-policy", "default-src 'none'")
      .send(file.data);
  });
}
