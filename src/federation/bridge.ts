// Connects fastify to Fedify. We bridge by hand rather than with a plugin: the
// inbox needs the exact raw bytes of the body (digest and signature checks),
// and every other request must fall through to fastify's own routes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../services.ts";
import { checkInboxRequest, rememberSignature } from "./guard.ts";

const PASS = "x-coopol-pass";
const passResponse = () => new Response(null, { status: 404, headers: { [PASS]: "1" } });

function wantsActivityJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? "";
  return accept.includes("application/activity+json") || accept.includes("application/ld+json");
}

/** Requests Fedify should see first: discovery endpoints, actor URLs, and anything asking for JSON-LD. */
function wantsFederation(request: FastifyRequest): boolean {
  const path = request.url;
  if (path.startsWith("/.well-known/webfinger") || path.startsWith("/.well-known/nodeinfo") || path.startsWith("/nodeinfo/")) return true;
  if (path.startsWith("/users/")) return true;
  return wantsActivityJson(request);
}

const notFoundJson = () => new Response(JSON.stringify({ error: "Not found" }), { status: 404, headers: { "content-type": "application/json", vary: "Accept" } });

export function toWebRequest(request: FastifyRequest, origin: string, body?: Buffer): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return new Request(new URL(request.url, origin), {
    method: request.method,
    headers,
    body: body && request.method !== "GET" && request.method !== "HEAD" ? new Uint8Array(body) : undefined,
  });
}

export async function sendWebResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  reply.code(response.status);
  response.headers.forEach((value, name) => {
    reply.header(name, value);
  });
  return reply.send(Buffer.from(await response.arrayBuffer()));
}

export function registerFederationBridge(app: FastifyInstance, services: Services): void {
  const { federation, config } = services;

  app.addHook("onRequest", async (request, reply) => {
    if ((request.method !== "GET" && request.method !== "HEAD") || !wantsFederation(request)) return;
    // Under /users/, an ActivityPub client asking for something Fedify does not
    // have (an unknown actor, post or collection) gets a 404, not the web pages'
    // redirect from /users/<name> to /@<name> meant for browsers.
    const ownedByFedify = request.url.startsWith("/users/") && wantsActivityJson(request);
    const response = await federation.fetch(toWebRequest(request, config.origin), {
      contextData: services,
      onNotFound: ownedByFedify ? notFoundJson : passResponse,
      onNotAcceptable: passResponse,
    });
    if (response.headers.get(PASS)) return;
    await sendWebResponse(reply, response);
    return reply;
  });

  // The inboxes get the body as raw bytes, within the instance's size limit.
  app.register(async (inboxes) => {
    inboxes.removeAllContentTypeParsers();
    inboxes.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: config.bodyLimit }, (_request, body, done) => done(null, body));
    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const problem = await checkInboxRequest(services, request, body);
      if (problem) return reply.code(problem.status).send({ error: problem.message });
      const response = await federation.fetch(toWebRequest(request, config.origin, body), {
        contextData: services,
        onNotFound: () => new Response(JSON.stringify({ error: "No such inbox." }), { status: 404, headers: { "content-type": "application/json" } }),
      });
      if (response.ok) await rememberSignature(services, request);
      else services.log.info({ status: response.status, url: request.url }, "inbox request refused");
      return sendWebResponse(reply, response);
    };
    inboxes.post("/inbox", handle);
    inboxes.post("/users/:identifier/inbox", handle);
  });
}
