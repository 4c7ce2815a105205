// The web pages secretaries and members use most, on a real instance process:
// p50/p99 of each page at 1 and 10 clients (autocannon, with the session
// cookie of a member or the secretary), beside a raw SQLite read of the same
// rows where the page is mostly one read.
//
// The section: 300 members, 2,000 posts (some mentioning the measured
// member: her notifications), 200 events (10 recurring), 3 groups with
// threads, 3 campaigns with actions and shifts. The bulk (members, follows,
// posts, events) is written in-process on the running instance's file with
// Coopol's own functions (createMemberWithHash, replaceLinks, fanOut,
// notifyMentions) and drizzle inserts, as bench/agenda.ts does for events; the
// few groups, threads, campaigns, actions and shift sign-ups go through the
// pages' own forms (bench/web.ts), as bench/groups.ts does.
//
// The fédération dashboard page is measured on bench/territory.ts's
// fédération (100 linked sections and their results), before it is stopped.
//
//   node bench/pages.ts                         (or node bench/run.ts --only=pages)
//   node bench/pages.ts --no-federation --seconds=1   the section's pages alone, quickly
import { join } from "node:path";
import pino from "pino";
import { loadConfig } from "../src/config.ts";
import { EventBus } from "../src/events.ts";
import { createMemberWithHash, type User } from "../src/members/members.ts";
import { MEMBERS_PAGE } from "../src/members/manage.ts";
import { hashPassword } from "../src/members/passwords.ts";
import { notifyMentions } from "../src/notifications/notifications.ts";
import { fanOut, replaceLinks } from "../src/posts/posts.ts";
import { formatText } from "../src/posts/content.ts";
import { sectionActor } from "../src/agenda/events.ts";
import type { Services } from "../src/services.ts";
import { openDatabase, type OpenDb } from "../src/storage/db.ts";
import { newId } from "../src/storage/ids.ts";
import { EVENT_CATEGORIES, events, follows, posts } from "../src/storage/schema.ts";
import { NOTIFICATIONS_PAGE } from "../src/web/routes/notifications.ts";
import { RAW_MONTH } from "./agenda.ts";
import { prng } from "./dataset.ts";
import { loadAverage, log, measureLoad, timeLoop, type LoadFigure } from "./measure.ts";
import { lat, ms, num, numberOption, runAlone, table } from "./report.ts";
import { startServer, type Server } from "./servers.ts";
import { territoryBenchmark } from "./territory.ts";
import { RAW_HOME } from "./timeline.ts";
import { FormClient } from "./web.ts";

const PASSWORD = "benchmark password 2024";
const MEMBERS = 300;
const POSTS = 2000;
const EVENTS = 200;
const GROUPS = 3;
const THREADS_PER_GROUP = 8;
const CAMPAIGNS = 3;
const ACTIONS_PER_CAMPAIGN = 4;
const WARMUP_S = 1;
const DURATION_S = 3;
export const TARGET_P99_MS = 100;
const DAY = 86_400_000;

export interface PageFigure extends LoadFigure {
  name: string;
  path: string;
  connections: number;
  bytes: number;
  /** p50 of a raw better-sqlite3 read of the page's main rows, when meaningful. */
  rawMs?: number;
}

export interface PagesResult {
  section: { members: number; posts: number; events: number; groups: number; threads: number; campaigns: number; actions: number; notifications: number; seedSeconds: number };
  figures: PageFigure[];
  load: string;
}

/** One page at 1 then 10 clients; `raw` is the matching raw read's p50. */
async function measurePage(server: Server, name: string, path: string, cookie: string, durationS: number, rawMs?: number): Promise<PageFigure[]> {
  const url = server.origin + path;
  const probe = await fetch(url, { headers: { cookie } });
  const bytes = (await probe.arrayBuffer()).byteLength;
  if (probe.status !== 200) throw new Error(`GET ${path} answered ${probe.status}`);
  const out: PageFigure[] = [];
  for (const connections of [1, 10]) {
    const figure = await measureLoad(server, { url, connections, headers: { cookie } }, { warmupS: WARMUP_S, durationS });
    out.push({ name, path, connections, bytes, rawMs, ...figure });
  }
  return out;
}

const servicesOf = (server: Server, db: OpenDb): Services => ({
  config: loadConfig(server.env),
  db,
  log: pino({ level: "silent" }),
  // The functions called here read config and db, and emit events; nothing is sent.
  kv: null as never,
  federation: null as never,
  remote: null as never,
  events: new EventBus(),
});

const SENTENCES = [
  "Réunion de section jeudi à 19 h à la salle des fêtes, ordre du jour en pièce jointe.",
  "Merci à toutes celles et ceux qui ont tracté ce matin au marché !",
  "Qui peut tenir le stand samedi de 10 h à 13 h ? Il nous manque deux personnes.",
  "Le compte rendu du conseil municipal est en ligne, à lire avant l'assemblée.",
  "Covoiturage pour la manifestation régionale : départ 8 h place de la mairie.",
];

