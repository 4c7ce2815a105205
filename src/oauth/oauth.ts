// OAuth 2 as Mastodon clients use it: apps register themselves, a member
// authorises one on a web page (authorization code, with PKCE where the app
// sends it), and the app trades the code for a bearer token. Secrets, codes
// and tokens are stored as hashes only.
//
// Every app is a confidential client, as on Mastodon: each call to the token
// and revocation endpoints authenticates it with its secret (in the body or
// HTTP Basic), whatever the grant. PKCE (S256 only, as Mastodon) comes on top
// of the secret, never instead of it: a leaked client id is public knowledge.
import { createHash, timingSafeEqual } from "node:crypto";
import type { EventBus } from "../events.ts";
import { and, desc, eq, isNotNull, or } from "drizzle-orm";
import { UserError } from "../errors.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { oauthApps, oauthCodes, oauthTokens, users } from "../storage/schema.ts";
import { hashToken, newToken } from "../storage/tokens.ts";
import type { User } from "../members/members.ts";
import { parseScopes, withinScopes } from "./scopes.ts";
import { safeUrl } from "../safe-url.ts";

export type OAuthApp = typeof oauthApps.$inferSelect;
export type OAuthToken = typeof oauthTokens.$inferSelect;

/** Apps that cannot receive a redirect show the code on a page to copy. */
export const OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob";
/** How long a code may wait to be exchanged (Mastodon's too); it works once. */
const CODE_MINUTES = 10;

function redirectUriProblem(uri: string): boolean {
  if (uri === OOB_REDIRECT) return false;
  try {
    const url = new URL(uri);
    // Custom schemes (tusky://, elk://…) are how mobile apps get the code back.
    return ["javascript:", "data:", "vbscript:", "file:"].includes(url.protocol);
  } catch {
    return true;
  }
}

export interface NewApp {
  name: string;
  redirectUris: string;
  scopes?: string;
  website?: string | null;
}

export function registerApp(db: Db, input: NewApp): { app: OAuthApp; clientSecret: string } {
  const name = input.name?.trim();
  if (!name) throw new UserError("oauth_app_name_missing", 422);
  const uris = (input.redirectUris ?? "").split(/\s+/).filter(Boolean);
  if (uris.length === 0 || uris.some(redirectUriProblem)) throw new UserError("oauth_invalid_redirect_uri", 422);
  const scopes = parseScopes(input.scopes);
  const clientSecret = newToken();
  const app = db
    .insert(oauthApps)
    .values({
      id: newId(),
      clientId: newToken(),
      clientSecretHash: hashToken(clientSecret),
      name: name.slice(0, 200),
      website: safeUrl(input.website?.trim()),
      redirectUris: uris.join("\n"),
      scopes: scopes.join(" "),
    })
    .returning()
    .get();
  return { app, clientSecret };
}

