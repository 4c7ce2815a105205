// A logged-in web session over real HTTP, as a browser without JavaScript
// would use the pages: cookies kept, forms posted with their CSRF field.
import { request } from "undici";

export class WebSession {
  readonly origin: string;
  readonly cookies = new Map<string, string>();

  constructor(origin: string) {
    this.origin = origin;
  }

  #cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  #remember(setCookie: string | string[] | undefined): void {
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = line.split(";");
      const [name, ...value] = pair!.split("=");
      const v = value.join("=");
      if (!v || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name!.trim());
      else this.cookies.set(name!.trim(), v);
    }
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; location?: string }> {
    const res = await request(new URL(path, this.origin), { headers: { cookie: this.#cookieHeader(), ...headers } });
    this.#remember(res.headers["set-cookie"]);
    return { status: res.statusCode, body: await res.body.text(), location: res.headers.location as string | undefined };
  }

  /** Posts a form the way a browser would, with the CSRF token from the cookie. */
  async post(path: string, fields: Record<string, string | string[]>, options: { csrf?: boolean; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; location?: string }> {
    if (!this.cookies.has("coopol_csrf")) await this.get("/login");
    // A field given as a list is repeated, as a form's same-named inputs are.
    const form = new URLSearchParams(Object.entries(fields).flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v): [string, string] => [key, v])));
    if (options.csrf !== false) form.set("_csrf", this.cookies.get("coopol_csrf") ?? "");
    const res = await request(new URL(path, this.origin), {
      method: "POST",
      headers: { cookie: this.#cookieHeader(), "content-type": "application/x-www-form-urlencoded", ...options.headers },
      body: form.toString(),
    });
    this.#remember(res.headers["set-cookie"]);
    return { status: res.statusCode, body: await res.body.text(), location: res.headers.location as string | undefined };
  }

  /** Posts a multipart form (with files), as a browser sends a form with enctype="multipart/form-data". */
  async postMultipart(path: string, fields: Record<string, string | string[]>, files: Array<{ field: string; fileName: string; type: string; data: Buffer }> = []): Promise<{ status: number; body: string; location?: string }> {
    if (!this.cookies.has("coopol_csrf")) await this.get("/login");
    const form = new FormData();
    form.append("_csrf", this.cookies.get("coopol_csrf") ?? "");
    for (const [key, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) form.append(key, v);
    for (const f of files) form.append(f.field, new Blob([new Uint8Array(f.data)], { type: f.type }), f.fileName);
    // fetch, not undici's request: the latter stalled sending FormData bodies on a reused connection.
    const res = await fetch(new URL(path, this.origin), { method: "POST", headers: { cookie: this.#cookieHeader() }, body: form, redirect: "manual" });
    this.#remember(res.headers.getSetCookie());
    return { status: res.status, body: await res.text(), location: res.headers.get("location") ?? undefined };
  }

  async login(username: string, password: string): Promise<void> {
    const res = await this.post("/login", { username, password });
    if (res.status !== 303) throw new Error(`login ${username} failed: ${res.status} ${res.body.slice(0, 300)}`);
  }

  async publish(text: string, visibility = "public", extra: Record<string, string> = {}): Promise<void> {
    const res = await this.post("/posts", { text, visibility, ...extra });
    if (res.status !== 303) throw new Error(`post failed: ${res.status} ${res.body.slice(0, 500)}`);
  }
}
