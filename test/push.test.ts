// Push to phones (Mastodon's Web Push API) with a real client library (masto)
// for the subscription calls, and a local push service that decrypts what the
// instance sends, as a phone would (test/helpers/webpush.ts, RFC 8291).
import t from "tap";
import type { mastodon } from "masto";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { mastoLogin } from "./helpers/oauth.ts";
import { PushReceiver, startPushService, type PushService } from "./helpers/webpush.ts";

let a: TestInstance;
let service: PushService;
let alice: mastodon.rest.Client;
let aliceToken: string;
let bob: mastodon.rest.Client;
let carol: mastodon.rest.Client;
const phone = new PushReceiver();

t.before(async () => {
  service = await startPushService();
  a = await startInstance("push");
  a.addMember("alice");
  a.addMember("bob");
  a.addMember("carol");
  ({ client: alice, token: aliceToken } = await mastoLogin(a.origin, "alice", "read write follow push"));
  ({ client: bob } = await mastoLogin(a.origin, "bob"));
  ({ client: carol } = await mastoLogin(a.origin, "carol"));
});
t.teardown(async () => {
  await Promise.all([a?.stop(), service?.close()]);
});

interface Payload {
  access_token: string;
  preferred_locale: string;
  notification_id: string;
  notification_type: string;
  icon: string;
  title: string;
  body: string;
}

/** The next push that arrives on `path` after the first `seen` ones, decrypted. */
async function nextPush(path: string, seen: number, receiver = phone): Promise<Payload> {
  const push = await eventually(() => service.received.filter((p) => p.path === path)[seen], 15_000, `push #${seen + 1} on ${path}`);
  t.equal(push.headers["content-encoding"], "aes128gcm", "RFC 8291 encoding");
  t.match(String(push.headers.authorization), /^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]+$/, "signed with the instance's VAPID key (RFC 8292)");
  return receiver.decrypt(push.body) as Payload;
}
const count = (path: string) => service.received.filter((p) => p.path === path).length;

