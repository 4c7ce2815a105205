// App registration and the token endpoints of OAuth 2. The consent page
// itself is a web page (web/routes/oauth.ts).
import type { FastifyInstance } from "fastify";
import { KNOWN_SCOPES } from "../../oauth/scopes.ts";
import { authenticateClient, exchangeToken, findApp, registerApp, revokeToken, type OAuthApp } from "../../oauth/oauth.ts";
import { UserError } from "../../errors.ts";
import type { Services } from "../../services.ts";
import { requireToken } from "../auth.ts";
import { pickLocale, translator } from "../../web/i18n.ts";
import { list, paramsOf, str } from "../params.ts";

function renderApp(app: OAuthApp) {
  const uris = app.redirectUris.split("\n");
  return { id: String(app.id), name: app.name, website: app.website, scopes: app.scopes.split(" "), redirect_uri: uris.join("\n"), redirect_uris: uris, vapid_key: "" };
}

/** Client credentials from the form body or an HTTP Basic header (RFC 6749 §2.3.1). */
function clientCredentials(params: Record<string, unknown>, authorization: string | undefined): { id?: string; secret?: string } {
  if (authorization?.toLowerCase().startsWith("basic ")) {
    const [id, secret] = Buffer.from(authorization.slice(6), "base64").toString().split(":");
    return { id: decodeURIComponent(id ?? ""), secret: decodeURIComponent(secret ?? "") };
  }
  return { id: str(params, "client_id"), secret: str(params, "client_secret") };
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
    return { ...renderApp(app), client_id: app.clientId, client_secret: clientSecret, client_secret_expires_at: 0 };
  });

  api.get("/api/v1/apps/verify_credentials", async (request) => {
    const { app } = requireToken(services, request);
    return renderApp(app);
  });

  api.post("/oauth/token", async (request, reply) => {
    const params = paramsOf(request);
    const creds = clientCredentials(params, request.headers.authorization);
    try {
      // Public clients with PKCE may omit the secret only for authorization codes with a verifier.
      const app = creds.secret === undefined && str(params, "code_verifier") ? findApp(db, creds.id) : authenticateClient(db, creds.id, creds.secret);
      const token = exchangeToken(db, app, params);
      return {
        access_token: token.accessToken,
        token_type: "Bearer",
        scope: token.scopes.join(" "),
        created_at: Math.floor(token.createdAt / 1000),
        ...(token.refreshToken ? { refresh_token: token.refreshToken } : {}),
      };
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      // RFC 6749's error names, with the readable message alongside.
      const code = error.code.replace(/^oauth_/, "");
      return reply.code(error.status).send({ error: code, error_description: translator(pickLocale(request.headers["accept-language"]))(error.code, error.params) });
    }
  });

  api.post("/oauth/revoke", async (request) => {
    const params = paramsOf(request);
    const creds = clientCredentials(params, request.headers.authorization);
    revokeToken(db, authenticateClient(db, creds.id, creds.secret), str(params, "token"));
    return {};
  });

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
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    code_challenge_methods_supported: ["S256"],
  }));
}
