// A thematic group at scale (issue 5): one group of 5,000 members spread over
// 50 instances. Measures the time from a member's post to the last of the
// group's Announce deliveries (on loopback), checks that Fedify delivers once
// per shared inbox, then times the group's discussion page (its threads) over
// HTTP, next to the same rows read by a raw SQLite query.
//
// One real Coopol instance hosts the group (`node src/main.ts`, as
// bench/servers.ts starts it). The 50 member instances are not Coopol
// processes (50 of them would need gigabytes): 50 small HTTP servers on
// 127.0.0.1, in this process (bench/fake-fediverse.ts), each serving 100 member actors (Person
// documents with a real RSA public key) and a shared inbox that records when
// each delivery arrives. Membership is made by the real path: each of the
// 5,000 actors sends a signed Follow to the group's inbox, the group's policy
// accepts it, and the group's signed Accept comes back to the member's server.
//
// With --groups-seed=sql (or --seed=sql) the membership is written into the
// instance's SQLite file instead (about 1 minute instead of 3.5–4.5).
//
//   node bench/groups.ts                      5,000 members on 50 instances, 300 threads
//   node bench/groups.ts --instances=N --members=N --threads=N --posts=N
//   npm run bench -- --only=groups            the same, through bench/run.ts
import { join } from "node:path";
import Database from "better-sqlite3";
import { verifyRequest } from "@fedify/fedify";
import { getDocumentLoader } from "@fedify/vocab-runtime";
import { request } from "undici";
import { groupThreads } from "../src/groups/discussion.ts";
import { groupBySlug } from "../src/groups/groups.ts";
import { remoteFollowers } from "../src/federation/send.ts";
import type { Services } from "../src/services.ts";
import type { Viewer } from "../src/posts/visibility.ts";
import { openDatabase } from "../src/storage/db.ts";
import { newId } from "../src/storage/ids.ts";
import { closeConnections, FakeInstance, keyPool, postActivity, type Delivery, type FakeActor, type KeyPair } from "./fake-fediverse.ts";
import { loadAverage, log, measureLoad, percentile, sleep, timeLoop, waitFor, type LoadFigure, type Timing } from "./measure.ts";
import { lat, ms, num, numberOption, runAlone, table } from "./report.ts";
import { startServer, type Server } from "./servers.ts";
import { FormClient } from "./web.ts";

export type { Timing };

export interface GroupsOptions {
  /** Member instances (fake servers). */
  instances?: number;
  /** Remote members per instance. */
  perInstance?: number;
  /** Threads seeded in the group before the members join. */
  threads?: number;
  /** Measured posts (after one warm-up post). */
  posts?: number;
  /** How membership is made: signed Follows (the real path, default) or rows written into the SQLite file. */
  seed?: "follow" | "sql";
}

export interface PageFigure extends LoadFigure {
  name: string;
  bytes: number;
}

export interface PostRun {
  /** POST /groups/<slug>/threads → its 303. */
  answerMs: number;
  /** POST → first, median and last shared inbox reached. */
  firstMs: number;
  medianMs: number;
  lastMs: number;
  instancesReached: number;
}

export interface GroupsResult {
  instances: number;
  perInstance: number;
  members: number;
  keyPool: number;
  /** "follow": signed Follows to the group's inbox (the real path); "sql": rows written into its SQLite file. */
  seededBy: "follow" | "sql";
  follows: { sent: number; accepted202: number; refused: Record<string, number>; seconds: number; perSecond: number; stored: number; acceptsReceived: number; acceptsPerInstance: [number, number]; cpuMs: number };
  threads: number;
  replies: number;
  seedSeconds: number;
  warm: PostRun;
  runs: PostRun[];
  /** Announce POSTs per instance per measured post (warm-up included): min and max. */
  announcesPerInstance: [number, number];
  announcesTotal: number;
  announcesExpected: number;
  otherDeliveries: Record<string, number>;
  signatureKinds: Record<string, number>;
  verified: number;
  verifyFailed: number;
  verifyNote: string;
  maxQueueDepth: number;
  inProcess: Timing[];
  /** The recipients' query each post runs before its Announce is queued. */
  fanOut: Timing[];
  sameRows: boolean;
  http: PageFigure[];
  rssAfter: number;
  load: string;
}

