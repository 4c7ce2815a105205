// What clients read at start-up: the instance, its limits, and the many small
// endpoints of features Coopol does not have (yet), which answer empty rather
// than 404 so that no client breaks.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { and, eq } from "drizzle-orm";
import { MAX_POST_LENGTH } from "../../posts/posts.ts";
import { DESCRIPTION_MAX, MEDIA_MAX_BYTES, MEDIA_PER_POST } from "../../media/media.ts";
import { instanceStats, SOFTWARE_VERSION } from "../../members/stats.ts";
import { isCardHolder } from "../../members/members.ts";
import { POLL_LIMITS } from "../../polls/polls.ts";
import type { Services } from "../../services.ts";
import { actors, markers } from "../../storage/schema.ts";
import { optionalUser, requireUser } from "../auth.ts";
import { renderAccount } from "../entities.ts";
import { list, paramsOf, str } from "../params.ts";
import { DEFAULT_AVATAR_PATH } from "../entities.ts";
import { SECTION_LIST_ID } from "./timelines.ts";
import { setMarker } from "../../notifications/notifications.ts";
import { vapidKeys } from "../../notifications/push.ts";

/** Mastodon's version that clients use to pick features; ours follows in brackets. */
export const COMPATIBLE_VERSION = `4.3.0 (compatible; Coopol ${SOFTWARE_VERSION})`;
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp", "image/avif"];