async function api(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${a.origin}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

t.test("an app subscribes; the instance's VAPID key is the one it announces", async (t) => {
  const created = await alice.v1.push.subscription.create({
    // `standard`: the app asks for RFC 8291 (Mastodon 4.4); masto.js has no type for it yet.
    subscription: { endpoint: `${service.url}/alice`, keys: phone.keys, standard: true } as never,
    data: { alerts: { mention: true, follow: true, favourite: true, reblog: false } },
    policy: "all",
  });
  t.equal(created.endpoint, `${service.url}/alice`);
  t.match(created.alerts, { mention: true, follow: true, favourite: true, reblog: false, poll: false });
  t.equal(created.policy, "all");
  const instance = (await (await fetch(`${a.origin}/api/v2/instance`)).json()) as { configuration: { vapid: { public_key: string } } };
  t.ok(instance.configuration.vapid.public_key.length > 80, "a P-256 public key");
  t.equal(created.serverKey, instance.configuration.vapid.public_key);
  const app = await api("GET", "/api/v1/apps/verify_credentials", aliceToken);
  t.equal(app.json.vapid_key, created.serverKey, "the application entity carries it too");
  const fetched = await alice.v1.push.subscription.fetch();
  t.equal(fetched.id, created.id);
  // Without the `push` scope there is no subscription to make.
  const { token: bobToken } = await mastoLogin(a.origin, "bob");
  t.equal((await api("GET", "/api/v1/push/subscription", bobToken)).status, 403);
  // A bad key is refused in plain words.
  const bad = await api("POST", "/api/v1/push/subscription", aliceToken, { subscription: { endpoint: `${service.url}/x`, keys: { p256dh: "abc", auth: "def" } } });
  t.equal(bad.status, 422);
  t.match(String(bad.json.error), /clés/);
  t.equal((await alice.v1.push.subscription.fetch()).id, created.id, "the good subscription is still there");
  const privateEndpoint = await api("POST", "/api/v1/push/subscription", aliceToken, { subscription: { endpoint: `ftp://127.0.0.1/x`, keys: phone.keys } });
  t.equal(privateEndpoint.status, 422, "only http(s) push services");
  const huge = await api("POST", "/api/v1/push/subscription", aliceToken, { subscription: { endpoint: `${service.url}/${"x".repeat(3000)}`, keys: phone.keys } });
  t.equal(huge.status, 422, "an address of bounded length");
  const policy = await api("PUT", "/api/v1/push/subscription", aliceToken, { data: { policy: "friends" } });
  t.equal(policy.status, 422);
  t.match(String(policy.json.error), /all, followed, follower ou none/);
});

t.test("a mention, a follow and a favourite reach the phone, decrypted", async (t) => {
  const mention = await bob.v1.statuses.create({ status: "@alice la réunion est jeudi" });
  let payload = await nextPush("/alice", 0);
  t.equal(payload.notification_type, "mention");
  t.equal(payload.title, "bob vous a mentionné·e");
  t.match(payload.body, /la réunion est jeudi/);
  t.equal(payload.access_token, aliceToken, "the app tells by it which account the push is for");
  t.equal(payload.preferred_locale, "fr");
  t.ok(payload.icon.startsWith(a.origin));
  const [notification] = await alice.v1.notifications.list({ types: ["mention"] });
  t.equal(payload.notification_id, notification!.id);
  t.equal(notification!.status?.id, mention.id);

  const bobAccount = await bob.v1.accounts.verifyCredentials();
  const aliceAccount = await alice.v1.accounts.verifyCredentials();
  await bob.v1.accounts.$select(aliceAccount.id).follow();
  payload = await nextPush("/alice", 1);
  t.equal(payload.notification_type, "follow");
  t.equal(payload.title, "bob vous suit");

  const post = await alice.v1.statuses.create({ status: "Tractage samedi matin" });
  await bob.v1.statuses.$select(post.id).favourite();
  payload = await nextPush("/alice", 2);
  t.equal(payload.notification_type, "favourite");
  t.equal(payload.title, "bob a aimé votre message");
  t.match(payload.body, /Tractage samedi/);

  // Boosts are turned off: nothing is sent, and the next allowed one comes as the third after the favourite.
  await bob.v1.statuses.$select(post.id).reblog();
  await bob.v1.statuses.create({ status: "@alice après le boost" });
  payload = await nextPush("/alice", 3);
  t.equal(payload.notification_type, "mention", "no push for the boost");
  t.match(payload.body, /après le boost/);
  t.ok(bobAccount.id);
});

t.test("policies: none sends nothing, followed only from people followed", async (t) => {
  const before = count("/alice");
  const none = await api("PUT", "/api/v1/push/subscription", aliceToken, { data: { policy: "none" } });
  t.equal(none.json.policy, "none");
  t.equal((none.json.alerts as Record<string, boolean>).mention, true, "alerts left as they were");
  await bob.v1.statuses.create({ status: "@alice pendant none" });
  const followed = await api("PUT", "/api/v1/push/subscription", aliceToken, { data: { policy: "followed" } });
  t.equal(followed.json.policy, "followed");
  // alice follows carol, not bob.
  const carolAccount = await carol.v1.accounts.verifyCredentials();
  await alice.v1.accounts.$select(carolAccount.id).follow();
  await bob.v1.statuses.create({ status: "@alice bob n'est pas suivi" });
  await carol.v1.statuses.create({ status: "@alice carol est suivie" });
  const payload = await nextPush("/alice", before);
  t.match(payload.body, /carol est suivie/, "neither the mention under `none` nor bob's under `followed`");
  t.equal(payload.title, "carol vous a mentionné·e");
  await api("PUT", "/api/v1/push/subscription", aliceToken, { data: { policy: "all" } });
});

t.test("an alert turned off with masto's update sends nothing", async (t) => {
  const before = count("/alice");
  const updated = await alice.v1.push.subscription.update({ data: { alerts: { mention: false, follow: true } } });
  t.equal(updated.alerts.mention, false);
  await bob.v1.statuses.create({ status: "@alice mention coupée" });
  // carol now follows alice: an allowed alert, pushed after the (skipped) mention.
  const aliceAccount = await alice.v1.accounts.verifyCredentials();
  await carol.v1.accounts.$select(aliceAccount.id).follow();
  const payload = await nextPush("/alice", before);
  t.equal(payload.notification_type, "follow");
  t.equal(payload.title, "carol vous suit");
});

t.test("DELETE stops pushes; a revoked token's subscription is gone", async (t) => {
  await alice.v1.push.subscription.remove();
  t.equal((await api("GET", "/api/v1/push/subscription", aliceToken)).status, 404);
  const deletedCount = count("/alice");

  // A second app of alice's, subscribed on another endpoint, then revoked from the web page's API.
  const second = await mastoLogin(a.origin, "alice", "read write push");
  const phone2 = new PushReceiver();
  await second.client.v1.push.subscription.create({ subscription: { endpoint: `${service.url}/revoked`, keys: phone2.keys, standard: true } as never, data: { alerts: { mention: true } }, policy: "all" });
  t.equal(a.query("select count(*) as n from push_subscriptions")[0]!.n, 1);
  await revokeByTokenRow(second.token);
  t.equal(a.query("select count(*) as n from push_subscriptions")[0]!.n, 0, "revoking the token removed its subscription");

  // A third, still valid, tells when the mention below has been handled.
  const third = await mastoLogin(a.origin, "alice", "read push");
  const phone3 = new PushReceiver();
  await third.client.v1.push.subscription.create({ subscription: { endpoint: `${service.url}/third`, keys: phone3.keys, standard: true } as never, data: { alerts: { mention: true } }, policy: "all" });
  await bob.v1.statuses.create({ status: "@alice après la suppression" });
  const payload = await nextPush("/third", 0, phone3);
  t.match(payload.body, /après la suppression/);
  t.equal(count("/alice"), deletedCount, "nothing to the deleted subscription");
  t.equal(count("/revoked"), 0, "nothing to the revoked token's");
});

t.test("a push service that answers 410 loses the subscription", async (t) => {
  const gone = await mastoLogin(a.origin, "alice", "read push");
  const phone4 = new PushReceiver();
  service.answer.set("/gone", 410);
  await gone.client.v1.push.subscription.create({ subscription: { endpoint: `${service.url}/gone`, keys: phone4.keys, standard: true } as never, data: { alerts: { mention: true } }, policy: "all" });
  await bob.v1.statuses.create({ status: "@alice vers un abonnement perdu" });
  await nextPush("/gone", 0, phone4);
  await eventually(async () => (await api("GET", "/api/v1/push/subscription", gone.token)).status === 404, 15_000, "subscription deleted");
  t.pass("deleted after the 410");
});

/** The member revokes the app behind `token` from /settings/apps, which deletes its tokens. */
async function revokeByTokenRow(token: string) {
  const app = await api("GET", "/api/v1/apps/verify_credentials", token);
  const session = new WebSession(a.origin);
  await session.login("alice", PASSWORD);
  await session.post(`/settings/apps/${String(app.json.id)}/revoke`, {});
  if ((await api("GET", "/api/v1/apps/verify_credentials", token)).status !== 401) throw new Error("token not revoked");
}