const PASSWORD = "benchmark password 2024";
const SLUG = "logement";
const KEY_POOL = 16;
const CONNECTIONS = 10;
const DURATION_S = 5;
const WARMUP_S = 1;

// ---------------------------------------------------------------- the member instances

/**
 * One member instance: its members' actor documents, and a shared inbox that
 * records every delivery with its arrival time.
 */
class MemberInstance extends FakeInstance {
  /** Arrival times of each Announce id on this instance (more than one = a duplicate delivery). */
  announces = new Map<string, number[]>();
  unsigned = 0;
  onAnnounce: (id: string) => void = () => {};
  readonly n: number;

  constructor(n: number) {
    super(`member instance ${n}`, { keepAliveTimeout: 30_000 });
    this.n = n;
  }

  members: FakeActor[] = [];

  async start(count: number, pool: KeyPair[]): Promise<void> {
    await this.listen();
    for (let k = 0; k < count; k++) {
      const username = `m${String(this.n).padStart(2, "0")}_${String(k).padStart(3, "0")}`;
      const pair = pool[(this.n * count + k) % pool.length]!;
      this.members.push(this.add(this.actorAt(`/users/${username}`, username, pair, { type: "Person", name: `Membre ${username}`, summary: "" })));
    }
  }

  protected receive(d: Delivery, reply: (status: number) => void): void {
    // A delivery without a signature would be refused by any real server.
    if (!d.headers.signature) {
      this.unsigned++;
      return reply(401);
    }
    reply(202);
    if (d.type === "Announce") {
      const times = this.announces.get(d.id) ?? [];
      times.push(d.at);
      this.announces.set(d.id, times);
      this.onAnnounce(d.id);
    }
  }
}

/** autocannon, as bench/run.ts does, on a page; with the page's size. */
async function page(name: string, server: Server, path: string, headers: Record<string, string>): Promise<PageFigure> {
  const url = server.origin + path;
  const probe = await request(url, { headers });
  const bytes = (await probe.body.arrayBuffer()).byteLength;
  const figure = await measureLoad(server, { url, connections: CONNECTIONS, headers }, { warmupS: WARMUP_S, durationS: DURATION_S });
  return { name, ...figure, bytes };
}

/** The rows groupThreads() reads for an anonymous visitor, as one raw SQL statement (what drizzle builds, written by hand). */
const RAW_THREADS = `
  select p.*, gp.title, gp.replies_count as replies, gp.last_activity_at as last_at
  from group_posts as gp join posts as p on p.id = gp.post_id
  where gp.group_id = :group and gp.last_activity_at is not null and p.visibility in ('public', 'unlisted')
    and not exists (select 1 from hidden_posts as h where h.group_id = :group and h.post_id = p.id)
  order by gp.last_activity_at desc, gp.post_id desc
  limit 50`;

// ---------------------------------------------------------------- the run

