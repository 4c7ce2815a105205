// Privacy matrix of the Mastodon client API: for every visibility and every
// kind of reader, every endpoint that can return a status returns it exactly
// when the visibility rule (src/posts/visibility.ts) says so, and a post
// reaches another server only when someone there may read it.
//
// Three real instances, driven with masto.js through the OAuth flow:
//   A  the author (alice), a card-holding member (bob), a sympathisant (sam)
//      who follows alice, and visitors without a token;
//   B  carol, who follows alice, and dave, who does not (same server: B holds
//      what carol may read, and B's API must still keep it from dave);
//   C  erin, who follows nobody on A: her server must never hold what she may
//      not read, even when she asks for it by URL.
import t from "tap";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createOAuthAPIClient, createRestAPIClient, createStreamingAPIClient, type mastodon } from "masto";
import { eventually, PASSWORD, startInstance, type TestInstance } from "./helpers/instances.ts";
import { authorizeAs } from "./helpers/oauth.ts";

t.setTimeout(90_000);

// ---------------------------------------------------------------------------
// The matrix
// ---------------------------------------------------------------------------

/** The posts alice writes, each replying to her public post "the parent". */
const ROWS = ["public", "unlisted", "private", "direct", "section", "sectionSympathisants"] as const;
type Row = (typeof ROWS)[number];
const POST: Record<Row, { visibility: string; sympathisants?: boolean; mentions?: boolean }> = {
  public: { visibility: "public" },
  unlisted: { visibility: "unlisted" },
  private: { visibility: "private" }, // followers only
  direct: { visibility: "direct", mentions: true }, // mentions bob and carol
  section: { visibility: "section" },
  sectionSympathisants: { visibility: "section", sympathisants: true }, // section post open to sympathisants
};

const ENDPOINTS = [
  "stored", //              the post is in the reader's server's database at all (remote readers)
  "status", //              GET /api/v1/statuses/:id (the id on the reader's server)
  "statuses", //            GET /api/v1/statuses?id[]=…
  "history", //             GET /api/v1/statuses/:id/history
  "account", //             GET /api/v1/accounts/:alice/statuses
  "context", //             GET /api/v1/statuses/:parent/context
  "search", //              GET /api/v2/search?type=statuses&q=<a word only the matrix posts contain>
  "hashtagSearch", //       GET /api/v2/search?type=hashtags&q=<a hashtag only this post has>
  "resolve", //             GET /api/v2/search?type=statuses&resolve=true&q=<the post's URL>
  "home", //                GET /api/v1/timelines/home
  "conversations", //       GET /api/v1/conversations
  "sectionList", //         GET /api/v1/timelines/list/section
  "public", //              GET /api/v1/timelines/public
  "publicLocal", //         GET /api/v1/timelines/public?local=true
  "tag", //                 GET /api/v1/timelines/tag/:tag
  "notification", //        GET /api/v1/notifications (a mention)
  "userStream", //          streaming `user`: update
  "notificationStream", //  streaming `user`: notification
  "publicStream", //        streaming `public`: update
  "hashtagStream", //       streaming `hashtag`: update
  "directStream", //        streaming `direct`: update
  "listStream", //          streaming `list` (the section): update
  "editStream", //          any of those streams: status.update when alice edits the post
] as const;
type Endpoint = (typeof ENDPOINTS)[number];
type StreamName = "user" | "public" | "hashtag" | "direct" | "list";
const STREAM_OF: Partial<Record<Endpoint, [StreamName | "any", string]>> = {
  userStream: ["user", "update"],
  notificationStream: ["user", "notification"],
  publicStream: ["public", "update"],
  hashtagStream: ["hashtag", "update"],
  directStream: ["direct", "update"],
  listStream: ["list", "update"],
  editStream: ["any", "status.update"],
};

