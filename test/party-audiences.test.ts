// Posts for "my fédération" and "the whole party" between real instances: a
// national node, fédérations f1 (sections s1a, s1b) and f2 (section s2), and
// an instance outside the party (o). A fédération post of s1a reaches the
// card-holders of f1's nodes only — not a sympathisant, not f2's section, not
// o — and its Note is served to none but f1's servers; a party post reaches
// every node's card-holders, never o; posts claiming a party audience from a
// server outside it are dropped.
import t from "tap";
import { memberSession as session, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { mastoLogin } from "./helpers/oauth.ts";
import { startParty } from "./helpers/party.ts";
import { postSigned, signerFor, type Signer } from "./helpers/signing.ts";
import { signRequest } from "@fedify/fedify";
import { WIRE_CONTEXT } from "../src/federation/territory.ts";

// Seven processes on a busy 2-core machine take a while to start.
t.setTimeout(600_000);

let party: Record<"nat" | "f1" | "f2" | "s1a" | "s1b" | "s2", TestInstance>;
let o: TestInstance;
const all = () => [...Object.values(party ?? {}), o].filter(Boolean);


/** The visibility an instance stored a post with (by a word of its text), if it has it. */
const stored = (instance: TestInstance, word: string) =>
  instance.query<{ visibility: string; uri: string }>("select visibility, uri from posts where content like ?", `%${word}%`)[0];

/** A GET of an ActivityPub object, signed as `signer` or anonymous. */
async function fetchAs(url: string, signer?: Signer): Promise<{ status: number; body: string }> {
  let request = new Request(url, { headers: { accept: "application/activity+json" } });
  if (signer) request = await signRequest(request, signer.key, signer.keyId);
  const res = await fetch(request);
  return { status: res.status, body: await res.text() };
}

/** A Create(Note) claiming a party audience, as a Coopol node sends it. */
let forged = 0;
function audienceNote(signer: Signer, word: string, audience: string, federation?: string) {
  const id = `${signer.actorUri}/posts/forged-${++forged}`;
  return {
    "@context": WIRE_CONTEXT,
    id: `${id}/activity`,
    type: "Create",
    actor: signer.actorUri,
    to: [],
    object: {
      id,
      type: "Note",
      attributedTo: signer.actorUri,
      content: `<p>${word}</p>`,
      to: [],
      attachment: [{ type: "PropertyValue", name: "coopol:payload", value: JSON.stringify({ type: "Audience", id, audience, ...(federation ? { federation } : {}) }) }],
    },
  };
}

let alice: WebSession;

t.before(async () => {
  o = await startInstance("o", { COOPOL_HANDLE: "section_o" });
  party = await startParty({
    nat: { kind: "national" },
    f1: { kind: "federation", parent: "nat" },
    f2: { kind: "federation", parent: "nat" },
    s1a: { kind: "section", parent: "f1" },
    s1b: { kind: "section", parent: "f1" },
    s2: { kind: "section", parent: "f2" },
  });
  party.s1a.addMember("alice");
  party.s1b.addMember("bea");
  party.s1b.addMember("sid", "sympathisant");
  party.s2.addMember("carl");
  party.s2.addMember("sue", "sympathisant");
  o.addMember("oscar");
  alice = await session(party.s1a, "alice");
});

t.teardown(async () => {
  await Promise.all(all().map((i) => i.stop()));
});

t.test("a card-holder is offered both audiences; a sympathisant neither", async (t) => {
  const form = (await alice.get("/")).body;
  t.match(form, /<option value="federation"/);
  t.match(form, /<option value="party"/);
  const sid = await session(party.s1b, "sid");
  t.notMatch((await sid.get("/")).body, /<option value="(federation|party)"/);
  t.equal((await sid.post("/posts", { text: "sympathisant tries", visibility: "party", back: "/" })).status, 403, "and cannot post to one");
  t.equal((await session(o, "oscar").then((s) => s.post("/posts", { text: "outside tries", visibility: "federation", back: "/" }))).status, 422, "an instance outside the party has no fédération");
});

t.test("a fédération post reaches f1's card-holders only, and is served to f1's servers only", async (t) => {
  t.equal((await alice.post("/posts", { text: "fedword ordre du jour du conseil", visibility: "federation", back: "/" })).status, 303);
  const own = stored(party.s1a, "fedword")!;
  t.equal(own.visibility, "federation");
  await eventually(() => stored(party.s1b, "fedword") && stored(party.f1, "fedword"), 60_000, "s1b and f1 have the post");
  t.equal(stored(party.s1b, "fedword")!.visibility, "federation", "kept with its audience");

  // Read by a card-holder of s1b, on the web and in a Mastodon app; never by a sympathisant.
  const bea = await session(party.s1b, "bea");
  t.match((await bea.get("/section")).body, /fedword/, "a card-holder of s1b reads it on the section page");
  const { client } = await mastoLogin(party.s1b.origin, "bea");
  const listed = (await client.v1.timelines.list.$select("section").list()).find((s) => s.content.includes("fedword"));
  t.equal(listed?.visibility, "private", "shown to apps as a private post…");
  t.match(listed?.content ?? "", "Réservé aux adhérent·e·s de la fédération", "…with a clear marker");
  const sid = await session(party.s1b, "sid");
  t.notMatch((await sid.get("/section")).body, /fedword/, "not a sympathisant");
  const sidApp = (await mastoLogin(party.s1b.origin, "sid")).client;
  t.same((await sidApp.v1.timelines.list.$select("section").list()).filter((s) => s.content.includes("fedword")), []);

  // The Note itself: f1's servers only.
  t.equal((await fetchAs(own.uri)).status >= 400, true, "not anonymously");
  const oNode = await signerFor(o, "section_o");
  const s2Node = await signerFor(party.s2, "section_s2");
  const s1bNode = await signerFor(party.s1b, "section_s1b");
  for (const [who, signer] of [["o", oNode], ["s2 (another fédération)", s2Node]] as const) {
    const res = await fetchAs(own.uri, signer);
    t.ok(res.status === 401 || res.status === 403 || res.status === 404, `not signed by ${who} (${res.status})`);
    t.notMatch(res.body, /fedword/);
  }
  t.match((await fetchAs(own.uri, s1bNode)).body, /fedword/, "but to a server of the fédération");

  // A party post sent after it reaches s2; by then s2, f2, national and o have not had the fédération one.
  const s2Host = new URL(party.s2.origin).host;
  t.equal((await alice.post("/posts", { text: `partyword congrès national @carl@${s2Host} @sue@${s2Host}`, visibility: "party", back: "/" })).status, 303);
  await eventually(() => stored(party.s2, "partyword"), 60_000, "s2 has the party post");
  for (const other of [party.s2, party.f2, party.nat, o]) t.notOk(stored(other, "fedword"), `${other.name} never got the fédération post`);
});

t.test("a party post reaches every node's card-holders, never a sympathisant nor an outside server", async (t) => {
  await eventually(() => [party.f1, party.f2, party.nat, party.s1b].every((i) => stored(i, "partyword")), 60_000, "every node has the party post");
  t.equal(stored(party.s2, "partyword")!.visibility, "party");
  t.match((await (await session(party.s2, "carl")).get("/section")).body, /partyword/, "a card-holder of s2 reads it");
  t.notMatch((await (await session(party.s2, "sue")).get("/section")).body, /partyword/, "a sympathisant of s2 does not");
  t.notOk(stored(o, "partyword"), "o never got it");
  const mentioned = (username: string) =>
    party.s2.query("select 1 from notifications join users on users.id = notifications.user_id where users.username = ? and notifications.type = 'mention'", username).length;
  t.equal(mentioned("carl"), 1, "the card-holder it mentions is notified");
  t.equal(mentioned("sue"), 0, "the sympathisant it mentions is not (the notification would show it)");
  const uri = stored(party.s1a, "partyword")!.uri;
  const res = await fetchAs(uri, await signerFor(o, "section_o"));
  t.notMatch(res.body, /partyword/, `o cannot fetch it (${res.status})`);
  t.match((await fetchAs(uri, await signerFor(party.s2, "section_s2"))).body, /partyword/, "a party node can");
  // A reply keeps the thread's audience.
  const parent = party.s1a.query<{ id: number }>("select id from posts where content like '%partyword%'")[0]!;
  t.equal((await alice.post("/posts", { text: "replyword précision", visibility: "public", in_reply_to_id: String(parent.id), back: "/" })).status, 303);
  t.equal(stored(party.s1a, "replyword")?.visibility, "party", "a reply to a party post is for the party too");
});

t.test("likes and poll votes from card-holders of other nodes count on party posts; from outside they do not", async (t) => {
  t.equal((await alice.post("/posts", { text: "pollword quel jour pour le congrès ?", visibility: "party", poll_options: ["samedi", "dimanche"], poll_expires_in: "86400", back: "/" })).status, 303);
  await eventually(() => stored(party.s2, "pollword"), 60_000, "s2 has the party poll");
  const { client: carl } = await mastoLogin(party.s2.origin, "carl");
  const [partyStatus, pollStatus] = await eventually(async () => {
    const list = await carl.v1.timelines.list.$select("section").list();
    const found = [list.find((s) => s.content.includes("partyword")), list.find((s) => s.content.includes("pollword"))];
    return found.every(Boolean) ? found : undefined;
  }, 30_000, "carl's app lists both");
  await carl.v1.statuses.$select(partyStatus!.id).favourite();
  await carl.v1.polls.$select(pollStatus!.poll!.id).votes.create({ choices: [1] });
  const likes = () => party.s1a.query<{ n: number }>("select favourites_count as n from posts where content like '%partyword%' and reblog_of_id is null")[0]!.n;
  const votes = () => party.s1a.query<{ n: number }>("select count(*) as n from poll_votes join polls on polls.id = poll_votes.poll_id join posts on posts.id = polls.post_id where posts.content like '%pollword%'")[0]!.n;
  await eventually(() => likes() === 1 && votes() === 1, 30_000, "s1a counted carl's like and vote");

  // The same from a server outside the party: not counted (it would learn the post exists).
  const oscar = await signerFor(o, "oscar");
  const partyUri = stored(party.s1a, "partyword")!.uri;
  t.equal((await postSigned(`${party.s1a.origin}/inbox`, { "@context": "https://www.w3.org/ns/activitystreams", id: `${oscar.actorUri}#likes/1`, type: "Like", actor: oscar.actorUri, object: partyUri }, oscar)).status, 202);
  await eventually(() => party.s1a.query("select 1 from actors where uri = ?", oscar.actorUri).length > 0, 30_000, "s1a looked oscar up");
  // A like sent after it, from a card-holder of s1b: once it is counted, oscar's was handled too.
  const { client: bea } = await mastoLogin(party.s1b.origin, "bea");
  const beaStatus = await eventually(async () => (await bea.v1.timelines.list.$select("section").list()).find((s) => s.content.includes("partyword")), 30_000, "bea's app lists it");
  await bea.v1.statuses.$select(beaStatus.id).favourite();
  await eventually(() => likes() === 2, 30_000, "s1a counted bea's like");
  t.equal(party.s1a.query("select 1 from likes join actors on actors.id = likes.actor_id where actors.uri = ?", oscar.actorUri).length, 0, "oscar's like is not counted");
});

t.test("a post claiming a party audience from outside it is dropped", async (t) => {
  const inbox = `${party.s1b.origin}/inbox`;
  const f1Uri = `${party.f1.origin}/users/federation_f1`;
  const oNode = await signerFor(o, "section_o");
  const s2Node = await signerFor(party.s2, "section_s2");
  const s1aNode = await signerFor(party.s1a, "section_s1a");
  t.equal((await postSigned(inbox, audienceNote(oNode, "forgedout", "federation", f1Uri), oNode)).status, 202);
  t.equal((await postSigned(inbox, audienceNote(oNode, "forgedparty", "party"), oNode)).status, 202);
  t.equal((await postSigned(inbox, audienceNote(s2Node, "forgedwrongfed", "federation", f1Uri), s2Node)).status, 202);
  t.equal((await postSigned(inbox, audienceNote(s1aNode, "forgedothername", "federation", `${party.f2.origin}/users/federation_f2`), s1aNode)).status, 202);
  t.equal((await postSigned(inbox, audienceNote(s1aNode, "forgedunknown", "everyone"), s1aNode)).status, 202);
  // Each is read, and dropped for its audience (logged), while a well-formed one is kept.
  const drops = () => party.s1b.output.join("").split("its party audience does not include its sender").length - 1;
  await eventually(() => drops() >= 5, 30_000, "the five claims dropped");
  t.equal((await postSigned(inbox, audienceNote(s2Node, "genuineparty", "party"), s2Node)).status, 202);
  await eventually(() => stored(party.s1b, "genuineparty"), 30_000, "the genuine party post from s2");
  t.equal(stored(party.s1b, "genuineparty")!.visibility, "party");
  for (const word of ["forgedout", "forgedparty", "forgedwrongfed", "forgedothername", "forgedunknown"]) t.notOk(stored(party.s1b, word), `${word} dropped`);
});