/** Members, follows, posts (with mentions and notifications) and events, in-process on the instance's file. */
async function seedBulk(server: Server, member: string): Promise<{ notifications: number; eventId: number }> {
  const db = openDatabase(join(server.dataDir, "coopol.sqlite"));
  db.$client.pragma("busy_timeout = 10000");
  const services = servicesOf(server, db);
  const { config } = services;
  const rand = prng(300_2000);
  const pick = <T>(list: T[]) => list[Math.floor(rand() * list.length)]!;
  try {
    // One real scrypt hash for everyone: any of them could log in.
    const passwordHash = await hashPassword(PASSWORD);
    const people: User[] = db.transaction(() =>
      Array.from({ length: MEMBERS - 2 }, (_, k) =>
        createMemberWithHash(db, config, { username: `m${String(k).padStart(3, "0")}`, displayName: `Membre ${k}`, role: k % 12 === 0 ? "sympathisant" : "member", passwordHash }),
      ),
    );
    const me = db.$client.prepare<[string], { actor_id: number; id: number }>("select id, actor_id from users where username = ?").get(member)!;
    const secretary = db.$client.prepare<[], { actor_id: number }>("select actor_id from users where username = 'secretaire'").get()!;
    // The measured member and the secretary follow 60 members each: their home timelines fill up.
    db.transaction((tx) => {
      for (const follower of [me.actor_id, secretary.actor_id]) {
        for (const p of people.slice(0, 60)) {
          const id = newId();
          tx.insert(follows).values({ id, followerId: follower, followingId: p.actorId, uri: `${config.origin}/follows/${id}`, acceptedAt: Date.now() }).run();
        }
      }
    });
    const authors = [...people.slice(0, 120), ...people.slice(0, 30)];
    const format = { mentionUrl: () => `${config.origin}/@${member}`, tagUrl: (tag: string) => `${config.origin}/tags/${tag}` };
    let notifications = 0;
    for (let i = 0; i < POSTS; i += 200) {
      db.transaction((tx) => {
        for (let j = i; j < Math.min(POSTS, i + 200); j++) {
          const author = pick(authors);
          const mention = j % 25 === 0;
          const text = `${mention ? `@${member} ` : ""}${pick(SENTENCES)} #section`;
          const id = newId();
          const row = tx
            .insert(posts)
            .values({
              id,
              uri: `${config.origin}/users/${author.username}/posts/${id}`,
              url: `${config.origin}/@${author.username}/${id}`,
              actorId: author.actorId,
              content: formatText(text, format),
              source: text,
              visibility: j % 5 === 0 ? "section" : "public",
              publishedAt: Date.now() - (POSTS - j) * 30 * 60_000,
            })
            .returning()
            .get();
          replaceLinks(tx, id, mention ? [me.actor_id] : [], ["section"]);
          fanOut(tx, row);
          if (mention) {
            notifyMentions({ ...services, db: tx as unknown as OpenDb }, row, [me.actor_id]);
            notifications++;
          }
        }
      });
    }
    // 200 events of the section over six months around today, one in 20 recurring.
    const section = sectionActor(services);
    const today = Math.floor(Date.now() / DAY) * DAY;
    let eventId = 0;
    db.transaction((tx) => {
      for (let e = 0; e < EVENTS; e++) {
        const id = newId();
        const at = today + Math.floor((e / EVENTS) * 180 - 60) * DAY + (18 + (e % 3)) * 3_600_000;
        tx.insert(events)
          .values({
            id,
            uri: `${config.origin}/events/${id}`,
            actorId: section.id,
            title: `Événement ${e} de la section`,
            description: "<p>Réunion, débat ou action militante.</p>",
            startAt: at,
            endAt: at + 2 * 3_600_000,
            locality: "Montreuil",
            category: EVENT_CATEGORIES[e % EVENT_CATEGORIES.length]!,
            rrule: e % 20 === 0 ? (e % 40 === 0 ? "FREQ=WEEKLY" : "FREQ=MONTHLY;BYDAY=1TU") : null,
          })
          .run();
        if (e === 70) eventId = id;
      }
    });
    return { notifications, eventId };
  } finally {
    db.$client.close();
  }
}

