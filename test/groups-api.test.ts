// Thematic groups in Coopol's JSON API: directory, proposing (and approval),
// joining by id and by handle (from another instance), threads and replies,
// reports, the moderators' queue, hiding and removing, the log, settings,
// members, moderators, requests and bans, proposals and amendments (one
// across instances), contributors. Every answer is checked against the
// OpenAPI document the instance serves, and each role's rights.
import t from "tap";
import { eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { apiToken } from "./helpers/oauth.ts";
import { openapiValidator, type Validate } from "./helpers/openapi.ts";

let a: TestInstance, b: TestInstance;
let validate: Validate;
const tokens: Record<string, string> = {};
const host = (i: TestInstance) => `127.0.0.1:${i.port}`;

t.before(async () => {
  // B's groups wait for a secretary's approval; A's are created at once.
  [a, b] = await Promise.all([startInstance("gapi_a"), startInstance("gapi_b", { COOPOL_GROUPS_NEED_APPROVAL: "true" })]);
  a.addMember("alice");
  a.addMember("marc");
  a.addMember("sam", "sympathisant");
  a.addMember("adm", "admin");
  b.addMember("bob");
  b.addMember("bsec", "secretary");
  ({ validate, spec } = await openapiValidator(a.origin));
  for (const name of ["alice", "marc", "sam", "adm"]) tokens[name] = await apiToken(a.origin, name);
  tokens.bob = await apiToken(b.origin, "bob");
  tokens.bsec = await apiToken(b.origin, "bsec");
  tokens.alice_read = await apiToken(a.origin, "alice", "read");
});
t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
});

