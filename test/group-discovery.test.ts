// Group discovery across instances, with three real instances and two fake
// ones: a fédération B overseeing section A (so A knows B), and C, unknown to
// A. B and C each host groups. A secretary of A presses "Rechercher les
// groupes des autres instances": B's groups (read from their actor documents,
// with their themes) appear in A's directory and JSON API, C's do not; a
// member of A joins B's group from A's directory. A fake "instance" listing a
// group of C (another origin) and one answering malformed JSON are skipped.
import { createServer, type Server } from "node:http";
import t from "tap";
import { WebSession } from "./helpers/browser-session.ts";
import { eventually, freePort, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";

let a: TestInstance, b: TestInstance, c: TestInstance;
let sec: WebSession, alice: WebSession;
const fakes: Server[] = [];
let fakeOther = "";
let fakeBroken = "";

async function login(i: TestInstance, username: string): Promise<WebSession> {
  const s = new WebSession(i.origin);
  await s.login(username, PASSWORD);
  return s;
}

/** A small HTTP server posing as a Coopol instance: one thematic group actor, and `directory` as its /api/coopol/v1/groups. */
async function fakeInstance(directory: (origin: string) => string): Promise<string> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/users/g_fake") {
      res.writeHead(200, { "content-type": "application/activity+json" });
      res.end(
        JSON.stringify({
          "@context": ["https://www.w3.org/ns/activitystreams", { schema: "http://schema.org#", PropertyValue: "schema:PropertyValue", value: "schema:value" }],
          id: `${origin}/users/g_fake`,
          type: "Group",
          preferredUsername: "g_fake",
          name: "Groupe factice",
          inbox: `${origin}/users/g_fake/inbox`,
          attachment: [{ type: "PropertyValue", name: "coopol:kind", value: "group" }],
        }),
      );
    } else if (req.method === "GET" && path === "/api/coopol/v1/groups") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(directory(origin));
    } else if (req.method === "POST") {
      req.resume();
      res.writeHead(202);
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  fakes.push(server);
  return origin;
}

t.before(async () => {
  const ports = { a: await freePort(), b: await freePort() };
  [a, c] = await Promise.all([
    startInstance("disc-a", { PORT: String(ports.a), COOPOL_HANDLE: "section_disc_a", COOPOL_PARENT: `federation_disc@127.0.0.1:${ports.b}` }),
    startInstance("disc-c", { COOPOL_HANDLE: "section_disc_c" }),
  ]);
  b = await startInstance("disc-b", { PORT: String(ports.b), COOPOL_HANDLE: "federation_disc", COOPOL_KIND: "federation", COOPOL_NAME: "Fédération test", COOPOL_CHILDREN: `section_disc_a@127.0.0.1:${ports.a}` });
  a.addMember("alice");
  a.addMember("sec", "secretary");
  b.addMember("bob");
  c.addMember("carol");
  [sec, alice] = await Promise.all([login(a, "sec"), login(a, "alice")]);
});

t.teardown(async () => {
  await Promise.all([a, b, c].filter(Boolean).map((i) => i.stop()));
  await Promise.all(fakes.map((s) => new Promise((resolve) => s.close(resolve))));
});

t.test("B and C host groups; A is linked to B only", async (t) => {
  await eventually(() => a.query("select 1 from territory_links where role = 'parent' and state = 'linked'").length === 1, 20_000, "A linked to its fédération B");
  const bob = await login(b, "bob");
  const climat = await bob.post("/groups", { name: "Climat", slug: "climat", description: "Transition énergétique.", themes: "#climat, énergie", policy: "party_only", visibility: "public" });
  t.equal(climat.status, 303, climat.body.slice(0, 300));
  const strategie = await bob.post("/groups", { name: "Stratégie", slug: "strategie", themes: "élections", policy: "approval", visibility: "members" });
  t.equal(strategie.status, 303);
  const carol = await login(c, "carol");
  t.equal((await carol.post("/groups", { name: "Culture", slug: "culture", themes: "culture", policy: "fediverse" })).status, 303);
  t.equal(a.query("select 1 from groups where name in ('Climat', 'Culture')").length, 0, "A knows none of them yet");
});