export async function groupsBenchmark(options: GroupsOptions = {}): Promise<GroupsResult> {
  const instanceCount = options.instances ?? 50;
  const perInstance = options.perInstance ?? 100;
  const threadCount = options.threads ?? 300;
  const postCount = options.posts ?? 5;
  const seed = options.seed ?? "follow";
  const load = loadAverage();
  const instances = Array.from({ length: instanceCount }, (_, n) => new MemberInstance(n));
  let server: Server | undefined;
  try {
    log(`groups: ${instanceCount} member instances × ${perInstance} actors (${KEY_POOL} RSA-2048 key pairs shared), served from this process`);
    const pool = await keyPool(KEY_POOL, 2048);
    await Promise.all(instances.map((i) => i.start(perInstance, pool)));
    const members = instances.flatMap((i) => i.members);

    server = await startServer("coopol", "group");
    const s = server;
    const local = ["owner", "claire", "driss", "emma", "farid"];
    for (const username of local) {
      // The password goes on standard input, as an operator would type it.
      const added = s.cli(["member", "add", "--username", username, "--role", "member"], `${PASSWORD}\n`);
      if (added.status !== 0) throw new Error(`member add ${username}: ${added.stderr}`);
    }
    const browsers = local.map(() => new FormClient(s.origin));
    for (const [k, b] of browsers.entries()) await b.expectRedirect("/login", { username: local[k]!, password: PASSWORD, next: "/" });
    const [owner] = browsers as [FormClient, ...FormClient[]];
    // A public group open to the whole fediverse: remote Follows are accepted at once.
    await owner.expectRedirect("/groups", {
      name: "Logement et urbanisme",
      slug: SLUG,
      description: "Loyers, logement social, rénovation : nos propositions pour la ville.",
      themes: "logement, urbanisme",
      policy: "fediverse",
      visibility: "public",
    });
    for (const b of browsers.slice(1)) await b.expectRedirect(`/groups/${SLUG}/join`, {});

    // ------------------------------------------------------------ threads, before the members join
    log(`groups: seeding ${threadCount} threads and their replies through the group's page (5 local members)`);
    const seedStarted = performance.now();
    let replies = 0;
    await Promise.all(
      browsers.map(async (b, k) => {
        for (let i = k; i < threadCount; i += browsers.length) {
          const location = await b.expectRedirect(`/groups/${SLUG}/threads`, {
            title: `Fil n° ${i + 1} : encadrement des loyers dans le quartier ${i % 20}`,
            text: `Proposition n° ${i + 1} : ouvrir une permanence logement le samedi matin et recenser les logements vacants. #logement`,
          });
          const root = /\/threads\/(\d+)/.exec(location)?.[1];
          if (!root) throw new Error(`no thread in ${location}`);
          for (let r = 0; r < i % 4; r++) {
            await b.expectRedirect(`/groups/${SLUG}/threads`, { text: `Réponse ${r + 1} au fil ${i + 1} : d'accord, je peux tenir la permanence un samedi sur deux.`, in_reply_to_id: root });
            replies++;
          }
        }
      }),
    );
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    const groupUri = `${s.origin}/users/g_${SLUG}`;
    const groupActorId = s.query<{ id: number }>("select id from actors where uri = ?", groupUri)[0]?.id;
    if (!groupActorId) throw new Error(`no actor ${groupUri}`);

    // ------------------------------------------------------------ membership: 5,000 signed Follows (or rows)
    const reader = new Database(join(s.dataDir, "coopol.sqlite"), { readonly: true, fileMustExist: true });
    const remoteMembers = reader.prepare<[number], { n: number }>(
      "select count(*) as n from follows f join actors a on a.id = f.follower_id where f.following_id = ? and f.accepted_at is not null and a.local = 0",
    );
    const depth = reader.prepare<[], { n: number }>("select count(*) as n from fedify_queue");
    let maxQueueDepth = 0;
    const sampler = setInterval(() => (maxQueueDepth = Math.max(maxQueueDepth, depth.get()!.n)), 100);
    const codes: Record<string, number> = {};
    const cpuBefore = s.cpuSeconds();
    const followStarted = performance.now();
    // Interleaved across instances, as members of many servers join over time.
    const order = Array.from({ length: members.length }, (_, k) => instances[k % instanceCount]!.members[Math.floor(k / instanceCount)]!);
    const acceptsReceived = () => instances.reduce((sum, i) => sum + i.count("Accept"), 0);
    if (seed === "sql") {
      log(`groups: writing ${members.length} remote actors and their accepted follows into the instance's SQLite file (--groups-seed=sql)`);
      const writer = new Database(join(s.dataDir, "coopol.sqlite"));
      writer.pragma("busy_timeout = 5000");
      const actor = writer.prepare(
        `insert into actors (id, uri, type, username, domain, local, name, inbox_url, shared_inbox_url, followers_url)
         values (?, ?, 'Person', ?, ?, 0, ?, ?, ?, ?) returning id`,
      );
      const follow = writer.prepare("insert into follows (id, follower_id, following_id, uri, accepted_at) values (?, ?, ?, ?, ?)");
      // Ids from an hour ago: they cannot collide with the ones the running instance makes now.
      const past = Date.now() - 3_600_000;
      // Small transactions: the instance's queue worker must never wait long for the write lock
      // (a SQLITE_BUSY there stops the instance, see docs/performance.md).
      const batch = writer.transaction((rows: Array<[number, FakeActor]>) => {
        for (const [k, m] of rows) {
          const origin = new URL(m.actor).origin;
          const row = actor.get(newId(past), m.actor, m.username, new URL(m.actor).host, `Membre ${m.username}`, `${m.actor}/inbox`, `${origin}/inbox`, `${m.actor}/followers`) as { id: number };
          follow.run(newId(past), row.id, groupActorId, `${m.actor}#follows/${k}`, Date.now());
        }
      });
      const rows = [...order.entries()];
      let longest = 0;
      for (let start = 0; start < rows.length; start += 250) {
        const t0 = performance.now();
        batch(rows.slice(start, start + 250));
        longest = Math.max(longest, performance.now() - t0);
        await sleep(5);
      }
      writer.close();
      log(`groups: rows written, longest write transaction ${longest.toFixed(0)} ms`);
      codes["202"] = 0;
    } else {
      log(`groups: ${members.length} remote actors send a signed Follow to the group's inbox (16 in flight)`);
      const inbox = new URL(`${groupUri}/inbox`);
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (;;) {
            const k = next++;
            if (k >= order.length) return;
            const m = order[k]!;
            const follow = { "@context": "https://www.w3.org/ns/activitystreams", id: `${m.actor}#follows/${Date.now()}-${k}`, type: "Follow", actor: m.actor, object: groupUri };
            let code: string;
            try {
              code = String(await postActivity(inbox, m, follow));
            } catch {
              code = "error";
            }
            codes[code] = (codes[code] ?? 0) + 1;
          }
        }),
      );
      // Given up only after 60 s without a new member or Accept.
      await waitFor(
        () => `${members.length} accepted members: ${remoteMembers.get(groupActorId)!.n} stored, ${acceptsReceived()} Accepts received\n${s.output.join("").slice(-4000)}`,
        () => remoteMembers.get(groupActorId)!.n >= members.length && acceptsReceived() >= members.length,
        60_000,
        { pollMs: 20, progress: () => remoteMembers.get(groupActorId)!.n + acceptsReceived() },
      );
    }
    const followSeconds = (performance.now() - followStarted) / 1000;
    const followCpu = s.cpuSeconds() - cpuBefore;
    const acceptCounts = instances.map((i) => i.count("Accept"));
    const followsStored = remoteMembers.get(groupActorId)!.n;
    if (seed === "follow") log(`groups: ${members.length} members in ${followSeconds.toFixed(1)} s (${(members.length / followSeconds).toFixed(0)} Follows/s, Accepts included)`);
    await sleep(1000);

    // ------------------------------------------------------------ a post → the last Announce delivery
    const announceIds = new Set<string>();
    const measure = async (k: number): Promise<PostRun> => {
      const known = new Set(instances.flatMap((i) => [...i.announces.keys()]));
      let fresh: string | undefined;
      let resolveAll: () => void = () => {};
      const all = new Promise<void>((resolve) => (resolveAll = resolve));
      const reached = () => instances.filter((i) => fresh && i.announces.has(fresh)).length;
      for (const i of instances) {
        i.onAnnounce = (id) => {
          if (known.has(id)) return;
          fresh ??= id;
          if (reached() === instanceCount) resolveAll();
        };
      }
      const t0 = performance.now();
      await owner.expectRedirect(`/groups/${SLUG}/threads`, {
        title: `Fil mesuré n° ${k} : un bail type pour les colocations`,
        text: "Je propose que le groupe rédige un bail type pour les colocations étudiantes, à diffuser par toutes les sections. #logement",
      });
      const answerMs = performance.now() - t0;
      const timer = setTimeout(resolveAll, 60_000);
      await all;
      clearTimeout(timer);
      for (const i of instances) i.onAnnounce = () => {};
      if (!fresh) throw new Error(`post ${k}: no Announce arrived within 60 s\n${s.output.join("").slice(-4000)}`);
      announceIds.add(fresh);
      const arrivals = instances.map((i) => i.announces.get(fresh!)?.[0]).filter((x): x is number => x !== undefined).map((x) => x - t0).sort((a, b) => a - b);
      return { answerMs, firstMs: arrivals[0]!, medianMs: percentile(arrivals, 0.5), lastMs: arrivals.at(-1)!, instancesReached: arrivals.length };
    };
    log(`groups: one warm-up post, then ${postCount} measured posts, each waited for on the ${instanceCount} shared inboxes`);
    const warm = await measure(0);
    const runs: PostRun[] = [];
    for (let k = 1; k <= postCount; k++) {
      await sleep(500);
      runs.push(await measure(k));
    }
    // Late duplicates would come now.
    await sleep(3000);
    clearInterval(sampler);
    const perPost = [...announceIds].flatMap((id) => instances.map((i) => i.announces.get(id)?.length ?? 0));
    const announcesTotal = instances.reduce((sum, i) => sum + i.count("Announce"), 0);
    const otherDeliveries: Record<string, number> = {};
    for (const i of instances) for (const d of i.deliveries) if (d.type !== "Announce" && d.type !== "Accept") otherDeliveries[d.type] = (otherDeliveries[d.type] ?? 0) + 1;
    const unsigned = instances.reduce((sum, i) => sum + i.unsigned, 0);
    if (unsigned) otherDeliveries["unsigned (refused 401)"] = unsigned;

    // ------------------------------------------------------------ the Announces' HTTP signatures, verified after the fact
    log("groups: verifying the HTTP signatures of the Announces received");
    const signatureKinds: Record<string, number> = {};
    let verified = 0;
    let verifyFailed = 0;
    let verifyNote = "";
    const documentLoader = getDocumentLoader({ allowPrivateAddress: true });
    for (const d of instances.flatMap((i) => i.deliveries.filter((x) => x.type === "Announce"))) {
      const rfc9421 = "signature-input" in d.headers;
      const kind = rfc9421 ? "RFC 9421" : "draft-cavage";
      signatureKinds[kind] = (signatureKinds[kind] ?? 0) + 1;
      try {
        const key = await verifyRequest(new Request(d.url, { method: "POST", headers: d.headers, body: d.body }), {
          documentLoader,
          contextLoader: documentLoader,
          spec: rfc9421 ? "rfc9421" : "draft-cavage-http-signatures-12",
          timeWindow: false,
        });
        if (key?.ownerId?.href === groupUri) verified++;
        else verifyFailed++;
      } catch (error) {
        verifyFailed++;
        verifyNote ||= String(error);
      }
    }

    // ------------------------------------------------------------ the discussion page
    log("groups: discussion page, in-process (raw SQLite and groupThreads()) on the instance's database file");
    const file = join(s.dataDir, "coopol.sqlite");
    const db = openDatabase(file);
    const group = groupBySlug(db, SLUG)!;
    const raw = reader.prepare(RAW_THREADS);
    const rawRows = () => raw.all({ group: group.id }) as Array<{ id: number }>;
    const anonymous = { kind: "anonymous" } as const;
    const sameRows = JSON.stringify(rawRows().map((r) => r.id)) === JSON.stringify(groupThreads(db, anonymous, group).map((t) => t.root.id));
    const inProcess = [
      timeLoop("raw SQLite: the same 50 threads (better-sqlite3, one statement)", 2000, 4000, rawRows),
      timeLoop("groupThreads(db, anonymous, group) (drizzle)", 2000, 4000, () => groupThreads(db, anonymous, group)),
    ];
    const claire = reader.prepare<[], { actorId: number; role: string }>("select actor_id as actorId, role from users where username = 'claire'").get()!;
    const memberViewer = { kind: "local", actorId: claire.actorId, role: claire.role } as Viewer;
    inProcess.push(timeLoop("groupThreads(db, member, group) (drizzle)", 2000, 4000, () => groupThreads(db, memberViewer, group)));
    // What each post costs before its Announce is queued: reading every member's actor row.
    const recipients = reader.prepare<[number], { id: number }>(
      "select a.* from follows f join actors a on a.id = f.follower_id where f.following_id = ? and f.accepted_at is not null and a.local = 0",
    );
    const fanOut = [
      timeLoop("raw SQLite: the remote members' actor rows", 200, 3000, () => recipients.all(groupActorId)),
      timeLoop("remoteFollowers(services, group actor) (drizzle)", 200, 3000, () => remoteFollowers({ db } as unknown as Services, groupActorId)),
    ];
    db.$client.close();
    reader.close();

    log(`groups: GET /groups/${SLUG} over HTTP (autocannon, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s)`);
    const http = [
      await page(`GET /groups/${SLUG}, visitor`, s, `/groups/${SLUG}`, {}),
      await page(`GET /groups/${SLUG}, member`, s, `/groups/${SLUG}`, { cookie: browsers[1]!.cookie() }),
      await page(`GET /groups/${SLUG}, owner (moderation panel)`, s, `/groups/${SLUG}`, { cookie: owner.cookie() }),
    ];

    return {
      instances: instanceCount,
      perInstance,
      members: members.length,
      keyPool: KEY_POOL,
      seededBy: seed,
      follows: {
        sent: order.length,
        accepted202: codes["202"] ?? 0,
        refused: Object.fromEntries(Object.entries(codes).filter(([c]) => c !== "202")),
        seconds: followSeconds,
        perSecond: members.length / followSeconds,
        stored: followsStored,
        acceptsReceived: acceptsReceived(),
        acceptsPerInstance: [Math.min(...acceptCounts), Math.max(...acceptCounts)],
        cpuMs: (followCpu * 1000) / members.length,
      },
      threads: threadCount,
      replies,
      seedSeconds,
      warm,
      runs,
      announcesPerInstance: [Math.min(...perPost), Math.max(...perPost)],
      announcesTotal,
      announcesExpected: announceIds.size * instanceCount,
      otherDeliveries,
      signatureKinds,
      verified,
      verifyFailed,
      verifyNote,
      maxQueueDepth,
      inProcess,
      fanOut,
      sameRows,
      http,
      rssAfter: s.memory().rss,
      load,
    };
  } finally {
    await server?.dispose();
    await Promise.all(instances.map((i) => i.stop()));
    await closeConnections();
  }
}

