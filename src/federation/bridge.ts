// Connects fastify to Fedify. We bridge by hand rather than with a plugin: the
// inbox needs the exact raw bytes of the body (digest and signature checks),
// and every other request must fall through to fastify's own routes.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../services.ts";
import { checkInboxRequest, rememberSignature } from "./guard.ts";
import { membershipResponse } from "./membership.ts";

const PASS = "x-coopol-pass";
const MEMBERSHIP_PATH = /^\/users\/[^/?]+\/membership(\?|$)/;
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

const AS_CONTEXT = "https://www.w3.org/ns/activitystreams";

/**
 * A document without `@context` is ActivityStreams (AS2 says to read it so);
 * Fedify would read none of its terms ("Missing actor"). The request Fedify
 * parses gets the context added, while its bytes stay as signed (Fedify
 * checks the digest on the bytes and parses `json()`): only `json()` of the
 * request and of its clones is changed. Returns the request unchanged otherwise.
 */
function withDefaultContext(webRequest: Request, body: Buffer): Request {
  if (body.includes('"@context"')) return webRequest;
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return webRequest;
  }
  if (!json || typeof json !== "object" || Array.isArray(json) || "@context" in json) return webRequest;
  const patched = { "@context": AS_CONTEXT, ...json };
  const patch = (r: Request): Request => {
    const clone = r.clone.bind(r);
    Object.assign(r, { json: async () => structuredClone(patched), clone: () => patch(clone()) });
    return r;
  };
  return patch(webRequest);
}

/**
 * A peer-facing answer (inbox, actors, objects, WebFinger, NodeInfo) that is
 * never a 5xx: a 5xx makes the peer retry the same document for days, and
 * whatever failed on it will fail again. The failure is logged here instead,
 * and the peer gets a 400 in plain words.
 */
async function answered(services: Services, request: FastifyRequest, respond: () => Promise<Response>): Promise<Response> {
  let response: Response;
  try {
    response = await respond();
  } catch (err) {
    services.log.warn({ err, method: request.method, url: request.url }, "federation: request could not be processed");
    return notProcessed(request);
  }
  if (response.status < 500) return response;
  services.log.warn({ status: response.status, answer: (await response.text()).slice(0, 500), method: request.method, url: request.url }, "federation: request could not be processed");
  return notProcessed(request);
}

const notProcessed = (request: FastifyRequest) =>
  Response.json(
    { error: request.method === "POST" ? "This activity could not be processed here; it was logged, do not send it again." : "This request could not be answered; it was logged." },
    { status: 400 },
  );

const PUBLIC_URI = "https://www.w3.org/ns/activitystreams#Public";
const ADDRESSING = new Set(["to", "cc", "bto", "bcc", "audience"]);

function fullPublicUri(value: unknown, key: string | null, depth: number): unknown {
  if (typeof value === "string") return key && ADDRESSING.has(key) && (value === "as:Public" || value === "Public") ? PUBLIC_URI : value;
  if (!value || typeof value !== "object" || depth > 32) return value;
  if (Array.isArray(value)) return value.map((item) => fullPublicUri(item, key, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === "@context" ? v : fullPublicUri(v, k, depth + 1)]));
}

/**
 * Documents served at their id (Notes, actors, outboxes) say Public with its
 * full URI: Fedify compacts it to `as:Public` (the same IRI in JSON-LD), which
 * Lemmy and others compare as a plain string, and would then take a public
 * post for a private one. Fedify does the same rewrite on what it sends.
 */
async function withFullPublicUri(response: Response): Promise<Response> {
  if (!/json/.test(response.headers.get("content-type") ?? "")) return response;
  const text = await response.text();
  let body = text;
  if (text.includes('"as:Public"') || text.includes('"Public"')) {
    try {
      body = JSON.stringify(fullPublicUri(JSON.parse(text), null, 0));
    } catch {
      // not JSON after all: sent as it is
    }
  }
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(body, { status: response.status, headers });
}

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
    if (MEMBERSHIP_PATH.test(request.url)) return; // its own route, below
    const ownedByFedify = request.url.startsWith("/users/") && wantsActivityJson(request);
    const response = await answered(services, request, () =>
      federation.fetch(toWebRequest(request, config.origin), {
        contextData: services,
        onNotFound: ownedByFedify ? notFoundJson : passResponse,
        onNotAcceptable: passResponse,
      }),
    );
    if (response.headers.get(PASS)) return;
    await sendWebResponse(reply, await withFullPublicUri(response));
    return reply;
  });

  // A member's membership attestation, for party nodes only (membership.ts).
  app.get<{ Params: { username: string } }>("/users/:username/membership", async (request, reply) =>
    sendWebResponse(reply, await answered(services, request, () => membershipResponse(services, toWebRequest(request, config.origin), request.params.username))),
  );

  // The inboxes get the body as raw bytes, within the instance's size limit.
  app.register(async (inboxes) => {
    inboxes.removeAllContentTypeParsers();
    inboxes.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: config.bodyLimit }, (_request, body, done) => done(null, body));
    const handle = async (request: FastifyRequest, reply: FastifyReply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const response = await answered(services, request, async () => {
        const problem = await checkInboxRequest(services, request, body);
        if (problem) return Response.json({ error: problem.message }, { status: problem.status });
        return federation.fetch(withDefaultContext(toWebRequest(request, config.origin, body), body), {
          contextData: services,
          onNotFound: () => Response.json({ error: "No such inbox." }, { status: 404 }),
        });
      });
      if (response.ok) await rememberSignature(services, request).catch((err) => services.log.warn({ err }, "inbox: signature not remembered"));
      else services.log.info({ status: response.status, url: request.url }, "inbox request refused");
      return sendWebResponse(reply, response);
    };
    inboxes.post("/inbox", handle);
    inboxes.post("/users/:identifier/inbox", handle);
  });
}
