// Small helpers shared by the web routes.
import type { FastifyReply, FastifyRequest } from "fastify";
import { UserError } from "../errors.ts";
import type { User } from "../members/members.ts";
import type { Services } from "../services.ts";
import { localPath } from "../safe-url.ts";

export function cookieOptions(services: Services, maxAgeSeconds?: number) {
  return {
    path: "/",
    httpOnly: true,
    sameSite: "lax" as const,
    secure: services.config.origin.startsWith("https:"),
    ...(maxAgeSeconds ? { maxAge: maxAgeSeconds } : {}),
  };
}

export function requireUser(request: FastifyRequest): User {
  if (!request.page.user) throw new UserError("error.login_required", 401);
  return request.page.user;
}

export function sendPage(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).type("text/html; charset=utf-8").header("cache-control", "no-store").send(body);
}

/**
 * Where to go after a form or a login (`next`, `back`, a Referer on `origin`):
 * back to a page of this site (localPath), never to another one.
 */
export function safeRedirect(target: unknown, fallback = "/", origin?: string): string {
  return localPath(target, origin) ?? fallback;
}


/** A CSV download (see csv.ts): never cached, saved under `filename`. */
export function sendCsv(reply: FastifyReply, filename: string, csv: string): FastifyReply {
  return reply
    .type("text/csv; charset=utf-8")
    .header("cache-control", "no-store")
    .header("content-disposition", `attachment; filename="${filename}"`)
    .send(csv);
}
