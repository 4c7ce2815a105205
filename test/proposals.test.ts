// Proposals and amendments in a thematic group, with three real instances: a
// group on A, a proposal posted from B, supported from B and C, opposed from
// A, amended from C; A's moderator adopts the amendment; the tally and the
// states are the same on all three. Then contributors and a profile section.
import t from "tap";
import { memberSession as session, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { request } from "undici";
import { WebSession } from "./helpers/browser-session.ts";
import { postSigned, signerFor } from "./helpers/signing.ts";

let a: TestInstance, b: TestInstance, c: TestInstance;
const host = (i: TestInstance) => `127.0.0.1:${i.port}`;
let groupUri = "";


interface ProposalRow {
  post_id: number;
  uri: string;
  state: string;
  amends_uri: string | null;
  remote_support: number | null;
  remote_oppose: number | null;
}

/** A proposal as an instance stores it, found by a piece of its text. */
function proposalLike(instance: TestInstance, needle: string): ProposalRow | undefined {
  return instance.query<ProposalRow>(
    `select pr.post_id, p.uri, pr.state, ap.uri as amends_uri, pr.remote_support, pr.remote_oppose
     from proposals pr join posts p on p.id = pr.post_id
     left join proposals am on am.id = pr.amends_id left join posts ap on ap.id = am.post_id
     where p.content like ?`,
    `%${needle}%`,
  )[0];
}

function groupIdOn(instance: TestInstance): number {
  return instance.query<{ id: number }>("select id from groups where actor_id = (select id from actors where uri = ?)", groupUri)[0]!.id;
}

t.before(async () => {
  [a, b, c] = await Promise.all([startInstance("pra"), startInstance("prb"), startInstance("prc")]);
  a.addMember("alice");
  a.addMember("amelie");
  b.addMember("bob");
  c.addMember("carol");
  c.addMember("dora");
  groupUri = `${a.origin}/users/g_debat`;
});

t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
});

t.test("a proposal from B, stances from B, C and A, an amendment from C adopted on A", async (t) => {
  const alice = await session(a, "alice");
  t.equal((await alice.post("/groups", { name: "Débat", slug: "debat", policy: "fediverse", visibility: "public" })).status, 303);
  const bob = await session(b, "bob");
  const carol = await session(c, "carol");
  for (const s of [bob, carol]) t.equal((await s.post("/groups/join", { handle: `@g_debat@${host(a)}` })).status, 303);
  for (const [instance, name] of [[b, "bob"], [c, "carol"]] as const) {
    await eventually(() => instance.query("select 1 from follows where follower_id = (select id from actors where uri = ?) and accepted_at is not null", `${instance.origin}/users/${name}`).length === 1, 15_000, `${name} joined`);
  }

  // Bob proposes on B.
  const made = await bob.post(`/debate/${groupIdOn(b)}/proposals`, { title: "Gratuité des transports", text: "Rendre les transports urbains gratuits PROP1." });
  t.equal(made.status, 303, made.body.slice(0, 300));
  t.match(made.location, /^\/proposals\/\d+$/);
  const proposalUri = proposalLike(b, "PROP1")!.uri;
  await eventually(() => proposalLike(a, "PROP1"), 15_000, "A knows the proposal");
  await eventually(() => proposalLike(c, "PROP1"), 15_000, "C knows the proposal (Note fetched from B through A's Announce)");

  // Stances: bob (B) and carol (C) for, alice (A, the group's owner) against.
  t.equal((await bob.post(`/proposals/${proposalLike(b, "PROP1")!.post_id}/act`, { act: "support" })).status, 303);
  t.equal((await carol.post(`/proposals/${proposalLike(c, "PROP1")!.post_id}/act`, { act: "support" })).status, 303);
  t.equal((await alice.post(`/proposals/${proposalLike(a, "PROP1")!.post_id}/act`, { act: "oppose" })).status, 303);
  await eventually(() => a.query("select 1 from proposal_votes").length === 3, 15_000, "A counted three stances");

  // Carol amends on C.
  const amended = await carol.post(`/debate/${groupIdOn(c)}/proposals`, { amends_id: String(c.query<{ id: number }>("select id from proposals where post_id = ?", proposalLike(c, "PROP1")!.post_id)[0]!.id), text: "Gratuité pour les moins de 26 ans AMEND1." });
  t.equal(amended.status, 303, amended.body.slice(0, 300));
  const onA = await eventually(() => proposalLike(a, "AMEND1"), 15_000, "A knows the amendment");
  t.equal(onA.amends_uri, proposalUri, "as an amendment of bob's proposal");

  // A member cannot decide; the group's owner adopts the amendment.
  const amelie = await session(a, "amelie");
  t.equal((await amelie.post(`/proposals/${onA.post_id}/decide`, { state: "adopted" })).status, 403);
  t.equal((await alice.post(`/proposals/${onA.post_id}/decide`, { state: "adopted" })).status, 303);

  for (const instance of [b, c]) {
    await eventually(() => proposalLike(instance, "AMEND1")?.state === "adopted", 15_000, `the adoption reached ${instance === b ? "B" : "C"}`);
    await eventually(() => {
      const p = proposalLike(instance, "PROP1");
      return p?.remote_support === 2 && p.remote_oppose === 1;
    }, 15_000, "the tally reached it");
    t.equal(proposalLike(instance, "AMEND1")!.amends_uri, proposalUri);
    t.equal(proposalLike(instance, "PROP1")!.state, "open");
  }
  t.equal(proposalLike(a, "AMEND1")!.state, "adopted");

  // The pages say the same thing on the three instances.
  for (const [instance, s] of [[a, alice], [b, bob], [c, carol]] as const) {
    const page = await s.get(`/proposals/${proposalLike(instance, "PROP1")!.post_id}`);
    t.equal(page.status, 200);
    t.match(page.body, "Gratuité des transports");
    t.match(page.body, /2 pour · 1 contre/);
    t.match(page.body, "Gratuité pour les moins de 26 ans", "the amendment is listed under it");
    const amendment = await s.get(`/proposals/${proposalLike(instance, "AMEND1")!.post_id}`);
    t.match(amendment.body, "adoptée");
  }

  // A closed proposal takes no more stances.
  t.equal((await bob.post(`/proposals/${proposalLike(b, "AMEND1")!.post_id}/act`, { act: "support" })).status, 409);
});