t.test("fake instances: one lists a group of another origin, one answers malformed JSON", async (t) => {
  const cGroup = `${c.origin}/users/g_culture`;
  fakeOther = await fakeInstance((origin) =>
    JSON.stringify([
      { uri: `${origin}/users/g_fake`, local: true, name: "Groupe factice", themes: [] },
      { uri: cGroup, local: true, name: "Culture (prétendue)", themes: ["culture"] },
      { nonsense: true },
    ]),
  );
  fakeBroken = await fakeInstance(() => "[{ this is not json");
  // A member of A looked their groups up by address: A now knows these two servers.
  for (const origin of [fakeOther, fakeBroken]) {
    const res = await alice.post("/groups/join", { handle: `${origin}/users/g_fake` });
    t.equal(res.status, 303, res.body.slice(0, 300));
  }
  t.equal(a.query("select 1 from groups where local = 0").length, 2);
});

t.test("only secretaries and admins start a round", async (t) => {
  t.equal((await alice.post("/groups/discover", {})).status, 403);
  t.notMatch((await alice.get("/groups")).body, "/groups/discover");
  const page = await sec.get("/groups");
  t.match(page.body, "Rechercher les groupes des autres instances");
  t.match(page.body, "Aucune recherche dans les autres instances");
  t.equal((await sec.post("/groups/discover", {}, { csrf: false })).status, 403, "CSRF checked");
});

t.test("a round on A finds B's groups, from their actor documents, and not C's", async (t) => {
  const res = await sec.post("/groups/discover", {});
  t.equal(res.status, 303, res.body.slice(0, 500));
  t.equal(res.location, "/groups?notice=discovered");
  const page = await sec.get(res.location!);
  t.match(page.body, /Recherche terminée : 2 instance\(s\) sur 3 ont répondu, 3 groupe\(s\) trouvé\(s\), dont 2 nouveau\(x\)\./);

  const list = await fetch(`${a.origin}/api/coopol/v1/groups`).then((r) => r.json() as Promise<Array<{ uri: string; name: string; themes: string[]; local: boolean; visibility: string }>>);
  const climat = list.find((g) => g.uri === `${b.origin}/users/g_climat`);
  t.ok(climat, "B's group is in A's directory");
  t.same(climat?.themes.sort(), ["climat", "énergie"]);
  t.equal(climat?.local, false);
  // B lists its members-only group to anyone: A may list it too (its name only; its threads stay on B).
  t.equal(list.find((g) => g.uri === `${b.origin}/users/g_strategie`)?.visibility, "members");
  t.notOk(list.some((g) => g.uri.startsWith(c.origin)), "C's group is not listed (C is unknown to A, the fake's entry is on another origin)");
  t.equal(a.query("select 1 from actors where uri like ?", `${c.origin}%`).length, 0, "C was never contacted");
  // The row came from the signed actor fetch: B saw A's instance actor ask for it.
  t.equal(a.query("select 1 from actors where uri = ?", `${b.origin}/users/g_climat`).length, 1);

  const anon = new WebSession(a.origin);
  const found = await anon.get("/groups?q=climat");
  t.match(found.body, "Climat");
  t.match(found.body, "#énergie");
  t.notMatch((await anon.get("/groups?q=culture")).body, "Culture");
  const stats = (await sec.get("/groups")).body;
  t.match(stats, "Dernière recherche le");

  // A second round: nothing new, nothing crashes.
  t.equal((await sec.post("/groups/discover", {})).status, 303);
  t.match((await sec.get("/groups?notice=discovered")).body, /3 groupe\(s\) trouvé\(s\), dont 0 nouveau\(x\)/);
  t.match(a.output.join(""), /another origin/, "the other-origin entry was logged");
  t.match(a.output.join(""), /directory not read/, "the malformed directory was logged and skipped");
});

t.test("a member of A joins B's group from A's directory page", async (t) => {
  const page = await alice.get("/groups?q=climat");
  const path = /href="(\/groups\/remote\/\d+)"><strong>Climat</.exec(page.body)?.[1];
  t.ok(path, "a link to the group's page here");
  t.match(page.body, `action="${path}/join"`, "a Rejoindre button in the directory");
  const res = await alice.post(`${path}/join`, {});
  t.equal(res.status, 303);
  const accepted = () =>
    a.query<{ accepted_at: number | null }>(
      "select accepted_at from follows join actors f on f.id = follows.follower_id join actors g on g.id = follows.following_id where f.username = 'alice' and g.uri = ?",
      `${b.origin}/users/g_climat`,
    )[0]?.accepted_at;
  await eventually(accepted, 15_000, "B's group accepted alice (party_only: A is B's section)");
  t.equal(b.query("select 1 from follows join actors on actors.id = follows.follower_id where actors.uri = ?", `${a.origin}/users/alice`).length, 1);
  t.match((await alice.get("/groups")).body, /Mes groupes[\s\S]*Climat/);
});
