// App registration and the token endpoints of OAuth 2. The consent page
// itself is a web page (web/routes/oauth.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { KNOWN_SCOPES } from "../../oauth/scopes.ts";
import { authenticateClient, exchangeToken, registerApp, revokeToken, type OAuthApp } from "../../oauth/oauth.ts";
import { UserError } from "../../errors.ts";
import type { Services } from "../../services.ts";
import { requireToken } from "../auth.ts";
import { pickLocale, translator } from "../../web/i18n.ts";
import { list, paramsOf, str } from "../params.ts";
import { vapidKeys } from "../../notifications/push.ts";

/** The Application entity; `vapid_key` is the instance's push key (Mastodon still sends it there). */
function renderApp(app: OAuthApp, vapidKey: string) {
  const uris = app.redirectUris.split("\n");
  return { id: String(app.id), name: app.name, website: app.website, scopes: app.scopes.split(" "), redirect_uri: uris.join("\n"), redirect_uris: uris, vapid_key: vapidKey };
}

/** Client credentials from the form body or an HTTP Basic header (RFC 6749 §2.3.1). */
function clientCredentials(params: Record<string, unknown>, authorization: string | undefined): { id?: string; secret?: string } {
  if (authorization?.toLowerCase().startsWith("basic ")) {
    const decoded = Buffer.from(authorization.slice(6), "base64").toString();
    const colon = decoded.indexOf(":");
    if (colon < 0) return {};
    try {
      return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
    } catch {
      return {};
    }
  }
  return { id: str(params, "client_id"), secret: str(params, "client_secret") };
}

/** RFC 6749 §5.2's error names (`invalid_grant`…), with the readable message alongside. */
const OAUTH_ERROR_NAMES: Record<string, string> = {
  oauth_invalid_grant_redirect: "invalid_grant",
  oauth_invalid_grant_verifier: "invalid_grant",
  oauth_pkce_method: "invalid_request",
  oauth_invalid_redirect_uri: "invalid_request",
};

function sendOAuthError(request: FastifyRequest, reply: FastifyReply, error: UserError) {
  const name = OAUTH_ERROR_NAMES[error.code] ?? error.code.replace(/^oauth_/, "");
  // A client that tried HTTP Basic is told how to authenticate (RFC 6749 §5.2).
  if (error.status === 401 && request.headers.authorization?.toLowerCase().startsWith("basic ")) reply.header("www-authenticate", 'Basic realm="oauth"');
  return reply.code(error.status).send({ error: name, error_description: translator(pickLocale(request.headers["accept-language"]))(error.code, error.params) });
}

/** Runs a token-endpoint action for an app authenticated by its id and secret; OAuth errors as RFC 6749 shapes them. */
async function asClient<T>(services: Services, request: FastifyRequest, reply: FastifyReply, run: (app: OAuthApp, params: Record<string, unknown>) => T) {
  const params = paramsOf(request);
  const creds = clientCredentials(params, request.headers.authorization);
  try {
    return run(authenticateClient(services.db, creds.id, creds.secret), params);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    return sendOAuthError(request, reply, error);
  }
}

export function registerOAuthRoutes(api: FastifyInstance, services: Services): void {
  const { db, config } = services;

  api.post("/api/v1/apps", async (request) => {
    const params = paramsOf(request);
    const uris = list(params, "redirect_uris");
    const { app, clientSecret } = registerApp(db, {
      name: str(params, "client_name") ?? "",
      redirectUris: uris.join(" "),
      scopes: str(params, "scopes"),
      website: str(params, "website"),
    });
    return { ...renderApp(app, vapidKeys(services.db).publicKey), client_id: app.clientId, client_secret: clientSecret, client_secret_expires_at: 0 };
  });

  api.get("/api/v1/apps/verify_credentials", async (request) => {
    const { app } = requireToken(services, request);
    return renderApp(app, vapidKeys(services.db).publicKey);
  });

  // Every grant needs the client's secret (see src/oauth/oauth.ts).
  api.post("/oauth/token", (request, reply) =>
    asClient(services, request, reply, (app, params) => {
      // Strings only: a JSON body may carry arrays or objects anywhere.
      const fields = ["grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope"] as const;
      const token = exchangeToken(db, app, Object.fromEntries(fields.map((f) => [f, str(params, f)])));
      // RFC 6749 §5.1: token answers are never cached.
      reply.header("cache-control", "no-store");
      return {
        access_token: token.accessToken,
        token_type: "Bearer",
        scope: token.scopes.join(" "),
        created_at: Math.floor(token.createdAt / 1000),
        ...(token.refreshToken ? { refresh_token: token.refreshToken } : {}),
      };
    }),
  );

  api.post("/oauth/revoke", (request, reply) =>
    asClient(services, request, reply, (app, params) => {
      revokeToken(db, app, str(params, "token"), services.events);
      return {};
    }),
  );

  api.get("/.well-known/oauth-authorization-server", async () => ({
    issuer: `${config.origin}/`,
    service_documentation: "https://docs.joinmastodon.org/",
    authorization_endpoint: `${config.origin}/oauth/authorize`,
    token_endpoint: `${config.origin}/oauth/token`,
    revocation_endpoint: `${config.origin}/oauth/revoke`,
    app_registration_endpoint: `${config.origin}/api/v1/apps`,
    scopes_supported: KNOWN_SCOPES,
    response_types_supported: ["code"],
    response_modes_supported: ["query", "fragment", "form_post"],
    grant_types_supported: ["authorization_code", "client_credentials", "refresh_token"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    code_challenge_methods_supported: ["S256"],
  }));
}
