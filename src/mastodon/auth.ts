// Bearer tokens on API requests: who is calling, and whether the token's
// scopes allow the endpoint. Every route states the scope it needs.
import type { FastifyRequest } from "fastify";
import { UserError } from "../errors.ts";
import type { User } from "../members/members.ts";
import { bearer, type Bearer } from "../oauth/oauth.ts";
import { hasScope } from "../oauth/scopes.ts";
import type { Services } from "../services.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The bearer token of the request, looked up once. */
    oauth?: Bearer | null;
  }
}

export function tokenOf(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header?.toLowerCase().startsWith("bearer ")) return header.slice(7).trim() || null;
  const query = (request.query as Record<string, unknown> | undefined)?.access_token;
  return typeof query === "string" && query ? query : null;
}

function lookup(services: Services, request: FastifyRequest): Bearer | null {
  if (request.oauth === undefined) {
    const token = tokenOf(request);
    request.oauth = token ? bearer(services.db, token) : null;
    if (token && !request.oauth) throw new UserError("token_invalid", 401);
  }
  return request.oauth;
}

/** The member the token speaks for; 401 without a valid token, 403 without the scope. */
export function requireUser(services: Services, request: FastifyRequest, scope: string): User {
  const auth = lookup(services, request);
  if (!auth) throw new UserError("token_missing", 401);
  if (!hasScope(auth.token.scopes.split(" "), scope)) throw new UserError("token_scope", 403, { scope });
  if (!auth.user) throw new UserError("token_user_required", 403);
  return auth.user;
}

/** For public endpoints: the member if a token is given (and allows the scope), else nobody. */
export function optionalUser(services: Services, request: FastifyRequest, scope: string): User | null {
  const auth = lookup(services, request);
  if (!auth?.user) return null;
  if (!hasScope(auth.token.scopes.split(" "), scope)) throw new UserError("token_scope", 403, { scope });
  return auth.user;
}

/** Any valid token, with or without a member (app verification). */
export function requireToken(services: Services, request: FastifyRequest): Bearer {
  const auth = lookup(services, request);
  if (!auth) throw new UserError("token_missing", 401);
  return auth;
}
