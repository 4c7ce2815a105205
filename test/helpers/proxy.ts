// A small reverse proxy for tests, doing what Caddy does in front of several
// Coopol hosts (deploy/Caddyfile.hosts): it reads the request's Host, forwards
// the request with that same Host to the backend its route names, with the
// client's address in X-Forwarded-For, and streams the answer back. It
// connects from `fromAddress`, as a proxy on another machine would (the hosts
// trust it through COOPOL_TRUSTED_PROXIES). Routes change while it runs, as an operator edits Caddy's
// configuration when an instance moves to another host.
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";

export interface TestProxy {
  port: number;
  /** Sends the requests for `host` (as the Host header carries it) to 127.0.0.1:`backendPort`. */
  route(host: string, backendPort: number): void;
  close(): Promise<void>;
}

/** Headers about one connection, not the request: a proxy never passes them on (RFC 9110, 7.6.1). */
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"];

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept = { ...headers };
  for (const name of HOP_BY_HOP) delete kept[name];
  return kept;
}

export async function startProxy(port: number, fromAddress = "127.0.0.1"): Promise<TestProxy> {
  const routes = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const backend = routes.get(String(req.headers.host ?? "").toLowerCase());
    if (backend === undefined) {
      // What Caddy answers for a site it does not serve.
      res.writeHead(421, { "content-type": "text/plain" }).end("no route\n");
      return;
    }
    const headers = { ...endToEnd(req.headers), "x-forwarded-for": req.socket.remoteAddress ?? "" };
    // A new connection each time (agent: false): a kept-alive one that the backend closes meanwhile would reset a request in flight.
    const upstream = request({ host: "127.0.0.1", port: backend, localAddress: fromAddress, agent: false, method: req.method, path: req.url, headers }, (answer) => {
      // One request per client connection too: the proxy shares the test's process, whose
      // spawnSync calls pause it, and a kept-alive connection could then close under a new request.
      res.writeHead(answer.statusCode ?? 502, { ...endToEnd(answer.headers), connection: "close" });
      answer.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end();
    });
    req.pipe(upstream);
  });
  // Every 127.x.y.z address reaches this machine: one port serves many test domains.
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve());
  });
  return {
    port,
    route: (host, backendPort) => void routes.set(host.toLowerCase(), backendPort),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