t.test("contributors tab and the profile's Contributions section", async (t) => {
  const mine = await (await session(c, "carol")).get("/debate");
  t.match(mine.body, `/debate/${groupIdOn(c)}`, "carol's groups, remote ones included, lead to their proposals");
  const anon = new WebSession(a.origin);
  const page = await anon.get(`/debate/${groupIdOn(a)}/contributors?days=365`);
  t.equal(page.status, 200);
  t.match(page.body, "bob");
  t.match(page.body, "carol");
  const profile = await new WebSession(c.origin).get("/@carol");
  t.match(profile.body, "Contributions", "carol's profile on C lists her contribution to A's group");
  t.match(profile.body, "Débat");
});

t.test("a poll posted to the group from B: relayed to C, votes from A and C tallied on B, counts back on C", async (t) => {
  const bob = await session(b, "bob");
  const form = new URLSearchParams([["text", `@g_debat@${host(a)} Quel mode de financement POLL1 ?`], ["visibility", "public"], ["poll_options", "Versement mobilité"], ["poll_options", "Budget général"], ["poll_expires_in", "86400"], ["_csrf", bob.cookies.get("coopol_csrf") ?? ""]]);
  const posted = await request(`${b.origin}/posts`, { method: "POST", headers: { cookie: [...bob.cookies].map(([k, v]) => `${k}=${v}`).join("; "), "content-type": "application/x-www-form-urlencoded" }, body: form.toString() });
  await posted.body.dump();
  t.equal(posted.statusCode, 303);
  const pollOn = (instance: TestInstance) => instance.query<{ id: number; remote_counts: string | null }>("select polls.id, polls.remote_counts from polls join posts on posts.id = polls.post_id where posts.content like '%POLL1%'")[0];
  const onC = await eventually(() => pollOn(c), 15_000, "the poll reached C through the group");
  const onA = await eventually(() => pollOn(a), 15_000, "and A");
  const carol = await session(c, "carol");
  const alice = await session(a, "alice");
  t.equal((await carol.post(`/polls/${onC.id}/vote`, { choices: "0" })).status, 303);
  t.equal((await alice.post(`/polls/${onA.id}/vote`, { choices: "1" })).status, 303);
  await eventually(() => b.query("select 1 from poll_votes where poll_id = ?", pollOn(b)!.id).length === 2, 15_000, "both votes tallied on B, the poll's origin");
  await eventually(() => pollOn(c)?.remote_counts === "[1,1]", 15_000, "the counts came back to C");
});

t.test("a non-member's stance is refused; the author withdraws a proposal from B", async (t) => {
  // Dora (C) never joined: her well-signed stance does not count.
  const dora = await signerFor(c, "dora");
  const actId = `${dora.actorUri}/proposal-acts/1`;
  const payload = { type: "ProposalAct", id: actId, attributedTo: dora.actorUri, to: [groupUri], proposal: proposalLike(a, "PROP1")!.uri, act: "oppose" };
  const sent = await postSigned(`${a.origin}/inbox`, {
    "@context": ["https://www.w3.org/ns/activitystreams", { schema: "http://schema.org#", PropertyValue: "schema:PropertyValue", value: "schema:value" }],
    id: `${actId}/activity`,
    type: "Create",
    actor: dora.actorUri,
    to: [groupUri],
    object: { id: actId, type: "Object", attributedTo: dora.actorUri, to: [groupUri], attachment: [{ type: "PropertyValue", name: "coopol:payload", value: JSON.stringify(payload) }] },
  }, dora);
  t.ok(sent.status < 300, `delivered (${sent.status})`);
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(a.query("select 1 from proposal_votes pv join actors on actors.id = pv.actor_id where actors.uri = ?", dora.actorUri).length, 0, "not counted");
  t.ok(a.output.some((line) => line.includes("proposal: act refused") && line.includes("not_member")), "refused as not a member");

  const bob = await session(b, "bob");
  const made = await bob.post(`/debate/${groupIdOn(b)}/proposals`, { title: "Péage urbain", text: "Un péage urbain PROP2." });
  t.equal(made.status, 303);
  await eventually(() => proposalLike(c, "PROP2"), 15_000, "C knows PROP2");
  const alice = await session(a, "alice");
  t.equal((await alice.post(`/proposals/${proposalLike(a, "PROP2")!.post_id}/act`, { act: "withdraw" })).status, 403, "only its author withdraws it");
  t.equal((await bob.post(`${made.location}/act`, { act: "withdraw" })).status, 303);
  await eventually(() => proposalLike(a, "PROP2")?.state === "withdrawn", 15_000, "withdrawn on A");
  await eventually(() => proposalLike(c, "PROP2")?.state === "withdrawn", 15_000, "and on C");
  await eventually(() => proposalLike(b, "PROP2")?.state === "withdrawn", 15_000, "and on B");
  t.equal((await alice.post(`/proposals/${proposalLike(a, "PROP2")!.post_id}/decide`, { state: "adopted" })).status, 409, "no longer open");
});
