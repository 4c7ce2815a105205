// Checks made on an inbox POST before Fedify sees it, so that bad input gets a
// clear, synchronous answer (Fedify queues activities and answers 202 first):
// unreadable JSON, missing fields, objects claimed from another origin, and
// a signed request replayed byte for byte, a server the federation mode refuses.
import { createHash } from "node:crypto";
import type { KvKey } from "@fedify/fedify";
import type { FastifyRequest } from "fastify";
import type { Services } from "../services.ts";
import { duration } from "./time.ts";
import { jsonTooDeep, MAX_JSON_DEPTH } from "../bounds.ts";
import { mayFederate } from "../party/modes.ts";

export interface InboxProblem {
  status: number;
  message: string;
}

const JSON_TYPES = ["application/activity+json", "application/ld+json", "application/json"];
/** Activities whose object the sender must own (same origin as the sender). */
const OWN_OBJECT_TYPES = new Set(["Create", "Update", "Delete"]);
/** How long a seen signature is remembered: Fedify refuses older signatures anyway. */
const REPLAY_WINDOW_MS = 60 * 60 * 1000;
const REPLAY_WINDOW = duration(REPLAY_WINDOW_MS);

function idOf(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { id?: unknown }).id === "string") return (value as { id: string }).id;
  return null;
}

function originOf(uri: string | null): string | null {
  if (!uri) return null;
  try {
    return new URL(uri).origin;
  } catch {
    return null;
  }
}

function signatureKey(request: FastifyRequest): KvKey | null {
  const signature = request.headers["signature"] ?? request.headers["signature-input"];
  if (!signature) return null;
  const text = Array.isArray(signature) ? signature.join(",") : signature;
  return ["coopol", "seen-signature", createHash("sha256").update(text).digest("base64url")] as const;
}

export async function checkInboxRequest(services: Services, request: FastifyRequest, body: Buffer): Promise<InboxProblem | null> {
  const type = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (!JSON_TYPES.includes(type)) {
    return { status: 415, message: "Inbox accepts application/activity+json or application/ld+json only." };
  }
  const text = body.toString("utf8");
  if (jsonTooDeep(text)) return { status: 400, message: `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.` };
  let activity: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
    activity = parsed as Record<string, unknown>;
  } catch {
    return { status: 400, message: "The body is not a JSON object." };
  }
  const activityId = idOf(activity.id);
  const actorId = idOf(activity.actor);
  if (typeof activity.type !== "string" || !activityId || !actorId) {
    return { status: 400, message: "An activity needs an id, a type and an actor." };
  }
  const actorOrigin = originOf(actorId);
  if (!actorOrigin || originOf(activityId) !== actorOrigin) {
    return { status: 400, message: "The activity's id and its actor are not on the same origin." };
  }
  if (OWN_OBJECT_TYPES.has(activity.type)) {
    const objectId = idOf(activity.object);
    if (objectId && originOf(objectId) !== actorOrigin) {
      return { status: 403, message: "An actor may only create, update or delete objects of its own origin." };
    }
  }
  // The federation mode (party/modes.ts): a refused server is told why, plainly, before any work.
  if (!mayFederate(services, new URL(actorId).host)) {
    return { status: 403, message: "This server does not exchange activities with yours (its federation mode or blocklist)." };
  }
  const key = signatureKey(request);
  if (key && (await services.kv.get(key))) {
    return { status: 401, message: "This signed request was already received (replay)." };
  }
  return null;
}

export async function rememberSignature(services: Services, request: FastifyRequest): Promise<void> {
  const key = signatureKey(request);
  if (key) await services.kv.set(key, true, { ttl: REPLAY_WINDOW });
}

