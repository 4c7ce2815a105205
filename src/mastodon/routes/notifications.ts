// Notifications, as a flat list (v1) and grouped (v2). Only Mastodon's types:
// Coopol's own (coopol.rsvp.*) are for the web page, apps would not know them.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { clearNotifications, dismissNotification, getNotification, isMastodonType, listNotifications, MASTODON_TYPES, unreadNotificationCount, type NotificationFilter } from "../../notifications/notifications.ts";
import type { Services } from "../../services.ts";
import { pickLocale } from "../../web/i18n.ts";
import { requireUser } from "../auth.ts";
import { renderNotifications } from "../entities.ts";
import { idParam, int, list, pageOf, paramsOf, setLinkHeader, str, type Params } from "../params.ts";

function filterOf(params: Params): NotificationFilter {
  const types = (key: string) => list(params, key).filter(isMastodonType);
  const account = str(params, "account_id");
  return { types: types("types"), excludeTypes: types("exclude_types"), accountId: account ? idParam(account, "actor_not_found") : undefined, only: MASTODON_TYPES };
}

type WithId = FastifyRequest<{ Params: { id: string } }>;

export function registerNotificationRoutes(api: FastifyInstance, services: Services): void {
  const { db, config } = services;

  api.get("/api/v1/notifications", async (request, reply) => {
    const user = requireUser(services, request, "read:notifications");
    const params = paramsOf(request);
    const rows = listNotifications(db, user, pageOf(params, 40, 80), filterOf(params));
    setLinkHeader(request, reply, config.origin, rows.map((r) => r.id));
    return renderNotifications(services, user, rows, pickLocale(request.headers["accept-language"]));
  });

  api.get("/api/v1/notifications/:id", async (request: WithId) => {
    const user = requireUser(services, request, "read:notifications");
    return renderNotifications(services, user, [getNotification(db, user, idParam(request.params.id, "notification_not_found"), MASTODON_TYPES)], pickLocale(request.headers["accept-language"]))[0];
  });

  api.post("/api/v1/notifications/clear", async (request) => {
    clearNotifications(db, requireUser(services, request, "write:notifications"), MASTODON_TYPES);
    return {};
  });

  api.post("/api/v1/notifications/:id/dismiss", async (request: WithId) => {
    dismissNotification(db, requireUser(services, request, "write:notifications"), idParam(request.params.id, "notification_not_found"));
    return {};
  });

  const unreadCount = async (request: FastifyRequest) => {
    const user = requireUser(services, request, "read:notifications");
    return { count: unreadNotificationCount(db, user, int(paramsOf(request), "limit") ?? 100, MASTODON_TYPES) };
  };
  api.get("/api/v1/notifications/unread_count", unreadCount);
  api.get("/api/v2/notifications/unread_count", unreadCount);

  // Grouped notifications: likes and boosts of the same post form one group.
  api.get("/api/v2/notifications", async (request, reply) => {
    const user = requireUser(services, request, "read:notifications");
    const params = paramsOf(request);
    const rows = listNotifications(db, user, pageOf(params, 40, 80), filterOf(params));
    setLinkHeader(request, reply, config.origin, rows.map((r) => r.id));
    const rendered = renderNotifications(services, user, rows, pickLocale(request.headers["accept-language"]));
    const groups = new Map<string, { group_key: string; notifications_count: number; type: string; most_recent_notification_id: string; page_min_id: string; page_max_id: string; latest_page_notification_at: string; sample_account_ids: string[]; status_id?: string; report?: unknown }>();
    const accounts = new Map<string, unknown>();
    const statuses = new Map<string, unknown>();
    for (const n of rendered) {
      accounts.set(n.account.id, n.account);
      if (n.status) statuses.set(n.status.id, n.status);
      const group = groups.get(n.group_key);
      if (group) {
        group.notifications_count++;
        group.page_min_id = n.id;
        if (!group.sample_account_ids.includes(n.account.id) && group.sample_account_ids.length < 8) group.sample_account_ids.push(n.account.id);
        continue;
      }
      groups.set(n.group_key, {
        group_key: n.group_key,
        notifications_count: 1,
        type: n.type,
        most_recent_notification_id: n.id,
        page_min_id: n.id,
        page_max_id: n.id,
        latest_page_notification_at: n.created_at,
        sample_account_ids: [n.account.id],
        ...(n.status ? { status_id: n.status.id } : {}),
        ...("report" in n ? { report: n.report } : {}),
      });
    }
    return { accounts: [...accounts.values()], statuses: [...statuses.values()], notification_groups: [...groups.values()] };
  });
}
