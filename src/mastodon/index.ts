// The Mastodon client API, so that members can use Tusky, Ivory, Elk, Phanpy…
// Routes are thin: they read parameters, check the token's scope, call the
// same domain functions as the web pages, and render entities (entities.ts).
import cors from "@fastify/cors";
import multipart from "@fastify/multipart";
import websocket from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import { UserError } from "../errors.ts";
import { MEDIA_MAX_BYTES } from "../media/media.ts";
import type { Services } from "../services.ts";
import { pickLocale, translator } from "../web/i18n.ts";
import { registerAccountRoutes } from "./routes/accounts.ts";
import { registerInstanceRoutes } from "./routes/instance.ts";
import { registerMediaRoutes } from "./routes/media.ts";
import { registerNotificationRoutes } from "./routes/notifications.ts";
import { registerOAuthRoutes } from "./routes/oauth.ts";
import { registerPollRoutes } from "./routes/polls.ts";
import { registerSearchRoutes } from "./routes/search.ts";
import { registerStatusRoutes } from "./routes/statuses.ts";
import { registerStreaming } from "./routes/streaming.ts";
import { registerTimelineRoutes } from "./routes/timelines.ts";
import { registerPushRoutes } from "./routes/push.ts";
import { registerCoopolApi } from "../api/index.ts";

/** Multipart fields as plain values, files as { data, contentType }. */
interface FilePart {
  type: "file";
  mimetype: string;
  toBuffer(): Promise<Buffer>;
}

export async function registerMastodonApi(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (api) => {
    // Browser-based clients (Elk, Phanpy) call the API from their own origin.
    // Tokens travel in headers, never in cookies, so this opens nothing else.
    await api.register(cors, { origin: "*", exposedHeaders: ["Link"], methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] });
    await api.register(multipart, { attachFieldsToBody: true, limits: { fileSize: MEDIA_MAX_BYTES, files: 2, fields: 50 } });
    await api.register(websocket, {
      // Some clients send the token as the WebSocket subprotocol; it must be echoed back.
      options: { maxPayload: 64 * 1024, handleProtocols: (protocols) => protocols.values().next().value ?? false },
    });

    api.addHook("preValidation", async (request) => {
      if (!request.isMultipart()) return;
      const flat: Record<string, unknown> = {};
      for (const [key, part] of Object.entries(request.body as Record<string, unknown>)) {
        const one = Array.isArray(part) ? part : [part];
        const values = await Promise.all(
          one.map(async (p) => {
            const field = p as { type: string; value?: unknown } & Partial<FilePart>;
            return field.type === "file" ? { data: await field.toBuffer!(), contentType: field.mimetype! } : field.value;
          }),
        );
        flat[key] = Array.isArray(part) ? values : values[0];
      }
      request.body = flat;
    });

    api.setErrorHandler((error, request, reply) => {
      const t = translator(pickLocale(request.headers["accept-language"]));
      if (error instanceof UserError) {
        return reply.code(error.status).send({ error: t(error.code, error.params) });
      }
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      if (status === 413) return reply.code(413).send({ error: t("media_too_large", { max: MEDIA_MAX_BYTES / 1024 / 1024 }) });
      if (status < 500) return reply.code(status).send({ error: t("api_bad_request", { detail: error instanceof Error ? error.message : String(error) }) });
      services.log.error({ err: error, url: request.url }, "API request failed");
      return reply.code(500).send({ error: t("error.internal") });
    });

    registerOAuthRoutes(api, services);
    registerInstanceRoutes(api, services);
    registerAccountRoutes(api, services);
    registerStatusRoutes(api, services);
    registerPollRoutes(api, services);
    registerTimelineRoutes(api, services);
    registerNotificationRoutes(api, services);
    registerMediaRoutes(api, services);
    registerSearchRoutes(api, services);
    registerPushRoutes(api, services);
    registerStreaming(api, services);
    // Coopol's own API shares this scope: same tokens, CORS, parsing and errors.
    registerCoopolApi(api, services);

    // An unknown API address answers in the API's shape, not with a web page.
    api.all("/api/*", async (request, reply) => {
      const t = translator(pickLocale(request.headers["accept-language"]));
      return reply.code(404).send({ error: t("api_not_found") });
    });
  });
}