export function registerInstanceRoutes(api: FastifyInstance, services: Services): void {
  const { config, db } = services;
  const host = new URL(config.origin).host;
  const streaming = config.origin.replace(/^http/, "ws");
  const description = `${config.name} — Coopol (${config.kind}${config.territory ? `, ${config.territory}` : ""})`;
  const sectionAccount = () => {
    const row = db.select().from(actors).where(and(eq(actors.username, config.handle), eq(actors.local, true))).get();
    return row ? renderAccount(services, row) : null;
  };
  const limits = {
    accounts: { max_featured_tags: 0, max_pinned_statuses: 5 },
    statuses: { max_characters: MAX_POST_LENGTH, max_media_attachments: MEDIA_PER_POST, characters_reserved_per_url: 23 },
    media_attachments: {
      supported_mime_types: IMAGE_TYPES,
      description_limit: DESCRIPTION_MAX,
      image_size_limit: MEDIA_MAX_BYTES,
      image_matrix_limit: 33_177_600,
      video_size_limit: 0,
      video_frame_rate_limit: 0,
      video_matrix_limit: 0,
    },
    polls: {
      max_options: POLL_LIMITS.maxOptions,
      max_characters_per_option: POLL_LIMITS.maxCharactersPerOption,
      min_expiration: POLL_LIMITS.minExpiration,
      max_expiration: POLL_LIMITS.maxExpiration,
    },
  };

  api.get("/api/v2/instance", async () => {
    const stats = instanceStats(db);
    return {
      domain: host,
      title: config.name,
      version: COMPATIBLE_VERSION,
      source_url: `${config.origin}/about`,
      description,
      usage: { users: { active_month: stats.activeMonth } },
      thumbnail: { url: `${config.origin}${DEFAULT_AVATAR_PATH}` },
      icon: [],
      languages: ["fr", "en"],
      configuration: { urls: { streaming }, vapid: { public_key: vapidKeys(db).publicKey }, ...limits, translation: { enabled: false } },
      registrations: { enabled: false, approval_required: true, message: "Inscription sur invitation de la section." },
      api_versions: { mastodon: 2 },
      contact: { email: "", account: sectionAccount() },
      rules: [],
    };
  });

  api.get("/api/v1/instance", async () => {
    const stats = instanceStats(db);
    return {
      uri: host,
      title: config.name,
      short_description: description,
      description,
      email: "",
      version: COMPATIBLE_VERSION,
      urls: { streaming_api: streaming },
      stats: { user_count: stats.users, status_count: stats.localPublicPosts, domain_count: stats.knownDomains },
      thumbnail: `${config.origin}${DEFAULT_AVATAR_PATH}`,
      languages: ["fr", "en"],
      registrations: false,
      approval_required: true,
      invites_enabled: true,
      configuration: limits,
      contact_account: sectionAccount(),
      rules: [],
    };
  });

  api.get("/api/v1/instance/rules", async () => []);
  api.get("/api/v1/instance/peers", async () => []);
  api.get("/api/v1/instance/activity", async () => []);
  api.get("/api/v1/instance/extended_description", async () => ({ updated_at: new Date(0).toISOString(), content: `<p>${description}</p>` }));
  api.get("/api/v1/custom_emojis", async () => []);
  api.get("/api/v1/announcements", async (request) => {
    optionalUser(services, request, "read");
    return [];
  });
  api.get("/api/v1/trends", async () => []);
  api.get("/api/v1/trends/tags", async () => []);
  api.get("/api/v1/trends/statuses", async () => []);
  api.get("/api/v1/trends/links", async () => []);
  api.get("/api/v1/directory", async () => []);

  api.get("/api/v1/preferences", async (request) => {
    const user = requireUser(services, request, "read:accounts");
    return {
      "posting:default:visibility": "public",
      "posting:default:sensitive": false,
      "posting:default:language": user.locale ?? "fr",
      "reading:expand:media": "default",
      "reading:expand:spoilers": false,
    };
  });

  // Features not built: empty answers, so clients keep working.
  const empty = (scope: string) => async (request: FastifyRequest) => {
    requireUser(services, request, scope);
    return [];
  };
  api.get("/api/v1/filters", empty("read:filters"));
  api.get("/api/v2/filters", empty("read:filters"));
  api.get("/api/v1/followed_tags", empty("read:follows"));
  api.get("/api/v1/featured_tags", empty("read:accounts"));
  api.get("/api/v1/featured_tags/suggestions", empty("read:accounts"));
  api.get("/api/v1/endorsements", empty("read:accounts"));
  api.get("/api/v1/domain_blocks", empty("read:blocks"));
  api.get("/api/v1/scheduled_statuses", empty("read:statuses"));
  api.get("/api/v2/suggestions", empty("read"));
  api.get("/api/v1/suggestions", empty("read"));

  // Lists: the section's own timeline is offered as a list to card-holders.
  api.get("/api/v1/lists", async (request) => {
    const user = requireUser(services, request, "read:lists");
    return isCardHolder(user.role) || user.role === "sympathisant" ? [{ id: SECTION_LIST_ID, title: config.name, replies_policy: "list", exclusive: false }] : [];
  });

  api.get("/api/v1/markers", async (request) => {
    const user = requireUser(services, request, "read:statuses");
    const wanted = list(paramsOf(request), "timeline");
    const rows = db.select().from(markers).where(eq(markers.userId, user.id)).all();
    const out: Record<string, unknown> = {};
    for (const row of rows) {
      if (wanted.length && !wanted.includes(row.timeline)) continue;
      out[row.timeline] = { last_read_id: row.lastReadId, version: row.version, updated_at: new Date(row.updatedAt).toISOString() };
    }
    return out;
  });

  api.post("/api/v1/markers", async (request) => {
    const user = requireUser(services, request, "write:statuses");
    const params = paramsOf(request);
    const out: Record<string, unknown> = {};
    for (const timeline of ["home", "notifications"] as const) {
      const nested = params[timeline] as Record<string, unknown> | undefined;
      const lastRead = (nested && typeof nested === "object" ? str(nested, "last_read_id") : undefined) ?? str(params, `${timeline}[last_read_id]`);
      if (!lastRead) continue;
      const row = setMarker(db, user, timeline, lastRead);
      out[timeline] = { last_read_id: row.lastReadId, version: row.version, updated_at: new Date(row.updatedAt).toISOString() };
    }
    return out;
  });
}