/** Groups with threads, campaigns with actions and shifts, through the pages' forms. */
async function seedForms(server: Server, secretary: FormClient, member: FormClient): Promise<{ slug: string; threads: number; actionId: number; actions: number }> {
  let threads = 0;
  for (let g = 0; g < GROUPS; g++) {
    const slug = `groupe${g}`;
    await secretary.expectRedirect("/groups", { name: `Groupe thématique ${g}`, slug, description: "Nos propositions pour la ville.", themes: "logement, transports", policy: "party_only", visibility: "public" });
    await member.expectRedirect(`/groups/${slug}/join`, {});
    for (let i = 0; i < THREADS_PER_GROUP; i++) {
      const author = i % 2 ? member : secretary;
      const location = await author.expectRedirect(`/groups/${slug}/threads`, { title: `Fil ${i + 1} : permanence logement`, text: `Proposition ${i + 1} : ouvrir une permanence le samedi matin. #logement` });
      threads++;
      const root = /\/threads\/(\d+)/.exec(location)?.[1];
      for (let r = 0; root && r < i % 4; r++) await (r % 2 ? secretary : member).expectRedirect(`/groups/${slug}/threads`, { text: `Réponse ${r + 1} : d'accord pour un samedi sur deux.`, in_reply_to_id: root });
    }
  }
  const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);
  let actionId = 0;
  let actions = 0;
  for (let c = 0; c < CAMPAIGNS; c++) {
    const location = await secretary.expectRedirect("/campaigns", { title: `Campagne ${c + 1} : transports gratuits`, description: "Porte-à-porte et tractage.", starts: day(-20), ends: day(60), goal_doors: "5000", goal_leaflets: "20000" });
    const campaignId = /\/campaigns\/(\d+)/.exec(location)?.[1];
    if (!campaignId) throw new Error(`no campaign in ${location}`);
    for (let a = 0; a < ACTIONS_PER_CAMPAIGN; a++) {
      const where = await secretary.expectRedirect(`/campaigns/${campaignId}/actions`, {
        type: a % 2 ? "leafleting" : "door_to_door",
        title: `Action ${a + 1} de la campagne ${c + 1}`,
        start: `${day(a * 3 + 1)}T09:00`,
        end: `${day(a * 3 + 1)}T13:00`,
        timezone: "Europe/Paris",
        meeting_point: "Place de la mairie",
        shift_start_1: "09:00", shift_end_1: "11:00", shift_capacity_1: "6",
        shift_start_2: "11:00", shift_end_2: "13:00", shift_capacity_2: "6",
      });
      const id = Number(/\/actions\/(\d+)/.exec(where)?.[1]);
      if (!id) throw new Error(`no action in ${where}`);
      actions++;
      actionId ||= id;
      const shift = server.query<{ id: number }>("select id from shifts where action_id = ? order by start_at limit 1", id)[0];
      if (shift) await member.expectRedirect(`/actions/${id}/shifts/${shift.id}/signup`, {});
    }
  }
  return { slug: "groupe0", threads, actionId, actions };
}