// Groups of endpoints, to keep the table readable.
/** Reading a post one knows of: by id, in the author's profile, in its thread. */
const READ: Endpoint[] = ["status", "statuses", "history", "account", "context"];
/** Finding it by a word, a hashtag or its URL (these need a token). */
const FIND: Endpoint[] = ["search", "hashtagSearch", "resolve"];
/** Pushed to the reader's home: they follow alice or are mentioned. */
const HOME: Endpoint[] = ["home", "userStream", "editStream"];
/** Told about it: they are mentioned in a direct post. */
const MENTIONED: Endpoint[] = ["notification", "notificationStream", "conversations", "directStream"];
/** The section's timeline. */
const SECTION: Endpoint[] = ["sectionList", "listStream", "editStream"];
/** Public timelines and streams on A. */
const PUBLIC: Endpoint[] = ["public", "publicLocal", "tag", "publicStream", "hashtagStream", "editStream"];
/** The same on B: alice's posts are remote there, so never in `local=true`. */
const PUBLIC_REMOTE: Endpoint[] = ["public", "tag", "publicStream", "hashtagStream", "editStream"];
/** On C, which learns of a post only when erin asks for its URL (after the streams closed). */
const FETCHED: Endpoint[] = ["stored", ...READ, ...FIND];

const VIEWERS = ["anonymous", "member", "sympathisant", "followerB", "strangerB", "strangerC"] as const;
type ViewerKey = (typeof VIEWERS)[number];
const LABELS: Record<ViewerKey, string> = {
  anonymous: "anonymous on A",
  member: "bob (member of A)",
  sympathisant: "sam (sympathisant of A, follows alice)",
  followerB: "carol@B (follows alice)",
  strangerB: "dave@B (does not follow)",
  strangerC: "erin@C (does not follow)",
};

/** The endpoints each reader can use at all: each one is checked both ways. */
const APPLIES: Record<ViewerKey, readonly Endpoint[]> = {
  anonymous: [...READ, ...PUBLIC],
  member: ENDPOINTS.filter((e) => e !== "stored"),
  sympathisant: ENDPOINTS.filter((e) => e !== "stored"),
  followerB: ENDPOINTS,
  strangerB: ENDPOINTS,
  strangerC: ENDPOINTS,
};

/** Where each post must show up, for each reader. Anything not listed must not. */
const EXPECTED: Record<Row, Record<ViewerKey, Endpoint[]>> = {
  public: {
    anonymous: [...READ, ...PUBLIC],
    member: [...READ, ...FIND, ...PUBLIC],
    sympathisant: [...READ, ...FIND, ...HOME, ...PUBLIC],
    followerB: ["stored", ...READ, ...FIND, ...HOME, ...PUBLIC_REMOTE],
    strangerB: ["stored", ...READ, ...FIND, ...PUBLIC_REMOTE],
    strangerC: [...FETCHED, "public", "tag"],
  },
  unlisted: {
    anonymous: READ,
    member: [...READ, ...FIND],
    sympathisant: [...READ, ...FIND, ...HOME],
    followerB: ["stored", ...READ, ...FIND, ...HOME],
    strangerB: ["stored", ...READ, ...FIND],
    strangerC: FETCHED,
  },
  private: {
    anonymous: [],
    member: [], // being in the section is not following alice
    sympathisant: [...READ, ...FIND, ...HOME],
    followerB: ["stored", ...READ, ...FIND, ...HOME],
    strangerB: ["stored"], // B holds it for carol; B's API shows dave nothing
    strangerC: [], // refused when C asks for it by URL
  },
  direct: {
    anonymous: [],
    member: [...READ, ...FIND, ...HOME, ...MENTIONED],
    sympathisant: [], // following alice is not enough
    followerB: ["stored", ...READ, ...FIND, ...HOME, ...MENTIONED],
    strangerB: ["stored"], // B holds it for carol only
    strangerC: [],
  },
  section: {
    anonymous: [],
    member: [...READ, ...FIND, ...SECTION],
    sympathisant: [], // in his home's fan-out (he follows alice), never shown
    followerB: [], // never federated, refused when asked for by URL
    strangerB: [],
    strangerC: [],
  },
  sectionSympathisants: {
    anonymous: [],
    member: [...READ, ...FIND, ...SECTION],
    sympathisant: [...READ, ...FIND, ...SECTION, ...HOME],
    followerB: [],
    strangerB: [],
    strangerC: [],
  },
};

/**
 * Replies of alice to a public post of erin's (on C), mentioning nobody:
 * whether C, the parent's server, may receive them. A followers-only reply
 * must not go there: nobody on C follows alice, so nobody there may read it.
 */
const REMOTE_PARENT_STORED: Partial<Record<Row, boolean>> = { public: true, unlisted: true, private: false, direct: false, section: false };

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const REDIRECT = "http://127.0.0.1:9/callback";
const RUN = randomBytes(4).toString("hex");
const WORD = `motcle${RUN}`; // only the matrix posts contain it
const TAG = `matrice${RUN}`; // all matrix posts (and the probes)
const tagOf = (row: Row) => `${TAG}${row.toLowerCase()}`; // one post each
const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;

