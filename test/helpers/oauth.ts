// The OAuth authorization-code flow as a person does it in a browser: log in
// on the instance, open the app's authorization link, press "Autoriser", and
// hand the code back to the app.
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
