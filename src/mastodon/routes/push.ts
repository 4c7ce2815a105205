// Mastodon's Web Push API: one subscription per access token, scope `push`.
// The sending itself is src/notifications/push.ts.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { UserError } from "../../errors.ts";
import type { Services } from "../../services.ts";
import { alertsOf, PUSH_ALERTS, PUSH_POLICIES, subscribe, subscriptionOf, unsubscribe, updateSubscription, vapidKeys, type PushAlerts, type PushPolicy, type PushSubscriptionRow } from "../../notifications/push.ts";
import { requireUser, tokenOf } from "../auth.ts";
import { bool, nested, paramsOf, str, type Params } from "../params.ts";

function render(row: PushSubscriptionRow, serverKey: string) {
  return { id: String(row.id), endpoint: row.endpoint, standard: row.standard, alerts: alertsOf(row), policy: row.policy, server_key: serverKey };
}

/** data[alerts][…] as given (absent ones are left out), data[policy] (or a top-level `policy`, as some libraries send it). */
function dataOf(params: Params): { alerts: Partial<PushAlerts>; policy?: PushPolicy } {
  const data = nested(params, "data") ?? {};
  const given = nested(data, "alerts") ?? {};
  const alerts: Partial<PushAlerts> = {};
  for (const name of PUSH_ALERTS) {
    const value = bool(given, name);
    if (value !== undefined) alerts[name] = value;
  }
  const policy = str(data, "policy") ?? str(params, "policy");
  if (policy !== undefined && !(PUSH_POLICIES as readonly string[]).includes(policy)) throw new UserError("push_bad_policy", 422, { policy });
  return { alerts, policy: policy as PushPolicy | undefined };
}

export function registerPushRoutes(api: FastifyInstance, services: Services): void {
  const { db } = services;
  const caller = (request: FastifyRequest) => {
    const user = requireUser(services, request, "push");
    return { user, tokenId: request.oauth!.token.id };
  };

  api.post("/api/v1/push/subscription", async (request) => {
    const { user, tokenId } = caller(request);
    const params = paramsOf(request);
    const subscription = nested(params, "subscription");
    const keys = subscription && nested(subscription, "keys");
    const endpoint = subscription && str(subscription, "endpoint");
    const p256dh = keys && str(keys, "p256dh");
    const auth = keys && str(keys, "auth");
    if (!endpoint || !p256dh || !auth) throw new UserError("push_missing", 422);
    const { alerts, policy } = dataOf(params);
    const row = subscribe(services, { id: tokenId, userId: user.id, accessToken: tokenOf(request)! }, { endpoint, p256dh, auth, standard: bool(subscription, "standard") ?? false }, alerts, policy);
    return render(row, vapidKeys(db).publicKey);
  });

  api.get("/api/v1/push/subscription", async (request) => render(subscriptionOf(db, caller(request).tokenId), vapidKeys(db).publicKey));

  api.put("/api/v1/push/subscription", async (request) => {
    const { tokenId } = caller(request);
    const { alerts, policy } = dataOf(paramsOf(request));
    return render(updateSubscription(db, tokenId, alerts, policy), vapidKeys(db).publicKey);
  });

  api.delete("/api/v1/push/subscription", async (request) => {
    unsubscribe(db, caller(request).tokenId);
    return {};
  });
}