/** `federation: false` leaves out the fédération's dashboard (and its 2 minutes of setting up); `durationS` is per page and client count. */
export async function pagesBenchmark({ federation = true, durationS = DURATION_S }: { federation?: boolean; durationS?: number } = {}): Promise<PagesResult> {
  const load = loadAverage();
  const figures: PageFigure[] = [];
  const s = await startServer("coopol", "pages", { timeoutMs: 60_000 });
  let section: PagesResult["section"];
  try {
    const began = performance.now();
    for (const [username, role] of [["secretaire", "secretary"], ["militante", "member"]]) {
      const added = s.cli(["member", "add", "--username", username!, "--role", role!], `${PASSWORD}\n`);
      if (added.status !== 0) throw new Error(`member add ${username}: ${added.stderr}`);
    }
    log(`pages: seeding ${MEMBERS} members, ${POSTS} posts, ${EVENTS} events in-process`);
    const bulk = await seedBulk(s, "militante");
    const secretary = new FormClient(s.origin);
    const member = new FormClient(s.origin);
    await secretary.expectRedirect("/login", { username: "secretaire", password: PASSWORD, next: "/" });
    await member.expectRedirect("/login", { username: "militante", password: PASSWORD, next: "/" });
    log(`pages: seeding ${GROUPS} groups, ${CAMPAIGNS} campaigns with actions and shifts through the forms`);
    const formed = await seedForms(s, secretary, member);
    section = { members: MEMBERS, posts: POSTS, events: EVENTS, groups: GROUPS, threads: formed.threads, campaigns: CAMPAIGNS, actions: formed.actions, notifications: bulk.notifications, seedSeconds: (performance.now() - began) / 1000 };

    // Raw reads of what the list pages show, on the same file, for the ratio.
    const raw = openDatabase(join(s.dataDir, "coopol.sqlite")).$client;
    const me = raw.prepare<[], { id: number; actor_id: number }>("select id, actor_id from users where username = 'militante'").get()!;
    const home = raw.prepare(RAW_HOME);
    const month = raw.prepare(RAW_MONTH);
    const now = new Date();
    const monthKey = now.toISOString().slice(0, 7);
    const from = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
    const to = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - 1;
    const notes = raw.prepare(`select * from notifications where user_id = ? order by id desc limit ${NOTIFICATIONS_PAGE}`);
    // The members page reads one page (50) of members with their actor, and counts them all.
    const members = raw.prepare(`select * from users join actors on actors.id = users.actor_id order by users.username limit ${MEMBERS_PAGE}`);
    const memberCount = raw.prepare("select count(*) from users join actors on actors.id = users.actor_id");
    const rawOf = (work: () => unknown) => timeLoop("raw", 300, 1000, work).p50;
    const rawHome = rawOf(() => home.all({ userId: me.id, actorId: me.actor_id, cardHolder: 1 }));
    const rawMonth = rawOf(() => month.all(to, from, to));
    const rawNotes = rawOf(() => notes.all(me.id));
    const rawMembers = rawOf(() => [members.all(), memberCount.get()]);
    raw.close();

    log(`pages: autocannon, 1 then 10 clients, ${WARMUP_S} s warm-up + ${durationS} s per page`);
    const m = member.cookie();
    const list: Array<[string, string, string, number?]> = [
      ["home timeline (member)", "/", m, rawHome],
      ["notifications (member)", "/notifications", m, rawNotes],
      ["agenda, list (member)", "/agenda", m],
      ["agenda, month view (member)", `/agenda?month=${monthKey}`, m, rawMonth],
      ["event page (member)", `/events/${bulk.eventId}`, m],
      ["groups directory (member)", "/groups", m],
      ["group page (member)", `/groups/${formed.slug}`, m],
      ["members list (secretary)", "/members", secretary.cookie(), rawMembers],
      // A search by part of a name, accents aside (« Membre 12 », « Membre 120 »…).
      ["members search (secretary)", "/members?q=membre%2012", secretary.cookie()],
      ["campaigns (member)", "/campaigns", m],
      ["action page (member)", `/actions/${formed.actionId}`, m],
    ];
    for (const [name, path, cookie, rawMs] of list) figures.push(...(await measurePage(s, name, path, cookie, durationS, rawMs)));
  } finally {
    await s.dispose();
  }

  // The fédération of bench/territory.ts, its dashboard page measured before it stops.
  if (!federation) return { section: section!, figures, load };
  log("pages: the fédération of bench/territory.ts (100 sections × 100 results), then its /dashboard page");
  await territoryBenchmark({
    sections: 100,
    resultsPerSection: 100,
    beforeStop: async (fed) => {
      const secretary = new FormClient(fed.origin);
      await secretary.expectRedirect("/login", { username: "secretaire", password: PASSWORD, next: "/" });
      figures.push(...(await measurePage(fed, "fédération dashboard, 100 sections (secretary)", "/dashboard", secretary.cookie(), durationS)));
    },
  });
  return { section: section!, figures, load };
}

export function pagesReport(r: PagesResult): string[] {
  const s = r.section;
  return [
    `Web pages: a section of ${s.members} members, ${s.posts} posts (${s.notifications} mentioning the member), ${s.events} events (10 recurring), ${s.groups} groups (${s.threads} threads), ${s.campaigns} campaigns (${s.actions} actions with shifts); seeded in ${s.seedSeconds.toFixed(0)} s`,
    table(
      ["Page (session cookie)", "clients", "req/s", "p50", "p99", "not OK", "CPU/req", "size", "raw SQL p50", "p50 / raw", "target p99", ""],
      r.figures.map((f) => {
        const ten = f.connections === 10;
        return [
          `GET ${f.path.replace(/\?month=.*/, "?month=…")} — ${f.name}`,
          String(f.connections),
          num(f.rps),
          lat(f.p50),
          lat(f.p99),
          String(f.bad),
          ms(f.cpuMs),
          `${(f.bytes / 1024).toFixed(1)} KiB`,
          f.rawMs !== undefined ? ms(f.rawMs) : "",
          f.rawMs !== undefined ? `× ${Math.round(Math.max(f.p50, 1) / Math.max(f.rawMs, 0.001))}` : "",
          ten ? `< ${TARGET_P99_MS} ms` : "",
          ten ? (f.p99 < TARGET_P99_MS ? "met" : "MISSED") : "",
        ];
      }),
    ),
    ...r.figures.filter((f) => f.note).map((f) => `  ${f.path}: ${f.note}`),
    "  autocannon measures whole milliseconds: a p50 of 1 ms makes the ratio to the raw read an upper bound of the overhead, not a measure of it.",
  ];
}

if (import.meta.main) {
  const durationS = numberOption(process.argv, "seconds");
  runAlone("pages", () => pagesBenchmark({ federation: !process.argv.includes("--no-federation"), durationS }), pagesReport);
}
