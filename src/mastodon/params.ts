// Reading API parameters the way Mastodon clients send them: query strings,
// JSON, urlencoded forms (with `key[]` arrays) or multipart forms.
import type { FastifyReply, FastifyRequest } from "fastify";
import { UserError } from "../errors.ts";
import type { Page } from "../posts/posts.ts";
import type { NewPoll } from "../polls/polls.ts";

export type Params = Record<string, unknown>;

export function paramsOf(request: FastifyRequest): Params {
  const body = request.body && typeof request.body === "object" && !Buffer.isBuffer(request.body) ? (request.body as Params) : {};
  return { ...(request.query as Params), ...body };
}

export function str(params: Params, key: string): string | undefined {
  const v = params[key];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.length ? String(v[0]) : undefined;
  return typeof v === "object" ? undefined : String(v);
}

export function bool(params: Params, key: string): boolean | undefined {
  const v = str(params, key);
  if (v === undefined || v === "") return undefined;
  return v === "true" || v === "1" || v === "on";
}

export function int(params: Params, key: string): number | undefined {
  const v = str(params, key);
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new UserError("api_bad_request", 400, { detail: `${key}=${v}` });
  return n;
}

/** An array parameter, sent as `key[]=a&key[]=b`, `key=a` or a JSON array. */
export function list(params: Params, key: string): string[] {
  const v = params[`${key}[]`] ?? params[key];
  if (v === undefined || v === null || v === "") return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/**
 * A nested object parameter: JSON sends `poll: {options: [...]}`, forms send
 * `poll[options][]=…&poll[expires_in]=…`. Either way the answer is read with
 * the functions above (`list(nested, "options")`). Undefined when absent.
 */
export function nested(params: Params, key: string): Params | undefined {
  const v = params[key];
  if (v && typeof v === "object" && !Array.isArray(v)) return v as Params;
  const prefix = `${key}[`;
  const found = Object.entries(params).filter(([k]) => k.startsWith(prefix) && k.indexOf("]") > prefix.length);
  if (found.length === 0) return undefined;
  // poll[options][] → options[], poll[expires_in] → expires_in
  return Object.fromEntries(found.map(([k, value]) => [k.slice(prefix.length).replace("]", ""), value]));
}

/** A numeric id in a path: anything else cannot exist. */
export function idParam(value: string, notFound = "post_not_found"): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UserError(notFound, 404);
  return n;
}

export function pageOf(params: Params, defaultLimit = 20, maxLimit = 40): Page {
  const limit = int(params, "limit");
  return {
    maxId: int(params, "max_id"),
    sinceId: int(params, "since_id"),
    minId: int(params, "min_id"),
    limit: Math.min(Math.max(limit ?? defaultLimit, 1), maxLimit),
  };
}

/** Mastodon's Link header: `next` goes to older items, `prev` to newer ones. */
export function setLinkHeader(request: FastifyRequest, reply: FastifyReply, origin: string, ids: Array<string | number>): void {
  if (ids.length === 0) return;
  const url = new URL(request.url, origin);
  for (const key of ["max_id", "since_id", "min_id", "access_token"]) url.searchParams.delete(key);
  const at = (key: string, value: string | number) => {
    const u = new URL(url);
    u.searchParams.set(key, String(value));
    return u.href;
  };
  reply.header("link", `<${at("max_id", ids[ids.length - 1]!)}>; rel="next", <${at("min_id", ids[0]!)}>; rel="prev"`);
}

/** The poll sent with a status (JSON object or `poll[…]` form fields); undefined when none. */
export function pollParam(params: Params): NewPoll | undefined {
  const poll = nested(params, "poll");
  const options = poll ? list(poll, "options") : [];
  // Some clients send an empty poll object with every status.
  if (!poll || options.length === 0) return undefined;
  return { options, expiresIn: int(poll, "expires_in") ?? 0, multiple: bool(poll, "multiple"), hideTotals: bool(poll, "hide_totals") };
}
