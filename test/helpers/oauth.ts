// The OAuth authorization-code flow as a person does it in a browser: log in
// on the instance, open the app's authorization link, press "Autoriser", and
// hand the code back to the app. Also: logging a member in with masto.js or megalodon.
import { createOAuthAPIClient, createRestAPIClient, type mastodon } from "masto";
import megalodon from "megalodon";
import { WebSession } from "./browser-session.ts";
import { PASSWORD } from "./instances.ts";

/** Follows an authorization URL as `username` and returns the code the app receives. */
export async function authorizeAs(origin: string, username: string, authorizeUrl: string, password = PASSWORD): Promise<string> {
  const session = new WebSession(origin);
  await session.login(username, password);
  const url = new URL(authorizeUrl);
  const consent = await session.get(url.pathname + url.search);
  if (consent.status !== 200 || !consent.body.includes('name="decision"')) throw new Error(`no consent page: ${consent.status} ${consent.body.slice(0, 300)}`);
  // The form carries the query back as hidden fields; a browser would send exactly these.
  const fields = Object.fromEntries(url.searchParams);
  const answer = await session.post("/oauth/authorize", { ...fields, decision: "allow" });
  if (answer.location) {
    const code = new URL(answer.location).searchParams.get("code");
    if (code) return code;
  }
  const shown = /<code id="oauth-code"[^>]*>([^<]+)<\/code>/.exec(answer.body);
  if (shown) return shown[1]!;
  throw new Error(`no code: ${answer.status} ${answer.location ?? answer.body.slice(0, 300)}`);
}

const OOB = "urn:ietf:wg:oauth:2.0:oob";

/** A bearer token for `username`, as a script gets one: register an app, authorize in the browser, exchange the code. */
export async function apiToken(origin: string, username: string, scope = "read write", password = PASSWORD): Promise<string> {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${origin}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    return (await res.json()) as Record<string, string>;
  };
  const app = await post("/api/v1/apps", { client_name: "script", redirect_uris: OOB, scopes: scope });
  const code = await authorizeAs(origin, username, `${origin}/oauth/authorize?${new URLSearchParams({ client_id: app.client_id!, redirect_uri: OOB, response_type: "code", scope })}`, password);
  const issued = await post("/oauth/token", { grant_type: "authorization_code", client_id: app.client_id, client_secret: app.client_secret, redirect_uri: OOB, code });
  return issued.access_token!;
}

export const TEST_REDIRECT = "http://127.0.0.1:9/callback";

/** Registers an app with masto.js and logs `username` in through the consent page. */
export async function mastoLogin(origin: string, username: string, scopes = "read write follow"): Promise<{ client: mastodon.rest.Client; token: string }> {
  const app = await createRestAPIClient({ url: origin }).v1.apps.create({ clientName: "Tests masto.js", redirectUris: TEST_REDIRECT, scopes });
  const code = await authorizeAs(origin, username, `${origin}/oauth/authorize?${new URLSearchParams({ client_id: app.clientId!, redirect_uri: TEST_REDIRECT, response_type: "code", scope: scopes })}`);
  const token = await createOAuthAPIClient({ url: origin }).token.create({ grantType: "authorization_code", clientId: app.clientId!, clientSecret: app.clientSecret!, redirectUri: TEST_REDIRECT, code, scope: scopes });
  return { client: createRestAPIClient({ url: origin, accessToken: token.accessToken }), token: token.accessToken };
}

/** The same with megalodon (CommonJS: its generator is the module's `default`). */
export async function megalodonLogin(origin: string, username: string) {
  const generator = megalodon.default;
  const registered = await generator("mastodon", origin).registerApp("Tests megalodon", { scopes: ["read", "write", "follow"], redirect_uris: TEST_REDIRECT });
  const code = await authorizeAs(origin, username, registered.url!);
  const token = await generator("mastodon", origin).fetchAccessToken(registered.client_id, registered.client_secret, code, TEST_REDIRECT);
  return generator("mastodon", origin, token.access_token);
}