// ---------------------------------------------------------------- printing

export function groupsReport(r: GroupsResult): string[] {
  const out: string[] = [];
  const f = r.follows;
  const sorted = (pick: (p: PostRun) => number) => r.runs.map(pick).sort((a, b) => a - b);
  const last = sorted((p) => p.lastMs);
  const med = (xs: number[]) => percentile(xs, 0.5);
  out.push(
    table(
      [`Group: ${r.members.toLocaleString("en")} members on ${r.instances} instances (${r.perInstance} each)`, "value"],
      [
        ...(r.seededBy === "follow"
          ? [
              ["membership seeded by", `${f.sent.toLocaleString("en")} signed Follows (real path)`],
              ["Follows accepted (202) / refused", `${f.accepted202.toLocaleString("en")} / ${JSON.stringify(f.refused)}`],
              ["members stored / signed Accepts received back", `${f.stored.toLocaleString("en")} / ${f.acceptsReceived.toLocaleString("en")}`],
              ["Accepts per instance (min … max)", `${f.acceptsPerInstance[0]} … ${f.acceptsPerInstance[1]}`],
              ["first Follow → last member stored and Accept received", `${f.seconds.toFixed(1)} s (${num(f.perSecond)}/s)`],
              ["group instance CPU per Follow (verify, store, sign Accept)", ms(f.cpuMs)],
            ]
          : [
              ["membership seeded by", "rows written into the SQLite file (--groups-seed=sql)"],
              ["members stored", f.stored.toLocaleString("en")],
            ]),
        ["threads + replies seeded before (through the web form)", `${r.threads} + ${r.replies} in ${r.seedSeconds.toFixed(1)} s`],
      ],
    ),
  );
  out.push("");
  out.push(
    table(
      [`A post → the group's Announce on every shared inbox (${r.runs.length} posts, loopback)`, "median", "min", "max"],
      [
        ["POST /groups/<slug>/threads → 303", ms(med(sorted((p) => p.answerMs))), ms(Math.min(...r.runs.map((p) => p.answerMs))), ms(Math.max(...r.runs.map((p) => p.answerMs)))],
        ["POST → first shared inbox reached", ms(med(sorted((p) => p.firstMs))), ms(Math.min(...r.runs.map((p) => p.firstMs))), ms(Math.max(...r.runs.map((p) => p.firstMs)))],
        ["POST → half of the shared inboxes reached", ms(med(sorted((p) => p.medianMs))), ms(Math.min(...r.runs.map((p) => p.medianMs))), ms(Math.max(...r.runs.map((p) => p.medianMs)))],
        [`POST → last of the ${r.instances} shared inboxes reached`, ms(med(last)), ms(last[0]!), ms(last.at(-1)!)],
        ["  first post after start-up (warm-up, not in the figures above)", ms(r.warm.lastMs), "", ""],
      ],
    ),
  );
  out.push("");
  out.push(
    table(
      ["Fan-out", "value"],
      [
        ["instances reached by every post", r.runs.every((p) => p.instancesReached === r.instances) && r.warm.instancesReached === r.instances ? `${r.instances} of ${r.instances}` : `NO: ${[r.warm, ...r.runs].map((p) => p.instancesReached).join(", ")}`],
        ["Announce deliveries per instance per post (min … max; 1 = one per shared inbox)", `${r.announcesPerInstance[0]} … ${r.announcesPerInstance[1]}`],
        ["Announce deliveries in all, for the posts / expected", `${r.announcesTotal} / ${r.announcesExpected} (not ${(r.announcesExpected / r.instances) * r.members})`],
        ["HTTP signatures on them", Object.entries(r.signatureKinds).map(([k, v]) => `${v} ${k}`).join(", ") || "none"],
        ["signatures verified (Fedify verifyRequest, group's key)", `${r.verified} of ${r.verified + r.verifyFailed}${r.verifyNote ? ` (${r.verifyNote.slice(0, 120)})` : ""}`],
        ["other deliveries received", Object.keys(r.otherDeliveries).length ? JSON.stringify(r.otherDeliveries) : "none"],
        ["largest queue depth seen (fedify_queue, membership included)", String(r.maxQueueDepth)],
        ["group instance RSS at the end", `${r.rssAfter.toFixed(1)} MiB`],
      ],
    ),
  );
  out.push("");
  out.push(
    table(
      [`Discussion page data: ${Math.min(50, r.threads + r.runs.length + 1)} of ${r.threads + r.runs.length + 1} threads (in-process)`, "runs", "p50", "p99", "per s", "rows"],
      r.inProcess.map((t) => [t.name, String(t.runs), ms(t.p50), ms(t.p99), num(t.perSecond), String(t.rows)]),
    ),
  );
  out.push(`  same rows in the same order: ${r.sameRows ? "yes" : "NO"}`);
  out.push("");
  out.push(
    table(
      [`Recipients of each Announce: ${r.members.toLocaleString("en")} actor rows (in-process)`, "runs", "p50", "p99", "per s", "rows"],
      r.fanOut.map((t) => [t.name, String(t.runs), ms(t.p50), ms(t.p99), num(t.perSecond), String(t.rows)]),
    ),
  );
  out.push("");
  out.push(
    table(
      ["Discussion page over HTTP", "req/s", "p50", "p99", "requests", "not OK", "CPU/req", "size"],
      r.http.map((h) => [h.name, num(h.rps), lat(h.p50), lat(h.p99), String(h.total), String(h.bad), ms(h.cpuMs), `${(h.bytes / 1024).toFixed(1)} KiB`]),
    ),
  );
  for (const h of r.http) if (h.note) out.push(`  ${h.name}: ${h.note}`);
  return out;
}

/** Size from the command line: --instances=N, --members=N (per instance), --threads=N, --posts=N, --groups-seed=sql (or --seed=sql). */
export function groupsOptions(argv: string[]): GroupsOptions {
  const value = (name: string) => numberOption(argv, name);
  const seed = argv.find((a) => a.startsWith("--groups-seed=") || a.startsWith("--seed="))?.split("=")[1];
  if (seed !== undefined && seed !== "follow" && seed !== "sql") throw new Error(`--groups-seed=${seed}: follow or sql`);
  return { instances: value("instances"), perInstance: value("members"), threads: value("threads"), posts: value("posts"), seed };
}

if (import.meta.main) runAlone("groups", () => groupsBenchmark(groupsOptions(process.argv)), groupsReport);