async function call(who: string | null, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const origin = who === "bob" || who === "bsec" ? b.origin : a.origin;
  const res = await fetch(`${origin}/api/coopol/v1${path}`, {
    method,
    headers: { ...(who ? { authorization: `Bearer ${tokens[who]}` } : {}), ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/**
 * Joins a group of A from B by its handle. The first look-up of a remote actor
 * can time out on a loaded machine (the group is then "not found"): asked again.
 */
async function joinRemote(handle: string): Promise<{ status: number; json: any }> {
  let last = await call("bob", "POST", "/groups/join", { handle });
  for (let i = 0; i < 5 && (last.status === 404 || last.status === 502); i++) {
    await new Promise((r) => setTimeout(r, 1_000));
    last = await call("bob", "POST", "/groups/join", { handle });
  }
  return last;
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
  const party = await joinRemote(`@g_ecologie@${host(a)}`);
  t.equal(party.status, 200, "asked (A will refuse: B is no party instance of A's)");
  valid(t, "Group", party.json);
  const joined = await joinRemote(`@g_ouvert@${host(a)}`);
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

let spec: Record<string, any>;

/** The document describes the route, with this schema for its answer. */
function documented(t: Checks, method: string, path: string, status: string, schema: string | null): void {
  const operation = spec.paths[path]?.[method.toLowerCase()];
  t.ok(operation, `${method} ${path} is in the OpenAPI document`);
  const response = operation?.responses?.[status];
  t.ok(response, `${method} ${path} documents ${status}`);
  if (schema === null) return;
  const described = response?.content?.["application/json"]?.schema;
  const names = [described?.$ref, described?.items?.$ref, ...(described?.anyOf ?? []).map((s: { $ref?: string }) => s.$ref)].filter(Boolean);
  t.ok(names.includes(`#/components/schemas/${schema}`), `${method} ${path} answers ${schema}`);
  for (const code of ["401", "403", "404"]) t.ok(operation?.responses?.[code], `${method} ${path} documents ${code}`);
}

type Checks = Parameters<typeof valid>[0] & { equal: (a: unknown, b: unknown, m: string) => unknown; ok: (a: unknown, m: string) => unknown };

/** Every item of a list answer matches the schema. */
function allValid(t: Checks, schema: string, list: unknown): void {
  if (!Array.isArray(list)) throw new Error(`${schema}: not a list: ${JSON.stringify(list)}`);
  list.forEach((item) => valid(t, schema, item));
}

/** An answer refused with a sentence (the Error entity). */
async function refused(t: Checks, status: number, pending: Promise<{ status: number; json: any }>, what: string): Promise<void> {
  const res = await pending;
  t.equal(res.status, status, `${what} (${JSON.stringify(res.json)})`);
  if (res.json === null) return;
  valid(t, "Error", res.json);
  t.ok(!/^[a-z_.]+$/.test(res.json.error), `"${res.json.error}" is a sentence, not a message key`);
}

t.test("settings, join requests, members, moderators and bans through the API", async (t) => {
  const made = await call("alice", "POST", "/groups", { name: "Transports", slug: "transports", description: "Bus, vélo, train.", themes: "mobilité", policy: "party_only" });
  t.equal(made.status, 200, JSON.stringify(made.json));
  const id = made.json.id;
  t.equal((await call("marc", "POST", `/groups/${id}/join`)).json.membership, "member");

  // Settings: the group's moderators only; what is left out stays.
  await refused(t, 401, call(null, "PATCH", `/groups/${id}`, { policy: "approval" }), "no token");
  await refused(t, 403, call("alice_read", "PATCH", `/groups/${id}`, { policy: "approval" }), "a read-only token");
  await refused(t, 403, call("marc", "PATCH", `/groups/${id}`, { policy: "approval" }), "a member who does not moderate");
  await refused(t, 422, call("alice", "PATCH", `/groups/${id}`, { policy: "secret" }), "an unknown policy");
  const changed = await call("alice", "PATCH", `/groups/${id}`, { policy: "approval", rules: "Pas d'attaques personnelles." });
  t.equal(changed.status, 200, JSON.stringify(changed.json));
  valid(t, "Group", changed.json);
  t.equal(changed.json.policy, "approval");
  t.equal(changed.json.rules, "Pas d'attaques personnelles.");
  t.equal(changed.json.description, "Bus, vélo, train.", "the description stays");
  t.same(changed.json.themes, ["mobilité"], "and the themes");
  t.equal((await call("alice", "GET", `/groups/${id}/log`)).json[0].action, "policy", "the policy change is in the log");

  // Requests to join: pending under the approval policy, answered by a moderator.
  t.equal((await call("adm", "POST", `/groups/${id}/join`)).json.membership, "pending");
  t.equal((await call("sam", "POST", `/groups/${id}/join`)).json.membership, "pending");
  await refused(t, 401, call(null, "GET", `/groups/${id}/requests`), "no token");
  await refused(t, 403, call("marc", "GET", `/groups/${id}/requests`), "members do not see the requests");
  const requests = await call("alice", "GET", `/groups/${id}/requests`);
  t.equal(requests.status, 200);
  allValid(t, "GroupAuthor", requests.json);
  const adm = requests.json.find((r: { handle: string }) => r.handle.startsWith("@adm@"));
  const sam = requests.json.find((r: { handle: string }) => r.handle.startsWith("@sam@"));
  t.ok(adm && sam, "both asked");
  await refused(t, 403, call("marc", "POST", `/groups/${id}/requests/${adm.id}/accept`), "a member does not accept");
  await refused(t, 403, call("alice_read", "POST", `/groups/${id}/requests/${adm.id}/accept`), "nor a read-only token");
  t.equal((await call("alice", "POST", `/groups/${id}/requests/${adm.id}/accept`)).status, 204);
  t.equal((await call("alice", "POST", `/groups/${id}/requests/${sam.id}/reject`)).status, 204);
  await refused(t, 404, call("alice", "POST", `/groups/${id}/requests/${sam.id}/accept`), "no request left");
  t.equal((await call("adm", "GET", `/groups/${id}`)).json.membership, "member");
  t.equal((await call("sam", "GET", `/groups/${id}`)).json.membership, "none");

  // Members and moderators.
  await refused(t, 403, call("marc", "GET", `/groups/${id}/members`), "members do not list the members");
  const members = await call("alice", "GET", `/groups/${id}/members`);
  t.equal(members.status, 200);
  allValid(t, "GroupMember", members.json);
  t.same(members.json.map((m: { role: string | null }) => m.role), ["owner", null, null]);
  const [aliceId, marcId, admId] = members.json.map((m: { account: { id: string } }) => m.account.id);
  await refused(t, 403, call("marc", "PUT", `/groups/${id}/moderators/${marcId}`), "one does not name oneself");
  await refused(t, 404, call("alice", "PUT", `/groups/${id}/moderators/${sam.id}`), "only members become moderators");
  t.equal((await call("alice", "PUT", `/groups/${id}/moderators/${marcId}`)).status, 204);
  t.equal((await call("marc", "GET", `/groups/${id}`)).json.can_moderate, true);
  allValid(t, "GroupMember", (await call("marc", "GET", `/groups/${id}/members`)).json);
  t.equal((await call("alice", "DELETE", `/groups/${id}/moderators/${marcId}`)).status, 204);
  t.equal((await call("marc", "GET", `/groups/${id}`)).json.can_moderate, false);
  await refused(t, 403, call("marc", "DELETE", `/groups/${id}/members/${admId}`), "a member does not remove another");
  await refused(t, 422, call("alice", "DELETE", `/groups/${id}/members/${aliceId}`), "the owner stays");
  t.equal((await call("alice", "DELETE", `/groups/${id}/members/${admId}`)).status, 204);
  t.equal((await call("adm", "GET", `/groups/${id}`)).json.membership, "none");

  // Bans: an account by id, an instance by its domain; lifted again.
  await refused(t, 403, call("marc", "GET", `/groups/${id}/bans`), "members do not see the bans");
  await refused(t, 403, call("marc", "POST", `/groups/${id}/bans`, { domain: "spam.example" }), "nor ban");
  await refused(t, 422, call("alice", "POST", `/groups/${id}/bans`, { domain: host(a) }), "the group's own instance cannot be banned");
  await refused(t, 404, call("alice", "POST", `/groups/${id}/bans`, { account_id: "999" }), "an unknown account");
  const byDomain = await call("alice", "POST", `/groups/${id}/bans`, { domain: "spam.example" });
  t.equal(byDomain.status, 200, JSON.stringify(byDomain.json));
  allValid(t, "GroupBan", byDomain.json);
  const bans = await call("alice", "POST", `/groups/${id}/bans`, { account_id: sam.id });
  allValid(t, "GroupBan", bans.json);
  t.same(bans.json.map((x: { domain: string | null; account: { id: string } | null }) => x.domain ?? x.account!.id), ["spam.example", sam.id]);
  await refused(t, 403, call("sam", "POST", `/groups/${id}/join`), "a banned account cannot ask again");
  t.equal((await call("alice", "DELETE", `/groups/${id}/bans/${bans.json[0].id}`)).status, 204);
  const left = await call("alice", "GET", `/groups/${id}/bans`);
  allValid(t, "GroupBan", left.json);
  t.equal(left.json.length, 1);
  t.same((await call("alice", "GET", `/groups/${id}/log`)).json.slice(0, 4).map((e: { action: string }) => e.action), ["unban", "ban", "ban", "remove_member"]);
});

t.test("proposals and amendments, stances and decisions through the API", async (t) => {
  const group = (await call(null, "GET", "/groups?q=transports")).json[0];
  const id = group.id;
  await refused(t, 401, call(null, "POST", `/groups/${id}/proposals`, { title: "x", text: "y" }), "no token");
  await refused(t, 403, call("alice_read", "POST", `/groups/${id}/proposals`, { title: "x", text: "y" }), "a read-only token");
  await refused(t, 403, call("sam", "POST", `/groups/${id}/proposals`, { title: "x", text: "y" }), "not a member");
  await refused(t, 422, call("alice", "POST", `/groups/${id}/proposals`, { text: "Sans titre" }), "a proposal needs a title");

  const made = await call("alice", "POST", `/groups/${id}/proposals`, { title: "Bus gratuits", text: "La gratuité des bus le week-end." });
  t.equal(made.status, 200, JSON.stringify(made.json));
  valid(t, "ProposalDetail", made.json);
  const p1 = made.json.id;
  t.match(made.json, { title: "Bus gratuits", state: "open", support: 0, oppose: 0, tally_kept_by: host(a), amends: null, amendments: [], can_decide: true, can_withdraw: true, can_take_stance: true, my_stance: null });
  t.equal(made.json.post.title, "Bus gratuits");

  const amendment = await call("marc", "POST", `/groups/${id}/proposals`, { amends_id: p1, text: "Et en semaine pour les moins de 26 ans." });
  t.equal(amendment.status, 200, JSON.stringify(amendment.json));
  valid(t, "ProposalDetail", amendment.json);
  t.equal(amendment.json.amends_id, p1);
  t.equal(amendment.json.amends.id, p1, "it names the proposal it amends");
  t.equal(amendment.json.title, null);
  t.equal(amendment.json.post.in_reply_to_id, p1, "a reply in the proposal's thread");
  t.equal(amendment.json.can_decide, false, "marc does not moderate");
  await refused(t, 404, call("marc", "POST", `/groups/${id}/proposals`, { amends_id: "999", text: "?" }), "an amendment of nothing");

  const list = await call(null, "GET", `/groups/${id}/proposals`);
  t.equal(list.status, 200);
  allValid(t, "Proposal", list.json);
  t.same(list.json.map((p: { id: string }) => p.id), [p1], "amendments are listed under their proposal");
  t.equal(list.json[0].can_take_stance, false, "a visitor takes no stance");
  const detail = await call(null, "GET", `/proposals/${p1}`);
  valid(t, "ProposalDetail", detail.json);
  t.same(detail.json.amendments.map((p: { id: string }) => p.id), [amendment.json.id]);
  await refused(t, 404, call(null, "GET", "/proposals/999"), "no such proposal");
  const plain = await call("alice", "POST", `/groups/${id}/threads`, { title: "Horaires", text: "Les horaires d'été." });
  await refused(t, 404, call(null, "GET", `/proposals/${plain.json.id}`), "a thread is not a proposal");
  await refused(t, 404, call("marc", "POST", `/proposals/${plain.json.id}/act`, { act: "support" }), "and takes no stance");

  // Stances: members, one each, changeable.
  await refused(t, 401, call(null, "POST", `/proposals/${p1}/act`, { act: "support" }), "no token");
  await refused(t, 403, call("alice_read", "POST", `/proposals/${p1}/act`, { act: "support" }), "a read-only token");
  await refused(t, 403, call("adm", "POST", `/proposals/${p1}/act`, { act: "support" }), "adm is no longer a member");
  await refused(t, 422, call("marc", "POST", `/proposals/${p1}/act`, { act: "maybe" }), "an unknown act");
  const support = await call("marc", "POST", `/proposals/${p1}/act`, { act: "support" });
  t.equal(support.status, 200, JSON.stringify(support.json));
  valid(t, "ProposalDetail", support.json);
  t.match(support.json, { support: 1, oppose: 0, my_stance: "support" });
  const changed = await call("marc", "POST", `/proposals/${p1}/act`, { act: "oppose" });
  t.match(changed.json, { support: 0, oppose: 1, my_stance: "oppose" }, "a stance can change");
  t.match((await call("alice", "POST", `/proposals/${p1}/act`, { act: "support" })).json, { support: 1, oppose: 1 });

  // Withdrawal: the author only. Decisions: the group's moderators.
  await refused(t, 403, call("alice", "POST", `/proposals/${amendment.json.id}/act`, { act: "withdraw" }), "only its author withdraws it");
  t.equal((await call("alice", "POST", `/proposals/${amendment.json.id}/act`, { act: "withdraw" })).json.error, "Seul·e l'auteur·rice peut retirer sa proposition.", "in French by default");
  await refused(t, 403, call("marc", "POST", `/proposals/${amendment.json.id}/decide`, { state: "adopted" }), "a member does not decide");
  await refused(t, 403, call("alice_read", "POST", `/proposals/${amendment.json.id}/decide`, { state: "adopted" }), "nor a read-only token");
  await refused(t, 422, call("alice", "POST", `/proposals/${amendment.json.id}/decide`, { state: "maybe" }), "an unknown decision");
  const adopted = await call("alice", "POST", `/proposals/${amendment.json.id}/decide`, { state: "adopted" });
  t.equal(adopted.status, 200, JSON.stringify(adopted.json));
  valid(t, "ProposalDetail", adopted.json);
  t.equal(adopted.json.state, "adopted");
  t.ok(adopted.json.decided_at, "with its date");
  t.equal(adopted.json.can_decide, false, "decided once");
  await refused(t, 409, call("marc", "POST", `/proposals/${amendment.json.id}/act`, { act: "support" }), "a closed proposal takes no stance");
  await refused(t, 409, call("alice", "POST", `/proposals/${amendment.json.id}/decide`, { state: "rejected" }), "nor a second decision");

  const second = await call("marc", "POST", `/groups/${id}/proposals`, { title: "Péage urbain", text: "Un péage urbain." });
  t.equal(second.json.can_withdraw, true);
  const withdrawn = await call("marc", "POST", `/proposals/${second.json.id}/act`, { act: "withdraw" });
  t.equal(withdrawn.status, 200, JSON.stringify(withdrawn.json));
  valid(t, "ProposalDetail", withdrawn.json);
  t.equal(withdrawn.json.state, "withdrawn");
});

t.test("contributors of a group and a member's contributions through the API", async (t) => {
  const id = (await call(null, "GET", "/groups?q=transports")).json[0].id;
  const ranking = await call(null, "GET", `/groups/${id}/contributors`);
  t.equal(ranking.status, 200, JSON.stringify(ranking.json));
  valid(t, "ContributorRanking", ranking.json);
  t.equal(ranking.json.days, 30);
  const marc = ranking.json.contributors.find((c: { account: { handle: string } }) => c.account.handle.startsWith("@marc@"));
  t.equal(marc?.figures.adopted, 1, "marc's amendment was adopted");
  t.equal(marc?.figures.score >= 5, true);
  const year = await call("alice", "GET", `/groups/${id}/contributors?days=365`);
  valid(t, "ContributorRanking", year.json);
  t.equal(year.json.days, 365);
  await refused(t, 400, call(null, "GET", `/groups/${id}/contributors?days=7`), "30 or 365 days only");

  // A members-only group's contributors are for its members.
  const inside = await call("alice", "POST", "/groups", { name: "Interne", slug: "interne", visibility: "members" });
  t.equal(inside.status, 200, JSON.stringify(inside.json));
  t.equal((await call("alice", "POST", `/groups/${inside.json.id}/threads`, { title: "Ordre du jour", text: "Réunion mardi." })).status, 200);
  await refused(t, 403, call(null, "GET", `/groups/${inside.json.id}/contributors`), "not to visitors");
  await refused(t, 403, call("sam", "GET", `/groups/${inside.json.id}/contributors`), "nor to non-members");
  const own = await call("alice", "GET", `/groups/${inside.json.id}/contributors`);
  valid(t, "ContributorRanking", own.json);
  t.equal(own.json.contributors.length, 1);

  // One member's contributions across groups: members-only groups for themselves only.
  const profile = await call(null, "GET", `/accounts/${marc.account.id}/contributions?days=365`);
  t.equal(profile.status, 200, JSON.stringify(profile.json));
  valid(t, "MemberContributions", profile.json);
  t.equal(profile.json.days, 365);
  t.same(profile.json.groups.map((g: { group: { name: string } }) => g.group.name), ["Transports"]);
  const aliceId = own.json.contributors[0].account.id;
  const publicView = await call("marc", "GET", `/accounts/${aliceId}/contributions`);
  valid(t, "MemberContributions", publicView.json);
  t.notOk(publicView.json.groups.some((g: { group: { name: string } }) => g.group.name === "Interne"), "others do not see the members-only group");
  const ownView = await call("alice", "GET", `/accounts/${aliceId}/contributions`);
  valid(t, "MemberContributions", ownView.json);
  t.ok(ownView.json.groups.some((g: { group: { name: string } }) => g.group.name === "Interne"), "alice does");
  t.ok(ownView.json.score >= publicView.json.score);
  await refused(t, 404, call(null, "GET", "/accounts/999/contributions"), "an unknown account");
  await refused(t, 404, call(null, "GET", "/accounts/abc/contributions"), "not an id");
});

t.test("proposed groups wait for a secretary's approval (instance B)", async (t) => {
  const waiting = await call("bob", "POST", "/groups", { name: "Vélo", slug: "velo" });
  t.equal(waiting.status, 200, JSON.stringify(waiting.json));
  valid(t, "GroupProposal", waiting.json);
  t.equal(waiting.json.state, "proposed");
  await refused(t, 403, call("bob", "GET", "/groups/proposed"), "members do not review");
  const list = await call("bsec", "GET", "/groups/proposed");
  t.equal(list.status, 200);
  allValid(t, "GroupProposal", list.json);
  t.same(list.json.map((g: { name: string }) => g.name), ["Vélo"]);
  await refused(t, 403, call("bob", "POST", `/groups/${waiting.json.id}/review`, { decision: "approve" }), "bob cannot approve his own group");
  await refused(t, 400, call("bsec", "POST", `/groups/${waiting.json.id}/review`, { decision: "maybe" }), "approve or refuse");
  const approved = await call("bsec", "POST", `/groups/${waiting.json.id}/review`, { decision: "approve" });
  t.equal(approved.status, 200, JSON.stringify(approved.json));
  valid(t, "Group", approved.json);
  t.equal(approved.json.can_moderate, true, "a secretary moderates the instance's groups");
  t.equal((await call("bob", "GET", `/groups/${waiting.json.id}`)).json.can_moderate, true, "the proposer owns it");
  await refused(t, 404, call("bsec", "POST", `/groups/${waiting.json.id}/review`, { decision: "refuse" }), "no longer waiting");
  const other = await call("bob", "POST", "/groups", { name: "Piétons", slug: "pietons" });
  const refusedGroup = await call("bsec", "POST", `/groups/${other.json.id}/review`, { decision: "refuse" });
  valid(t, "GroupProposal", refusedGroup.json);
  t.equal(refusedGroup.json.state, "refused");
});

t.test("a proposal from B in a group of A: stance from B, adoption on A, through both APIs", async (t) => {
  const open = await call("alice", "POST", "/groups", { name: "Débat", slug: "debat", policy: "fediverse" });
  t.equal(open.status, 200);
  const joined = await joinRemote(`@g_debat@${host(a)}`);
  t.equal(joined.status, 200, JSON.stringify(joined.json));
  await eventually(async () => (await call("bob", "GET", `/groups/${joined.json.id}`)).json.membership === "member", 15_000, "bob is a member");

  const made = await call("bob", "POST", `/groups/${joined.json.id}/proposals`, { title: "Pistes cyclables", text: "Des pistes cyclables séparées PROPB." });
  t.equal(made.status, 200, JSON.stringify(made.json));
  valid(t, "ProposalDetail", made.json);
  t.match(made.json, { state: "open", tally_kept_by: host(a), can_decide: false, can_take_stance: true });
  const onA = await eventually(async () => (await call("alice", "GET", `/groups/${open.json.id}/proposals`)).json.find((p: { title: string }) => p.title === "Pistes cyclables"), 15_000, "A knows bob's proposal");
  valid(t, "Proposal", onA);
  t.equal(onA.tally_kept_by, host(a));

  const stance = await call("bob", "POST", `/proposals/${made.json.id}/act`, { act: "support" });
  t.equal(stance.status, 200, JSON.stringify(stance.json));
  valid(t, "ProposalDetail", stance.json);
  t.equal(stance.json.my_stance, "support", "bob's stance is shown at once on B");
  await eventually(async () => (await call(null, "GET", `/proposals/${onA.id}`)).json.support === 1, 15_000, "A counted bob's stance");
  await refused(t, 403, call("bob", "POST", `/proposals/${made.json.id}/decide`, { state: "adopted" }), "only the group's instance decides");

  const adopted = await call("alice", "POST", `/proposals/${onA.id}/decide`, { state: "adopted" });
  t.equal(adopted.status, 200, JSON.stringify(adopted.json));
  valid(t, "ProposalDetail", adopted.json);
  const onB = await eventually(async () => {
    const res = await call("bob", "GET", `/proposals/${made.json.id}`);
    return res.json.state === "adopted" ? res.json : null;
  }, 15_000, "the adoption reached B");
  valid(t, "ProposalDetail", onB);
  t.match(onB, { support: 1, oppose: 0, my_stance: "support", can_take_stance: false });
  const listOnB = await call("bob", "GET", `/groups/${joined.json.id}/proposals`);
  allValid(t, "Proposal", listOnB.json);
  await refused(t, 409, call("bob", "POST", `/proposals/${made.json.id}/act`, { act: "oppose" }), "closed on B too");
});

t.test("a thread with a poll, posted and voted on with the Mastodon API, shows its poll id", async (t) => {
  const id = (await call(null, "GET", "/groups?q=transports")).json[0].id;
  const mastodon = async (who: string, path: string, body: unknown) => {
    const res = await fetch(`${a.origin}/api/v1${path}`, { method: "POST", headers: { authorization: `Bearer ${tokens[who]}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    return { status: res.status, json: (await res.json()) as any };
  };
  const posted = await mastodon("marc", "/statuses", { status: "@g_transports Quel horaire pour le bus de nuit ?", visibility: "public", poll: { options: ["1 h", "2 h"], expires_in: 86_400 } });
  t.equal(posted.status, 200, JSON.stringify(posted.json));
  const threads = await call(null, "GET", `/groups/${id}/threads`);
  threads.json.forEach((th: unknown) => valid(t, "GroupThread", th));
  const withPoll = threads.json.find((th: { root: { id: string } }) => th.root.id === posted.json.id);
  t.equal(withPoll?.root.poll_id, posted.json.poll.id, "the thread's first post names its poll");
  const voted = await mastodon("alice", `/polls/${withPoll.root.poll_id}/votes`, { choices: [1] });
  t.equal(voted.status, 200, JSON.stringify(voted.json));
  t.equal(voted.json.votes_count, 1);
  t.equal(threads.json.find((th: { root: { id: string } }) => th.root.id !== posted.json.id)?.root.poll_id, null, "other posts have none");

  // The Coopol API starts a thread with a poll too.
  const started = await call("marc", "POST", `/groups/${id}/threads`, {
    title: "Tarif du bus de nuit",
    text: "Quel tarif proposer ?",
    poll: { options: ["Gratuit", "1 €"], expires_in: 3600, multiple: false },
  });
  t.equal(started.status, 200, JSON.stringify(started.json));
  valid(t, "GroupPost", started.json);
  t.ok(started.json.poll_id, "the thread's first post has its poll");
  const vote = await mastodon("alice", `/polls/${started.json.poll_id}/votes`, { choices: [0] });
  t.equal(vote.json.votes_count, 1, "and members vote on it with the Mastodon API");
  await refused(t, 422, call("marc", "POST", `/groups/${id}/threads`, { title: "Un seul choix", text: "…", poll: { options: ["Oui"], expires_in: 3600 } }), "a poll needs two options");
});

t.test("every route added for settings, proposals and contributors is in the OpenAPI document", async (t) => {
  const routes: Array<[string, string, string, string | null]> = [
    ["PATCH", "/groups/{id}", "200", "Group"],
    ["GET", "/groups/{id}/members", "200", "GroupMember"],
    ["DELETE", "/groups/{id}/members/{account_id}", "204", null],
    ["PUT", "/groups/{id}/moderators/{account_id}", "204", null],
    ["DELETE", "/groups/{id}/moderators/{account_id}", "204", null],
    ["GET", "/groups/{id}/requests", "200", "GroupAuthor"],
    ["POST", "/groups/{id}/requests/{account_id}/accept", "204", null],
    ["POST", "/groups/{id}/requests/{account_id}/reject", "204", null],
    ["GET", "/groups/{id}/bans", "200", "GroupBan"],
    ["POST", "/groups/{id}/bans", "200", "GroupBan"],
    ["DELETE", "/groups/{id}/bans/{ban_id}", "204", null],
    ["GET", "/groups/proposed", "200", "GroupProposal"],
    ["POST", "/groups/{id}/review", "200", "Group"],
    ["GET", "/groups/{id}/proposals", "200", "Proposal"],
    ["POST", "/groups/{id}/proposals", "200", "ProposalDetail"],
    ["GET", "/proposals/{id}", "200", "ProposalDetail"],
    ["POST", "/proposals/{id}/act", "200", "ProposalDetail"],
    ["POST", "/proposals/{id}/decide", "200", "ProposalDetail"],
    ["GET", "/groups/{id}/contributors", "200", "ContributorRanking"],
    ["GET", "/accounts/{id}/contributions", "200", "MemberContributions"],
  ];
  for (const [method, path, status, schema] of routes) documented(t, method, path, status, schema);
  t.match(spec.paths["/groups/{id}/threads"].post.summary, "/api/v1/polls/{id}/votes", "poll voting is pointed to the Mastodon API");
});