interface Viewer {
  key: ViewerKey;
  instance: TestInstance;
  client: mastodon.rest.Client;
  token?: string;
  streams: StreamName[];
  events: Array<{ stream: StreamName; event: string; uri: string; content: string }>;
  close?: () => void;
}

/** `member add` through the CLI, as instance.addMember does, but without blocking the other instances. */
async function addMember(instance: TestInstance, username: string, role = "member"): Promise<void> {
  const file = join(instance.dataDir, `pw-${username}`);
  writeFileSync(file, PASSWORD, { mode: 0o600 });
  const child = spawn(process.execPath, [CLI, "member", "add", "--username", username, "--role", role, "--password-file", file], { env: instance.env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`member add ${username}: ${stderr}`);
}

/** Registers an app with masto.js and logs `username` in through the consent page. */
async function mastoLogin(instance: TestInstance, username: string): Promise<{ client: mastodon.rest.Client; token: string }> {
  const scopes = "read write follow";
  const app = await createRestAPIClient({ url: instance.origin }).v1.apps.create({ clientName: "Matrice", redirectUris: REDIRECT, scopes });
  const authorizeUrl = `${instance.origin}/oauth/authorize?${new URLSearchParams({ client_id: app.clientId!, redirect_uri: REDIRECT, response_type: "code", scope: scopes })}`;
  const code = await authorizeAs(instance.origin, username, authorizeUrl);
  const token = await createOAuthAPIClient({ url: instance.origin }).token.create({ grantType: "authorization_code", clientId: app.clientId!, clientSecret: app.clientSecret!, redirectUri: REDIRECT, code, scope: scopes });
  return { client: createRestAPIClient({ url: instance.origin, accessToken: token.accessToken }), token: token.accessToken };
}

const statusCodeOf = (error: unknown) => (error as { statusCode?: number }).statusCode;

/** Subscribes to the viewer's streams on one WebSocket and records every event. */
function listen(viewer: Viewer): void {
  const streaming = createStreamingAPIClient({ streamingApiUrl: viewer.instance.origin.replace("http", "ws"), accessToken: viewer.token, retry: false });
  const subscribe: Record<StreamName, () => mastodon.streaming.Subscription> = {
    user: () => streaming.user.subscribe(),
    public: () => streaming.public.subscribe(),
    hashtag: () => streaming.hashtag.subscribe({ tag: TAG }),
    direct: () => streaming.direct.subscribe(),
    list: () => streaming.list.subscribe({ list: "section" }),
  };
  const subscriptions = viewer.streams.map((stream) => {
    const subscription = subscribe[stream]();
    void (async () => {
      for await (const e of subscription) {
        const payload = e.payload as { uri?: string; content?: string; status?: { uri: string; content: string } } | undefined;
        const status = e.event === "notification" ? payload?.status : payload;
        viewer.events.push({ stream, event: e.event, uri: status?.uri ?? "", content: status?.content ?? "" });
      }
    })().catch(() => {});
    return subscription;
  });
  viewer.close = () => {
    for (const s of subscriptions) s.unsubscribe();
    streaming.close();
  };
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

let a: TestInstance;
let b: TestInstance;
let c: TestInstance;
const viewers = {} as Record<ViewerKey, Viewer>;
let alice: mastodon.rest.Client;
let erin: mastodon.rest.Client;
let aliceUri: string;
let parent: mastodon.v1.Status;
const posted = {} as Record<Row, mastodon.v1.Status>;
const rowOfUri = (uri: string | undefined): Row | undefined => ROWS.find((row) => posted[row]?.uri === uri);
const rowsOf = (statuses: Array<{ uri: string }>) => new Set(statuses.map((s) => rowOfUri(s.uri)).filter((r): r is Row => !!r));

/** The matrix posts a stream endpoint delivered to `viewer`. */
function streamed(viewer: Viewer, endpoint: Endpoint): Set<Row> {
  const [stream, event] = STREAM_OF[endpoint]!;
  return new Set(viewer.events.filter((e) => (stream === "any" || e.stream === stream) && e.event === event).map((e) => rowOfUri(e.uri)).filter((r): r is Row => !!r));
}

/** Waits until every stream event the table expects has arrived. */
async function expectedStreamEvents(endpoints: Endpoint[], what: string): Promise<void> {
  await eventually(
    () => VIEWERS.every((key) => ROWS.every((row) => endpoints.every((e) => !APPLIES[key].includes(e) || !EXPECTED[row][key].includes(e) || streamed(viewers[key], e).has(row)))),
    15_000,
    what,
  );
}

t.before(async () => {
  [a, b, c] = await Promise.all([startInstance("priva"), startInstance("privb"), startInstance("privc")]);
  // One CLI at a time per data directory (two writers would collide), the three instances side by side.
  const members: Array<[TestInstance, Array<[string, string?]>]> = [
    [a, [["alice"], ["bob"], ["sam", "sympathisant"]]],
    [b, [["carol"], ["dave"]]],
    [c, [["erin"]]],
  ];
  await Promise.all(members.map(async ([instance, list]) => {
    for (const [username, role] of list) await addMember(instance, username, role);
  }));
});
t.teardown(async () => {
  for (const v of Object.values(viewers)) v.close?.();
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
});

t.test("set-up: accounts, follows, a public parent, live streams", async (t) => {
  const [aliceLogin, bobLogin, samLogin, carolLogin, daveLogin, erinLogin] = await Promise.all([
    mastoLogin(a, "alice"),
    mastoLogin(a, "bob"),
    mastoLogin(a, "sam"),
    mastoLogin(b, "carol"),
    mastoLogin(b, "dave"),
    mastoLogin(c, "erin"),
  ]);
  alice = aliceLogin.client;
  erin = erinLogin.client;

  const ALL: StreamName[] = ["direct", "list", "hashtag", "user", "public"];
  const make = (key: ViewerKey, instance: TestInstance, login?: { client: mastodon.rest.Client; token: string }): Viewer => ({
    key,
    instance,
    client: login?.client ?? createRestAPIClient({ url: instance.origin }),
    token: login?.token,
    streams: login ? ALL : ["hashtag", "public"],
    events: [],
  });
  Object.assign(viewers, {
    anonymous: make("anonymous", a),
    member: make("member", a, bobLogin),
    sympathisant: make("sympathisant", a, samLogin),
    followerB: make("followerB", b, carolLogin),
    strangerB: make("strangerB", b, daveLogin),
    strangerC: make("strangerC", c, erinLogin),
  });

  const me = await alice.v1.accounts.verifyCredentials();
  aliceUri = a.query<{ uri: string }>("select uri from actors where id = ?", Number(me.id))[0]!.uri;

  // sam follows alice on A; carol follows her from B, found by her actor's URL.
  // A looks dave and erin up by URL too, so that mentioning them needs no WebFinger.
  const actorUri = (instance: TestInstance, username: string) => instance.query<{ uri: string }>("select uri from actors where username = ? and local = 1", username)[0]!.uri;
  await Promise.all([
    (async () => t.ok((await viewers.sympathisant.client.v1.accounts.$select(me.id).follow()).following, "sam follows alice"))(),
    (async () => {
      const found = await viewers.followerB.client.v2.search.list({ q: aliceUri, resolve: true, type: "accounts" });
      t.equal(found.accounts.length, 1, "B finds alice by her actor's URL");
      const aliceOnB = found.accounts[0]!;
      await viewers.followerB.client.v1.accounts.$select(aliceOnB.id).follow();
      await eventually(async () => (await viewers.followerB.client.v1.accounts.relationships.fetch({ id: [aliceOnB.id] }))[0]?.following, 15_000, "carol's follow to be accepted");
    })(),
    ...[actorUri(b, "dave"), actorUri(c, "erin")].map(async (uri) => t.equal((await alice.v2.search.list({ q: uri, resolve: true, type: "accounts" })).accounts.length, 1, `A knows ${uri}`)),
  ]);
  // Every matrix post replies to this public post, so its context lists them.
  parent = await alice.v1.statuses.create({ status: "Le fil de la matrice", visibility: "public" });
  await eventually(() => b.query("select id from posts where uri = ?", parent.uri).length > 0, 15_000, "the parent on B");

  // Streams: there is no acknowledgement of a subscription, so probes are
  // posted until every subscription has received one: a public post with the
  // tag mentioning those who would not get it at home, a direct post to all,
  // and a section post on each instance (sympathisants allowed on A).
  for (const v of Object.values(viewers)) listen(v);
  await new Promise((r) => setTimeout(r, 1_200)); // masto.js opens its WebSocket after one second
  const hostB = new URL(b.origin).host;
  const hostC = new URL(c.origin).host;
  const everyone = `@bob @sam @carol@${hostB} @dave@${hostB} @erin@${hostC}`;
  const subscriptions = Object.values(viewers).flatMap((v) => v.streams.map((stream) => ({ v, stream })));
  const silent = () => subscriptions.filter(({ v, stream }) => !v.events.some((e) => e.stream === stream && e.content.includes("Sonde"))).map(({ v, stream }) => `${v.key}:${stream}`);
  let round = 0;
  await eventually(async () => {
    round++;
    await Promise.all([
      alice.v1.statuses.create({ status: `Sonde ${round} #${TAG} @bob @dave@${hostB} @erin@${hostC}`, visibility: "public" }),
      alice.v1.statuses.create({ status: `Sonde ${round} ${everyone}`, visibility: "direct" }),
      alice.v1.statuses.create({ status: `Sonde ${round}`, visibility: "section" as never, sympathisants: true } as never),
      viewers.followerB.client.v1.statuses.create({ status: `Sonde ${round}`, visibility: "section" as never }),
      erin.v1.statuses.create({ status: `Sonde ${round}`, visibility: "section" as never }),
    ]);
    return eventually(() => silent().length === 0, 5_000, "probes");
  }, 25_000, "every stream to be live").catch((error: Error) => {
    throw new Error(`${error.message}; no probe on ${silent().join(", ")}`);
  });
  t.pass(`${subscriptions.length} subscriptions live after ${round} round(s) of probes`);
});

t.test("alice posts one status per row, each a reply to the public parent, then edits them", async (t) => {
  const hostB = new URL(b.origin).host;
  const created = await Promise.all(
    ROWS.map((row) => {
      const { visibility, sympathisants, mentions } = POST[row];
      const status = `${mentions ? `@bob @carol@${hostB} ` : ""}Matrice ${row} ${WORD} #${TAG} #${tagOf(row)}`;
      return alice.v1.statuses.create({ status, visibility: visibility as never, inReplyToId: parent.id, ...(sympathisants ? { sympathisants } : {}) } as never);
    }),
  );
  ROWS.forEach((row, i) => (posted[row] = created[i]!));
  // The parent's reply counter, readable by anyone, counts only replies anyone may read.
  const visibleReplies = ROWS.filter((row) => POST[row].visibility === "public" || POST[row].visibility === "unlisted").length;
  t.equal((await createRestAPIClient({ url: a.origin }).v1.statuses.$select(parent.id).fetch()).repliesCount, visibleReplies, "replies_count hides hidden replies");
  for (const row of ROWS) {
    const coopol = (posted[row] as unknown as { coopol: { visibility: string; sympathisants: boolean } }).coopol;
    t.same(coopol, { visibility: POST[row].visibility, sympathisants: !!POST[row].sympathisants }, `${row} created`);
  }

  // Wait for what the table expects (B's copies, every expected stream event):
  // an event leaking to a reader would come from the same emission, on the same server.
  await eventually(() => ROWS.every((row) => !EXPECTED[row].followerB.includes("stored") || b.query("select id from posts where uri = ?", posted[row].uri).length > 0), 15_000, "deliveries to B");
  await expectedStreamEvents(["userStream", "notificationStream", "publicStream", "hashtagStream", "directStream", "listStream"], "the expected stream events");

  // Edits go through the same rule (streams here; Update activities for B).
  await Promise.all(
    ROWS.map((row) => {
      const mention = POST[row].mentions ? `@bob @carol@${hostB} ` : "";
      return alice.v1.statuses.$select(posted[row].id).update({ status: `${mention}Matrice ${row} modifiée ${WORD} #${TAG} #${tagOf(row)}` });
    }),
  );
  await expectedStreamEvents(["editStream"], "the expected edit events");
  await eventually(() => ROWS.every((row) => !EXPECTED[row].followerB.includes("stored") || b.query<{ content: string }>("select content from posts where uri = ?", posted[row].uri)[0]?.content.includes("modifiée")), 15_000, "the edits on B");
  await new Promise((r) => setTimeout(r, 300));
  for (const v of Object.values(viewers)) v.close?.();

  // Nothing at all was pushed to C, where nobody follows alice.
  const uris = ROWS.map((row) => posted[row].uri);
  t.same(c.query(`select uri from posts where uri in (${uris.map(() => "?").join(",")})`, ...uris), [], "C received none of the posts");
});

/** Which matrix posts each endpoint returns to `viewer`. */
async function observe(viewer: Viewer): Promise<Map<Endpoint, Set<Row>>> {
  const { client, instance } = viewer;
  const applies = APPLIES[viewer.key];
  const seen = new Map<Endpoint, Set<Row>>();

  // First by URL: this is how C learns of the parent and of the posts it may
  // have, which the other endpoints then show.
  if (applies.includes("resolve")) {
    if (viewer.key === "strangerC") await client.v2.search.list({ q: parent.uri, type: "statuses", resolve: true });
    const found = await Promise.all(ROWS.map(async (row) => rowsOf((await client.v2.search.list({ q: posted[row].uri, type: "statuses", resolve: true })).statuses)));
    seen.set("resolve", new Set(found.flatMap((s) => [...s])));
  }

  // Ids on the reader's own server (none when that server does not hold the post).
  const idOn = (status: mastodon.v1.Status): string | undefined => {
    if (instance === a) return status.id;
    const row = instance.query<{ id: number }>("select id from posts where uri = ?", status.uri)[0];
    return row ? String(row.id) : undefined;
  };
  const held = ROWS.map((row) => ({ row, id: idOn(posted[row]) })).filter((x): x is { row: Row; id: string } => !!x.id);
  const aliceId = instance === a ? posted.public.account.id : instance.query<{ id: number }>("select id from actors where uri = ?", aliceUri)[0]?.id;
  const parentId = idOn(parent);
  /** Rows for which `fetch` answers; a 404 means hidden, anything else fails the test. */
  const each = async (fetch: (id: string) => Promise<unknown>) =>
    new Set(
      (
        await Promise.all(
          held.map(({ row, id }) =>
            fetch(id).then(
              () => [row],
              (error) => {
                if (statusCodeOf(error) === 404) return [];
                throw error;
              },
            ),
          ),
        )
      ).flat(),
    );

  const tasks: Record<Exclude<Endpoint, "resolve">, () => Promise<Set<Row>>> = {
    stored: async () => new Set(held.map((x) => x.row)),
    status: () => each((id) => client.v1.statuses.$select(id).fetch()),
    statuses: async () => (held.length ? rowsOf(await client.v1.statuses.fetch({ id: held.map((x) => x.id) })) : new Set()),
    history: () => each(async (id) => await client.v1.statuses.$select(id).history.list()),
    account: async () => (aliceId ? rowsOf(await client.v1.accounts.$select(String(aliceId)).statuses.list({ limit: 40 })) : new Set()),
    context: async () => {
      if (!parentId) return new Set();
      const context = await client.v1.statuses.$select(parentId).context.fetch();
      return rowsOf([...context.ancestors, ...context.descendants]);
    },
    search: async () => rowsOf((await client.v2.search.list({ q: WORD, type: "statuses", limit: 40 })).statuses),
    hashtagSearch: async () => {
      const found = await Promise.all(ROWS.map(async (row) => ((await client.v2.search.list({ q: tagOf(row), type: "hashtags" })).hashtags.some((h) => h.name === tagOf(row)) ? [row] : [])));
      return new Set(found.flat());
    },
    home: async () => rowsOf(await client.v1.timelines.home.list({ limit: 40 })),
    conversations: async () => rowsOf((await client.v1.conversations.list({ limit: 40 })).flatMap((c) => (c.lastStatus ? [c.lastStatus] : []))),
    sectionList: async () => rowsOf(await client.v1.timelines.list.$select("section").list({ limit: 40 })),
    public: async () => rowsOf(await client.v1.timelines.public.list({ limit: 40 })),
    publicLocal: async () => rowsOf(await client.v1.timelines.public.list({ local: true, limit: 40 })),
    tag: async () => rowsOf(await client.v1.timelines.tag.$select(TAG).list({ limit: 40 })),
    notification: async () => rowsOf((await client.v1.notifications.list({ limit: 80 })).flatMap((n) => (n.status ? [n.status] : []))),
    userStream: async () => streamed(viewer, "userStream"),
    notificationStream: async () => streamed(viewer, "notificationStream"),
    publicStream: async () => streamed(viewer, "publicStream"),
    hashtagStream: async () => streamed(viewer, "hashtagStream"),
    directStream: async () => streamed(viewer, "directStream"),
    listStream: async () => streamed(viewer, "listStream"),
    editStream: async () => streamed(viewer, "editStream"),
  };
  await Promise.all(applies.filter((e) => e !== "resolve").map(async (e) => seen.set(e, await tasks[e]())));
  return seen;
}

t.test("the matrix: every endpoint returns each post exactly to whom it should", async (t) => {
  const observed = Object.fromEntries(await Promise.all(VIEWERS.map(async (key) => [key, await observe(viewers[key])] as const))) as Record<ViewerKey, Map<Endpoint, Set<Row>>>;
  for (const row of ROWS) {
    t.test(row, async (t) => {
      for (const key of VIEWERS) {
        for (const endpoint of APPLIES[key]) {
          const expected = EXPECTED[row][key].includes(endpoint);
          t.equal(observed[key].get(endpoint)!.has(row), expected, `${row} → ${LABELS[key]} · ${endpoint}: ${expected ? "shown" : "hidden"}`);
        }
      }
    });
  }
  const lines = ROWS.map((row) => `${row}\n${VIEWERS.map((key) => `    ${key.padEnd(13)} ${APPLIES[key].filter((e) => observed[key].get(e)!.has(row)).join(" ") || "—"}`).join("\n")}`);
  t.comment(`observed:\n${lines.join("\n")}`);
});

t.test("no token, no search; the Notes themselves are refused to strangers", async (t) => {
  const refused = await Promise.resolve(viewers.anonymous.client.v2.search.list({ q: WORD, type: "statuses" })).catch((e: unknown) => e);
  t.equal(statusCodeOf(refused), 401, "search needs a token");
  for (const row of ROWS) {
    const res = await fetch(posted[row].uri, { headers: { accept: "application/activity+json" } });
    await res.body?.cancel();
    const open = row === "public" || row === "unlisted";
    t.equal(res.status < 300, open, `${row}: the Note is ${open ? "served" : "refused"} to an unsigned fetch (${res.status})`);
  }
});

t.test("replies to a post of another server reach it only when someone there may read them", async (t) => {
  const erinParent = await erin.v1.statuses.create({ status: "Un fil sur C", visibility: "public" });
  const found = await alice.v2.search.list({ q: erinParent.uri, type: "statuses", resolve: true });
  t.equal(found.statuses.length, 1, "A fetches erin's post by its URL");
  const rows = ROWS.filter((row) => row in REMOTE_PARENT_STORED);
  const replies = await Promise.all(
    rows.map((row) => alice.v1.statuses.create({ status: `Réponse ${row} ${RUN}`, visibility: POST[row].visibility as never, inReplyToId: found.statuses[0]!.id })),
  );
  const onC = (i: number) => c.query<{ content: string }>("select content from posts where uri = ?", replies[i]!.uri)[0]?.content;
  // The replies C should get show the deliveries have run; then a moment for the others.
  const arrived = async (text: string) => {
    await eventually(() => rows.every((row, i) => !REMOTE_PARENT_STORED[row] || onC(i)?.includes(text)), 15_000, "the replies C may hold");
    await new Promise((r) => setTimeout(r, 700));
  };
  await arrived("Réponse");
  for (const [i, row] of rows.entries()) {
    const expected = REMOTE_PARENT_STORED[row]!;
    t.equal(!!onC(i), expected, `${row} reply to erin's post: ${expected ? "delivered to C" : "never on C"}`);
  }
  // Edits take the same way (Update activities).
  await Promise.all(rows.map((row, i) => alice.v1.statuses.$select(replies[i]!.id).update({ status: `Réponse ${row} modifiée ${RUN}` })));
  await arrived("modifiée");
  for (const [i, row] of rows.entries()) {
    const expected = REMOTE_PARENT_STORED[row]!;
    t.equal(!!onC(i)?.includes("modifiée"), expected, `${row} reply, edited: ${expected ? "the edit reaches C" : "the edit never reaches C"}`);
  }
  // Whatever C holds, erin reads only what she may.
  const context = await erin.v1.statuses.$select(erinParent.id).context.fetch();
  t.same(context.descendants.map((s) => s.content.match(/Réponse (\w+)/)?.[1]).sort(), ["public", "unlisted"], "erin's thread shows the public and unlisted replies only");
});
