// Thematic groups in Coopol's JSON API: directory, proposing, joining by id
// and by handle (from another instance), threads and replies, reports, the
// moderators' queue, hiding and removing, the log. Every answer is checked
// against the OpenAPI document the instance serves, and each role's rights.
import t from "tap";
import { eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";
import { openapiValidator, type Validate } from "./helpers/openapi.ts";

let a: TestInstance, b: TestInstance;
let validate: Validate;
const tokens: Record<string, string> = {};
const host = (i: TestInstance) => `127.0.0.1:${i.port}`;

t.before(async () => {
  [a, b] = await Promise.all([startInstance("gapi_a"), startInstance("gapi_b")]);
  a.addMember("alice");
  a.addMember("marc");
  a.addMember("sam", "sympathisant");
  a.addMember("adm", "admin");
  b.addMember("bob");
  ({ validate } = await openapiValidator(a.origin));
  for (const name of ["alice", "marc", "sam", "adm"]) tokens[name] = await apiToken(a.origin, name);
  tokens.bob = await apiToken(b.origin, "bob");
});
t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

async function call(who: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const origin = who === "bob" ? b.origin : a.origin;
  const res = await fetch(`${origin}/api/coopol/v1${path}`, {
    method,
    headers: { ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

function valid(t: { same: (a: unknown, b: unknown, m: string) => unknown }, schema: string, data: unknown): void {
  t.same(validate(schema, data), [], `${schema} matches the OpenAPI document`);
}

t.test("groups, threads and moderation through the API", async (t) => {
  t.equal((await call(null, "POST", "/groups", { name: "x" })).status, 401, "a token is needed to propose");
  const refused = await call("sam", "POST", "/groups", { name: "Interdit" });
  t.equal(refused.status, 403, "sympathisants do not propose groups");
  valid(t, "Error", refused.json);
  const created = await call("alice", "POST", "/groups", { name: "Écologie", slug: "ecologie", description: "Climat et biodiversité.", themes: ["climat", "eau"], policy: "party_only" });
  t.equal(created.status, 200, JSON.stringify(created.json));
  valid(t, "Group", created.json);
  t.equal(created.json.can_moderate, true, "the proposer owns it");
  t.equal(created.json.membership, "member");
  const id = created.json.id;
  t.equal((await call("alice", "POST", "/groups", { name: "Doublon", slug: "ecologie" })).status, 409);

  const directory = await call(null, "GET", "/groups?q=climat");
  t.equal(directory.status, 200);
  t.equal(directory.json.length, 1);
  directory.json.forEach((g: unknown) => valid(t, "Group", g));
  t.equal((await call(null, "GET", "/groups?q=inconnu")).json.length, 0);
  valid(t, "Group", (await call("marc", "GET", `/groups/${id}`)).json);
  t.equal((await call("marc", "GET", "/groups/999")).status, 404);

  // Joining: the policy decides. A sympathisant can't join a party_only group.
  const samJoin = await call("sam", "POST", `/groups/${id}/join`);
  t.equal(samJoin.status, 403);
  valid(t, "Error", samJoin.json);
  const marcJoin = await call("marc", "POST", `/groups/${id}/join`);
  t.equal(marcJoin.status, 200);
  valid(t, "Group", marcJoin.json);
  t.equal(marcJoin.json.membership, "member");
  t.equal(marcJoin.json.can_moderate, false);
  t.equal(marcJoin.json.members_count, 2);
  const mine = await call("marc", "GET", "/groups/mine");
  t.equal(mine.json.length, 1);
  mine.json.forEach((g: unknown) => valid(t, "Group", g));

  // Threads and replies: members only.
  t.equal((await call("sam", "POST", `/groups/${id}/threads`, { title: "x", text: "y" })).status, 403, "not a member");
  t.equal((await call("alice", "POST", `/groups/${id}/threads`, { text: "sans titre" })).status, 400, "a thread needs a title");
  const opened = await call("alice", "POST", `/groups/${id}/threads`, { title: "Eau potable", text: "Régie publique de l'eau ?" });
  t.equal(opened.status, 200, JSON.stringify(opened.json));
  valid(t, "GroupPost", opened.json);
  t.equal(opened.json.title, "Eau potable");
  const reply = await call("marc", "POST", `/groups/${id}/threads/${opened.json.id}/replies`, { text: "Oui, et vite. HORSCHARTE" });
  t.equal(reply.status, 200, JSON.stringify(reply.json));
  valid(t, "GroupPost", reply.json);
  t.equal(reply.json.in_reply_to_id, opened.json.id);
  const threads = await call(null, "GET", `/groups/${id}/threads`);
  t.equal(threads.json.length, 1);
  threads.json.forEach((th: unknown) => valid(t, "GroupThread", th));
  t.equal(threads.json[0].replies_count, 1);
  const detail = await call("marc", "GET", `/groups/${id}/threads/${opened.json.id}`);
  valid(t, "GroupThreadDetail", detail.json);
  t.equal(detail.json.replies.length, 1);

  // Reports and the queue.
  const flag = await call("sam", "POST", `/posts/${reply.json.id}/flag`, { comment: "Hors charte" });
  t.equal(flag.status, 200, JSON.stringify(flag.json));
  valid(t, "Flag", flag.json);
  t.equal(flag.json.group_id, id, "to the group's queue");
  t.equal((await call("marc", "POST", `/posts/${reply.json.id}/flag`)).status, 422, "one does not report one's own post");
  t.equal((await call("marc", "GET", `/groups/${id}/flags`)).status, 403, "members do not see the queue");
  const queue = await call("alice", "GET", `/groups/${id}/flags`);
  t.equal(queue.status, 200);
  queue.json.forEach((f: unknown) => valid(t, "Flag", f));
  t.equal(queue.json.length, 1);
  t.equal(queue.json[0].comment, "Hors charte");
  t.equal(queue.json[0].reporter, null, "a group moderator does not learn which local member reported");
  t.equal(queue.json[0].reporter_domain, host(a));
  const admQueue = await call("adm", "GET", `/groups/${id}/flags`);
  t.match(admQueue.json[0].reporter, /^@sam@/, "the instance's admins do");

  // Hiding: moderators only; off the thread for members, marked for moderators.
  const notMod = await call("marc", "POST", `/groups/${id}/posts/${reply.json.id}/hide`, { reason: "x" });
  t.equal(notMod.status, 403, "a non-moderator can't hide");
  valid(t, "Error", notMod.json);
  t.equal((await call("alice", "POST", `/groups/${id}/posts/${reply.json.id}/hide`, { reason: "Charte, article 2" })).status, 204);
  t.equal((await call("marc", "GET", `/groups/${id}/threads/${opened.json.id}`)).json.replies.length, 0, "hidden from members");
  const modView = await call("alice", "GET", `/groups/${id}/threads/${opened.json.id}`);
  valid(t, "GroupThreadDetail", modView.json);
  t.equal(modView.json.replies[0].hidden, true, "moderators see it, marked");
  t.equal((await call("alice", "GET", `/groups/${id}/flags`)).json.length, 0, "its report is resolved");
  const all = await call("alice", "GET", `/groups/${id}/flags?state=all`);
  t.equal(all.json[0].state, "resolved");
  all.json.forEach((f: unknown) => valid(t, "Flag", f));
  t.equal((await call("alice", "DELETE", `/groups/${id}/posts/${reply.json.id}/hide`)).status, 204, "shown again");
  t.equal((await call("marc", "GET", `/groups/${id}/threads/${opened.json.id}`)).json.replies.length, 1);

  // Closing a report by hand, then removing the post from the group.
  const second = await call("sam", "POST", `/posts/${opened.json.id}/flag`, { comment: "Doublon" });
  t.equal((await call("marc", "POST", `/flags/${second.json.id}/close`, { state: "dismissed" })).status, 403);
  const closed = await call("alice", "POST", `/flags/${second.json.id}/close`, { state: "dismissed", reason: "Pas un doublon" });
  t.equal(closed.status, 200, JSON.stringify(closed.json));
  valid(t, "Flag", closed.json);
  t.equal(closed.json.state, "dismissed");
  t.equal((await call("alice", "POST", `/groups/${id}/posts/${reply.json.id}/remove`, { reason: "Hors sujet" })).status, 204);
  t.equal((await call("marc", "GET", `/groups/${id}/threads/${opened.json.id}`)).json.replies.length, 0, "out of the group");

  const log = await call("alice", "GET", `/groups/${id}/log`);
  t.equal(log.status, 200);
  log.json.forEach((e: unknown) => valid(t, "ModerationLogEntry", e));
  t.same(log.json.map((e: { action: string }) => e.action), ["remove", "dismiss_flag", "unhide", "hide"], "newest first");
  t.equal(log.json[3].reason, "Charte, article 2");
  t.equal(log.json[3].moderator.username, "alice");
  t.equal((await call("marc", "GET", `/groups/${id}/log`)).status, 403);

  // The instance's queue (posts outside groups): admins and moderators only.
  t.equal((await call("marc", "GET", "/moderation/flags")).status, 403);
  const instanceQueue = await call("adm", "GET", "/moderation/flags?state=all");
  t.equal(instanceQueue.status, 200);
  instanceQueue.json.forEach((f: unknown) => valid(t, "Flag", f));
  t.equal((await call("adm", "GET", "/moderation/flags?state=bogus")).status, 400);
  const instanceLog = await call("adm", "GET", "/moderation/log");
  instanceLog.json.forEach((e: unknown) => valid(t, "ModerationLogEntry", e));
});

t.test("joining a group of another instance by handle, and leaving it", async (t) => {
  const open = await call("alice", "POST", "/groups", { name: "Ouvert", slug: "ouvert", policy: "fediverse" });
  t.equal(open.status, 200);
  const party = await call("bob", "POST", "/groups/join", { handle: `@g_ecologie@${host(a)}` });
  t.equal(party.status, 200, "asked (A will refuse: B is no party instance of A's)");
  valid(t, "Group", party.json);
  const joined = await call("bob", "POST", "/groups/join", { handle: `@g_ouvert@${host(a)}` });
  t.equal(joined.status, 200, JSON.stringify(joined.json));
  valid(t, "Group", joined.json);
  t.equal(joined.json.local, false);
  t.equal(joined.json.membership, "pending", "waits for the group's Accept");
  await eventually(async () => (await call("bob", "GET", `/groups/${joined.json.id}`)).json.membership === "member", 15_000, "accepted by A");
  await eventually(async () => (await call("bob", "GET", "/groups/mine")).json.every((g: { handle: string }) => g.handle !== `@g_ecologie@${host(a)}`), 15_000, "the party-only group refused bob");
  const left = await call("bob", "POST", `/groups/${joined.json.id}/leave`);
  t.equal(left.status, 200);
  valid(t, "Group", left.json);
  t.equal(left.json.membership, "none");
  t.equal((await call("bob", "POST", "/groups/join", { handle: `@nobody@${host(a)}` })).status, 404);
});
