// The party directory: the signed document other nodes fetch (GET
// /party/directory, no session, served byte for byte as verified), the
// directory page members search, and national admins' additions and removals.
import type { FastifyInstance } from "fastify";
import type { Services } from "../../services.ts";
import { DIRECTORY_PATH, heldDirectory } from "../../party/directory.ts";

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
