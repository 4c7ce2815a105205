// Just enough of a browser to prepare the benchmark's data through Coopol's
// own pages: a cookie jar and form posts carrying the CSRF token. Its cookies
// also let autocannon load a page as that member (bench/groups.ts).
import { request } from "undici";

export interface Reply {
  status: number;
  body: string;
  /** The Location header, if any. */
  location?: string;
}

export class FormClient {
  readonly #origin: string;
  readonly #jar = new Map<string, string>();

  constructor(origin: string) {
    this.#origin = origin;
  }

  #keep(header: string | string[] | undefined): void {
    const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
    for (const line of lines) {
      const pair = line.split(";", 1)[0]!;
      const at = pair.indexOf("=");
      if (at > 0) this.#jar.set(pair.slice(0, at).trim(), pair.slice(at + 1));
    }
  }

  /** The Cookie header this client sends. */
  cookie(): string {
    return Array.from(this.#jar, ([name, value]) => `${name}=${value}`).join("; ");
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await request(new URL(path, this.#origin), { headers: { cookie: this.cookie(), ...headers } });
    this.#keep(res.headers["set-cookie"]);
    return { status: res.statusCode, body: await res.body.text() };
  }

  /** Posts a form; the CSRF field is the value of the CSRF cookie (double submit). */
  async post(path: string, fields: Record<string, string>): Promise<Reply> {
    if (!this.#jar.has("coopol_csrf")) await this.get("/login");
    const body = new URLSearchParams({ ...fields, _csrf: this.#jar.get("coopol_csrf") ?? "" }).toString();
    const res = await request(new URL(path, this.#origin), {
      method: "POST",
      headers: { cookie: this.cookie(), "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    this.#keep(res.headers["set-cookie"]);
    const location = res.headers.location;
    return { status: res.statusCode, body: await res.body.text(), location: typeof location === "string" ? location : undefined };
  }

  /** Posts a form that must answer 303; returns where it leads. */
  async expectRedirect(path: string, fields: Record<string, string>): Promise<string> {
    const res = await this.post(path, fields);
    if (res.status !== 303) throw new Error(`POST ${path} answered ${res.status}: ${res.body.slice(0, 300)}`);
    return res.location ?? "";
  }
}
