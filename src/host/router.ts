// The host's front door: one HTTP server for every hosted instance. The
// request's Host header names the instance; the raw request is handed to that
// instance's fastify (`app.routing`), which never listens itself. Nothing
// else crosses: each instance has its own fastify, database, keys, sessions
// and caches, and two instances of one host reach each other over HTTP like
// any two servers.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { translator } from "../web/i18n.ts";
import { PoolFull, type InstancePool } from "./pool.ts";
import { normaliseDomain, type HostedInstance, type Registry } from "./registry.ts";

/**
 * Another server's or an anonymous program's request (a delivery, a look-up,
 * another instance's group-directory round), not a person's: a browser asks
 * for HTML, an app or a member's page carries a token or a session cookie.
 */
function fromPeer(req: IncomingMessage): boolean {
  const path = (req.url ?? "/").split("?")[0]!;
  if (path.startsWith("/.well-known/") || path === "/inbox" || path.endsWith("/inbox")) return true;
  const accept = req.headers.accept ?? "";
  if (/application\/(activity|ld)\+json/.test(accept)) return true;
  return !req.headers.cookie && !req.headers.authorization && !accept.includes("text/html");
}

/** How long an instance stays in use after its client gave up on a request (longer than any outgoing wait). */
const ABORTED_GRACE_MS = 60_000;

export interface RouterOptions {
  registry: Registry;
  pool: InstancePool;
  log: Logger;
  /** The operator's pages (/host), served on hosts that are not instances; null when no admin token is set. */
  operator: FastifyInstance | null;
}

/** Requests from servers and programs: answered in JSON, never with a page. */
function wantsJson(req: IncomingMessage): boolean {
  const path = req.url ?? "/";
  if (/^\/(\.well-known|users|inbox|nodeinfo|api|oauth\/token|groups\/[^/]+\/(inbox|outbox))/.test(path)) return true;
  return /json/.test(String(req.headers.accept ?? "")) && !/text\/html/.test(String(req.headers.accept ?? ""));
}

const fr = translator("fr");
const en = translator("en");

function plainPage(res: ServerResponse, status: number, key: string, headers: Record<string, string> = {}): void {
  const body = `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Coopol</title></head>
<body><main><p>${fr(key)}</p><p lang="en">${en(key)}</p></main></body>
</html>
`;
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "content-security-policy": "default-src 'none'", "x-content-type-options": "nosniff", ...headers });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify(value));
}

/** A suspended instance: gone for peers (410, they stop delivering), a page for people. */
function suspended(req: IncomingMessage, res: ServerResponse): void {
  if (wantsJson(req)) json(res, 410, { error: en("host.suspended_page") });
  else plainPage(res, 410, "host.suspended_page");
}

/**
 * Never a 5xx: a peer that gets one retries as if the instance were down and
 * a Mastodon app shows "server error". A full pool or a load failure is
 * temporary (429 with Retry-After, which senders honour): in JSON for
 * programs, in plain words for people.
 */
function unavailable(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  const [key, retryAfter] = error instanceof PoolFull ? ["host.busy_page", "10"] : ["host.unavailable_page", "60"];
  if (wantsJson(req)) json(res, 429, { error: en(key) }, { "retry-after": retryAfter });
  else plainPage(res, 429, key, { "retry-after": retryAfter });
}

/** The same answer to a WebSocket upgrade (a raw socket: no fastify to write it). */
function unavailableUpgrade(socket: Duplex, error: unknown): void {
  const [key, retryAfter] = error instanceof PoolFull ? ["host.busy_page", "10"] : ["host.unavailable_page", "60"];
  const body = JSON.stringify({ error: en(key) });
  socket.end(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${retryAfter}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export function createRouter(options: RouterOptions) {
  const { registry, pool, log, operator } = options;

  function entryOf(req: IncomingMessage): HostedInstance | null {
    const domain = normaliseDomain(String(req.headers.host ?? ""));
    return domain ? registry.get(domain) : null;
  }

  /** Caddy's on-demand TLS asks whether to get a certificate: only for hosted domains. */
  function allowed(req: IncomingMessage, res: ServerResponse): void {
    const domain = normaliseDomain(new URL(req.url ?? "/", "http://host").searchParams.get("domain") ?? "");
    const known = domain !== null && registry.get(domain) !== null;
    res.writeHead(known ? 200 : 404, { "content-type": "text/plain; charset=utf-8" });
    res.end(known ? "ok\n" : "unknown\n");
  }

  async function request(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = entryOf(req);
    if (!entry) {
      const path = (req.url ?? "/").split("?")[0]!;
      if (path === "/host/allowed") return allowed(req, res);
      if (operator && (path === "/host" || path.startsWith("/host/"))) {
        operator.routing(req, res);
        return;
      }
      return plainPage(res, 421, "host.unknown_page");
    }
    if (entry.state !== "active") return suspended(req, res);
    let lease;
    try {
      lease = await pool.acquire(entry, { fromPeer: fromPeer(req) });
    } catch (error) {
      if (error instanceof PoolFull) log.warn({ instance: entry.domain }, "host: too many instances loaded, request refused for now");
      else log.error({ err: error, instance: entry.domain }, "host: instance could not be loaded");
      return unavailable(req, res, error);
    }
    res.once("close", () => {
      // A client that gave up leaves its handler running (a lookup may wait 30 s for an answer):
      // the instance stays in use that long more, so that it is not unloaded under the handler.
      if (res.writableFinished) lease.release();
      else setTimeout(lease.release, ABORTED_GRACE_MS).unref();
    });
    lease.instance.app.routing(req, res);
  }

  /** WebSocket upgrades (Mastodon's streaming API) go to the instance's own server object. */
  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const entry = entryOf(req);
    if (!entry || entry.state !== "active") return void socket.destroy();
    try {
      const lease = await pool.acquire(entry);
      socket.once("close", lease.release);
      lease.instance.app.server.emit("upgrade", req, socket, head);
    } catch (error) {
      if (error instanceof PoolFull) log.warn({ instance: entry.domain }, "host: too many instances loaded, stream refused for now");
      else log.error({ err: error, instance: entry.domain }, "host: instance could not be loaded");
      unavailableUpgrade(socket, error);
    }
  }

  return {
    request: (req: IncomingMessage, res: ServerResponse) =>
      void request(req, res).catch((error) => {
        log.error({ err: error }, "host: request failed");
        if (!res.headersSent) unavailable(req, res, error);
        else res.destroy();
      }),
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void upgrade(req, socket, head),
  };
}