export function findApp(db: Db, clientId: string | undefined): OAuthApp {
  const app = clientId ? db.select().from(oauthApps).where(eq(oauthApps.clientId, clientId)).get() : undefined;
  if (!app) throw new UserError("oauth_invalid_client", 401);
  return app;
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** The app, if its id and secret match (token endpoint, revocation). */
export function authenticateClient(db: Db, clientId: string | undefined, clientSecret: string | undefined): OAuthApp {
  const app = findApp(db, clientId);
  if (!clientSecret || !sameHash(hashToken(clientSecret), app.clientSecretHash)) throw new UserError("oauth_invalid_client", 401);
  return app;
}

export interface AuthorizationRequest {
  app: OAuthApp;
  redirectUri: string;
  scopes: string[];
  codeChallenge: string | null;
  state: string | null;
}

/** Checks the query of /oauth/authorize before the consent page is shown. */
export function checkAuthorizationRequest(db: Db, query: Record<string, string | undefined>): AuthorizationRequest {
  const app = findApp(db, query.client_id);
  if (query.response_type && query.response_type !== "code") throw new UserError("oauth_unsupported_response_type", 400);
  const redirectUri = query.redirect_uri ?? app.redirectUris.split("\n")[0]!;
  if (!app.redirectUris.split("\n").includes(redirectUri)) throw new UserError("oauth_invalid_redirect_uri", 400);
  const scopes = parseScopes(query.scope ?? app.scopes);
  if (!withinScopes(scopes, app.scopes.split(" "))) throw new UserError("oauth_invalid_scope", 400, { scope: scopes.join(" ") });
  let codeChallenge: string | null = null;
  if (query.code_challenge) {
    if ((query.code_challenge_method ?? "plain") !== "S256") throw new UserError("oauth_pkce_method", 400);
    codeChallenge = query.code_challenge;
  }
  return { app, redirectUri, scopes, codeChallenge, state: query.state ?? null };
}

export function createAuthorizationCode(db: Db, user: User, request: AuthorizationRequest, now = Date.now()): string {
  const code = newToken();
  db.insert(oauthCodes)
    .values({
      codeHash: hashToken(code),
      appId: request.app.id,
      userId: user.id,
      redirectUri: request.redirectUri,
      scopes: request.scopes.join(" "),
      codeChallenge: request.codeChallenge,
      expiresAt: now + CODE_MINUTES * 60_000,
    })
    .run();
  return code;
}

export interface IssuedToken {
  accessToken: string;
  refreshToken: string | null;
  scopes: string[];
  createdAt: number;
}

function issueToken(db: Db, app: OAuthApp, userId: number | null, scopes: string[]): IssuedToken {
  const accessToken = newToken();
  const refreshToken = userId ? newToken() : null;
  const row = db
    .insert(oauthTokens)
    .values({
      id: newId(),
      tokenHash: hashToken(accessToken),
      refreshHash: refreshToken ? hashToken(refreshToken) : null,
      appId: app.id,
      userId,
      scopes: scopes.join(" "),
    })
    .returning()
    .get();
  return { accessToken, refreshToken, scopes, createdAt: row.createdAt };
}

/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

function pkceMatches(challenge: string, verifier: string | undefined): boolean {
  if (!verifier || !VERIFIER.test(verifier)) return false;
  return sameHash(createHash("sha256").update(verifier).digest("base64url"), challenge);
}

export interface TokenRequest {
  grant_type?: string;
  code?: string;
  redirect_uri?: string;
  code_verifier?: string;
  refresh_token?: string;
  scope?: string;
}

/** POST /oauth/token for an authenticated client. */
export function exchangeToken(db: Db, app: OAuthApp, body: TokenRequest, now = Date.now()): IssuedToken {
  switch (body.grant_type) {
    case "authorization_code": {
      // A code works once, even if the exchange fails after this point.
      const code = body.code ? db.delete(oauthCodes).where(eq(oauthCodes.codeHash, hashToken(body.code))).returning().get() : undefined;
      if (!code || code.appId !== app.id || code.expiresAt < now) throw new UserError("oauth_invalid_grant", 400);
      // The very redirect_uri the code was sent to, as RFC 6749 §4.1.3 and Mastodon require.
      if (body.redirect_uri !== code.redirectUri) throw new UserError("oauth_invalid_grant_redirect", 400);
      if (code.codeChallenge && !pkceMatches(code.codeChallenge, body.code_verifier)) throw new UserError("oauth_invalid_grant_verifier", 400);
      const user = db.select().from(users).where(eq(users.id, code.userId)).get();
      if (!user || user.disabledAt) throw new UserError("oauth_invalid_grant", 400);
      return issueToken(db, app, user.id, code.scopes.split(" "));
    }
    case "client_credentials": {
      const scopes = parseScopes(body.scope ?? app.scopes);
      if (!withinScopes(scopes, app.scopes.split(" "))) throw new UserError("oauth_invalid_scope", 400, { scope: scopes.join(" ") });
      return issueToken(db, app, null, scopes);
    }
    case "refresh_token": {
      const old = body.refresh_token
        ? db.delete(oauthTokens).where(and(eq(oauthTokens.refreshHash, hashToken(body.refresh_token)), eq(oauthTokens.appId, app.id))).returning().get()
        : undefined;
      if (!old || !old.userId) throw new UserError("oauth_invalid_grant", 400);
      const user = db.select().from(users).where(eq(users.id, old.userId)).get();
      if (!user || user.disabledAt) throw new UserError("oauth_invalid_grant", 400);
      return issueToken(db, app, user.id, old.scopes.split(" "));
    }
    default:
      throw new UserError("oauth_unsupported_grant_type", 400);
  }
}

/** Tells open streaming connections at once (they also re-check on their own: the CLI is another process). */
function revoked(events: EventBus | undefined, rows: OAuthToken[]): void {
  if (rows.length) events?.emit("token.revoked", { tokenIds: rows.map((r) => r.id) });
}

export function revokeToken(db: Db, app: OAuthApp, token: string | undefined, events?: EventBus): void {
  if (!token) return;
  const hash = hashToken(token);
  const rows = db
    .delete(oauthTokens)
    .where(and(eq(oauthTokens.appId, app.id), or(eq(oauthTokens.tokenHash, hash), eq(oauthTokens.refreshHash, hash))))
    .returning()
    .all();
  revoked(events, rows);
}

export interface Bearer {
  token: OAuthToken;
  app: OAuthApp;
  user: User | null;
}

/** Who a bearer token speaks for, or null if it is unknown, revoked or its account disabled. */
export function bearer(db: Db, token: string, now = Date.now()): Bearer | null {
  const row = db
    .select({ token: oauthTokens, app: oauthApps })
    .from(oauthTokens)
    .innerJoin(oauthApps, eq(oauthApps.id, oauthTokens.appId))
    .where(eq(oauthTokens.tokenHash, hashToken(token)))
    .get();
  if (!row) return null;
  let user: User | null = null;
  if (row.token.userId) {
    user = db.select().from(users).where(eq(users.id, row.token.userId)).get() ?? null;
    if (!user || user.disabledAt) return null;
  }
  // Written at most once a minute: reading a timeline should not write each time.
  if (!row.token.lastUsedAt || now - row.token.lastUsedAt > 60_000) {
    db.update(oauthTokens).set({ lastUsedAt: now }).where(eq(oauthTokens.id, row.token.id)).run();
  }
  return { token: row.token, app: row.app, user };
}

/** Apps a member has authorised, for the page where they can revoke them. */
export function authorisedApps(db: Db, user: User) {
  return db
    .select({ appId: oauthApps.id, name: oauthApps.name, website: oauthApps.website, scopes: oauthTokens.scopes, createdAt: oauthTokens.createdAt, lastUsedAt: oauthTokens.lastUsedAt })
    .from(oauthTokens)
    .innerJoin(oauthApps, eq(oauthApps.id, oauthTokens.appId))
    .where(and(eq(oauthTokens.userId, user.id), isNotNull(oauthTokens.userId)))
    .orderBy(desc(oauthTokens.createdAt))
    .all();
}

export function revokeApp(db: Db, user: User, appId: number, events?: EventBus): void {
  revoked(events, db.delete(oauthTokens).where(and(eq(oauthTokens.userId, user.id), eq(oauthTokens.appId, appId))).returning().all());
}
