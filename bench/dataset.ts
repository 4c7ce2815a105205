// The home timeline benchmark's data set: one section with 10,000 local
// members, a follow graph of about 50 accepted follows each, 1,000,000 posts
// over one year, and their home timeline entries as fanOut() would have
// written them. It is built once into a SQLite file in the temporary
// directory and reused: bump DATASET_VERSION when what it holds must change.
//
//   node bench/dataset.ts           builds it if missing, prints what it holds
//   node bench/dataset.ts --force   rebuilds it
//
// The file takes about 4 GiB (56 million timeline entries), in os.tmpdir() or
// in COOPOL_BENCH_CACHE; bench/timeline.ts needs as much again for its copy.
//
// The schema comes from openDatabase() (the migrations); the rows are written
// with prepared statements in large transactions, and the fan-out with one
// set-based INSERT … SELECT per batch of members, in (user_id, post_id) order
// so that the timeline_entries index is only ever appended to.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatText } from "../src/posts/content.ts";
import { openDatabase } from "../src/storage/db.ts";

/** Change it whenever the generator changes what it writes: the cached file is then rebuilt. */
export const DATASET_VERSION = 1;
export const MEMBERS = 10_000;
export const POSTS = 1_000_000;
export const ORIGIN = "https://bench.example";
const HOST = new URL(ORIGIN).host;

/** Follows per member: uniformly 30…70 (50 on average), 2 % still pending. */
const FOLLOWS_MIN = 30;
const FOLLOWS_MAX = 70;
/** Of the follows, the share aimed at prolific authors rather than anyone. */
const POPULAR_FOLLOWS = 0.25;
const PENDING_FOLLOWS = 0.02;
/** Likes per member: 10…30. */
const LIKES_MIN = 10;
const LIKES_MAX = 30;
/** Fan-out batch: this many members per INSERT … SELECT. */
const FANOUT_BATCH = 100;

/** The posts span the year before END; members and follows come before. */
const END = Date.UTC(2026, 0, 1);
const SPAN = 365 * 86_400_000;
const START = END - SPAN;
const STEP = Math.floor(SPAN / POSTS);
const MEMBERS_FROM = START - 90 * 86_400_000;
const FOLLOWS_FROM = START - 30 * 86_400_000;

/** What newId() would have returned at that millisecond, the seq-th time. */
const idOf = (ms: number, seq = 0) => ms * 1024 + seq;

export type Vis = "public" | "unlisted" | "private" | "section" | "direct";
const VIS: Vis[] = ["public", "unlisted", "private", "section", "direct"];
const [PUBLIC, UNLISTED, PRIVATE, SECTION, DIRECT] = [0, 1, 2, 3, 4] as const;

export interface DatasetInfo {
  file: string;
  version: number;
  members: number;
  sympathisants: number;
  posts: number;
  follows: number;
  mentions: number;
  likes: number;
  filters: number;
  timelineEntries: number;
  sizeMiB: number;
  /** Seconds the generation took (when it was built). */
  generationSeconds: number;
  /** True when this call built it; false when the cached file was reused. */
  generatedNow: boolean;
}

export function datasetFile(dir = process.env.COOPOL_BENCH_CACHE || tmpdir()): string {
  return join(dir, `coopol-bench-timeline-v${DATASET_VERSION}.sqlite`);
}

const metaFile = (file: string) => file.replace(/\.sqlite$/, ".json");

/** mulberry32: small, fast, and the same numbers on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const username = (k: number) => `m${String(k).padStart(5, "0")}`;

const FIRST = ["Camille", "Dominique", "Claude", "Alex", "Sacha", "Lou", "Maxime", "Charlie", "Jeanne", "Louise", "Karim", "Fatou", "Yanis", "Inès", "Hugo", "Léa", "Nadia", "Paul", "Chloé", "Mehdi"];
const LAST = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Roux", "Diallo", "Nguyen", "Benali", "Fontaine"];
const SENTENCES = [
  "Réunion de section jeudi à 19 h à la salle des fêtes, ordre du jour en pièce jointe.",
  "Merci à toutes celles et ceux qui ont tracté ce matin au marché, belle mobilisation !",
  "Le compte rendu du conseil municipal est en ligne, à lire avant notre prochaine assemblée.",
  "Qui peut tenir le stand samedi de 10 h à 13 h ? Il nous manque encore deux personnes.",
  "Débat public sur les transports en commun mardi prochain, venez nombreuses et nombreux.",
  "Rappel : les cotisations de l'année sont à régler avant la fin du mois auprès de la trésorière.",
  "Formation « prise de parole en public » complète, une deuxième session est prévue en mars.",
  "Très bon échange hier soir avec les associations de locataires du quartier.",
  "Pétition pour la réouverture du bureau de poste : 1 200 signatures en une semaine !",
  "Covoiturage pour la manifestation régionale : départ 8 h place de la mairie.",
  "Nous cherchons des volontaires pour relire la motion avant le congrès.",
  "Le journal de la section est imprimé, distribution dans les boîtes aux lettres ce week-end.",
  "Atelier d'écriture de tracts ouvert à tous les adhérents, sans inscription.",
  "Bravo aux camarades élus au conseil départemental, le travail commence maintenant.",
  "Repas partagé après l'assemblée générale, chacun apporte un plat.",
  "La commission environnement se réunit en visio lundi, lien envoyé par courriel.",
  "Point presse demain à 11 h devant l'hôpital pour défendre la maternité.",
  "Le porte-à-porte de samedi a permis de rencontrer plus de 300 habitantes et habitants.",
  "Nouvel article sur notre site : bilan de la campagne pour le logement.",
  "Merci pour vos retours sur le programme, une synthèse sera présentée jeudi.",
];
const TAGS = ["section", "reunion", "tractage", "logement", "transports", "ecologie", "sante", "ecole", "municipales", "congres", "manif", "retraites", "salaires", "quartier", "agenda", "formation", "petition", "budget", "culture", "jeunesse"];

/** Author of a post: a few members write a lot, most write a little (share of posts ∝ k^-0.375). */
const skewed = (u: number) => Math.min(MEMBERS - 1, Math.floor(MEMBERS * u ** 1.6));

class Progress {
  private last = -1;
  private readonly tty = !!process.stderr.isTTY;
  private readonly weights: Record<string, number>;
  constructor(weights: Record<string, number>) {
    this.weights = weights;
  }
  /** done: 0…1 within the named step. */
  report(step: string, done: number): void {
    const names = Object.keys(this.weights);
    const total = names.reduce((s, n) => s + this.weights[n]!, 0);
    const before = names.slice(0, names.indexOf(step)).reduce((s, n) => s + this.weights[n]!, 0);
    const pct = Math.floor(((before + this.weights[step]! * done) / total) * 100);
    if (pct === this.last || (!this.tty && pct % 5 !== 0 && pct !== 100)) return;
    this.last = pct;
    const line = `· dataset: ${String(pct).padStart(3)} % (${step})`;
    process.stderr.write(this.tty ? `\r${line.padEnd(50)}${pct === 100 ? "\n" : ""}` : `${line}\n`);
  }
}

/**
 * Returns the data set's file, building it first if it is missing or of
 * another version. Generation prints its progress on stderr.
 */
export function ensureDataset(options: { force?: boolean; file?: string } = {}): DatasetInfo {
  const file = options.file ?? datasetFile();
  if (!options.force && existsSync(file) && existsSync(metaFile(file))) {
    const info = JSON.parse(readFileSync(metaFile(file), "utf8")) as DatasetInfo;
    if (info.version === DATASET_VERSION) return { ...info, file, sizeMiB: statSync(file).size / 1024 ** 2, generatedNow: false };
  }
  removeOldVersions(file);
  const began = performance.now();
  // Another run may be building it at the same time: each writes its own file, the last rename wins.
  const partial = `${file}.${process.pid}.partial`;
  for (const f of [partial, `${partial}-wal`, `${partial}-shm`, `${partial}-journal`]) rmSync(f, { force: true });
  const counts = generate(partial);
  rmSync(metaFile(file), { force: true });
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  renameSync(partial, file);
  const info: DatasetInfo = {
    file,
    version: DATASET_VERSION,
    ...counts,
    sizeMiB: statSync(file).size / 1024 ** 2,
    generationSeconds: (performance.now() - began) / 1000,
    generatedNow: true,
  };
  writeFileSync(metaFile(file), JSON.stringify(info, null, 2));
  return info;
}

/** Older versions of the cached file take gigabytes: they go when a new one is built. */
function removeOldVersions(file: string): void {
  const dir = join(file, "..");
  for (const name of readdirSync(dir)) {
    if (/^coopol-bench-timeline-v\d+\.(sqlite|json)(\.\d+\.partial)?(-wal|-shm|-journal)?$/.test(name) && !join(dir, name).startsWith(file.replace(/\.sqlite$/, "."))) {
      rmSync(join(dir, name), { force: true });
    }
  }
}

function generate(file: string): Omit<DatasetInfo, "file" | "version" | "sizeMiB" | "generationSeconds" | "generatedNow"> {
  const progress = new Progress({ members: 1, follows: 3, plan: 2, posts: 25, likes: 2, fanout: 50, finish: 4 });
  // The migrations make the schema, exactly as an instance's first start does.
  const db = openDatabase(file).$client;
  // A throw-away file being filled: no journal, no fsync, no foreign-key checks
  // (the rows are consistent by construction), a large page cache.
  db.pragma("journal_mode = OFF");
  db.pragma("synchronous = OFF");
  db.pragma("foreign_keys = OFF");
  db.pragma("cache_size = -1000000");
  db.pragma("temp_store = MEMORY");
  db.pragma("locking_mode = EXCLUSIVE");
  const rand = prng(20260101);
  const pick = (n: number) => Math.floor(rand() * n);
  const between = (lo: number, hi: number) => lo + pick(hi - lo + 1);

  // ---- members: actors + users (createMemberWithHash's rows) ------------
  const actorIds = new Array<number>(MEMBERS);
  const userIds = new Array<number>(MEMBERS);
  const roles = new Array<string>(MEMBERS);
  const insertActor = db.prepare(
    `insert into actors (id, uri, type, username, domain, local, name, summary, url, inbox_url, shared_inbox_url, followers_url, locked, created_at, updated_at)
     values (?, ?, 'Person', ?, ?, 1, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
  );
  const insertUser = db.prepare(`insert into users (id, actor_id, username, password_hash, role, locale, created_at, last_login_at) values (?, ?, ?, ?, ?, 'fr', ?, ?)`);
  let sympathisants = 0;
  db.transaction(() => {
    for (let k = 0; k < MEMBERS; k++) {
      const at = MEMBERS_FROM + k * 60_000;
      const name = username(k);
      actorIds[k] = idOf(at, 0);
      userIds[k] = idOf(at, 1);
      const role = k === 0 ? "admin" : k === 1 ? "secretary" : k < 5 ? "moderator" : rand() < 0.08 ? "sympathisant" : "member";
      if (role === "sympathisant") sympathisants++;
      roles[k] = role;
      insertActor.run(
        actorIds[k], `${ORIGIN}/users/${name}`, name, HOST, `${FIRST[pick(FIRST.length)]} ${LAST[pick(LAST.length)]}`,
        "<p>Adhérent·e de la section.</p>", `${ORIGIN}/@${name}`, `${ORIGIN}/users/${name}/inbox`, `${ORIGIN}/inbox`, `${ORIGIN}/users/${name}/followers`, at, at,
      );
      // Never a real scrypt hash: nobody logs in with a password here.
      insertUser.run(userIds[k], actorIds[k], name, "scrypt$bench$not-a-password-hash", role, at, END - pick(30) * 86_400_000);
    }
  })();
  progress.report("members", 1);

  // ---- follow graph ------------------------------------------------------
  const following: number[][] = Array.from({ length: MEMBERS }, () => []);
  const insertFollow = db.prepare(`insert into follows (id, follower_id, following_id, uri, accepted_at, created_at) values (?, ?, ?, ?, ?, ?)`);
  let follows = 0;
  db.transaction(() => {
    for (let k = 0; k < MEMBERS; k++) {
      const wanted = between(FOLLOWS_MIN, FOLLOWS_MAX);
      const targets = new Set<number>();
      while (targets.size < wanted) {
        const t = rand() < POPULAR_FOLLOWS ? skewed(rand()) : pick(MEMBERS);
        if (t !== k) targets.add(t);
      }
      for (const t of [...targets].sort((x, y) => x - y)) {
        const id = idOf(FOLLOWS_FROM, follows++);
        const at = Math.floor(id / 1024);
        const accepted = rand() >= PENDING_FOLLOWS;
        insertFollow.run(id, actorIds[k], actorIds[t], `${ORIGIN}/users/${username(k)}/follows/${id}`, accepted ? at + 1000 : null, at);
        if (accepted) following[k]!.push(t);
      }
      if (k % 500 === 0) progress.report("follows", k / MEMBERS);
    }
  })();
  // A few members mute or block someone they follow: notFilteredBy() has work to do.
  const insertFilter = db.prepare(`insert or ignore into actor_filters (user_id, target_id, kind, notifications) values (?, ?, ?, 1)`);
  let filters = 0;
  db.transaction(() => {
    for (let k = 0; k < MEMBERS; k++) {
      if (rand() >= 0.05 || following[k]!.length === 0) continue;
      for (let n = between(1, 2); n > 0; n--) {
        filters += insertFilter.run(userIds[k], actorIds[following[k]![pick(following[k]!.length)]!], rand() < 0.7 ? "mute" : "block").changes;
      }
    }
  })();
  progress.report("follows", 1);

  // ---- plan every post first, so counters are right when rows are written --
  const author = new Int32Array(POSTS);
  const vis = new Uint8Array(POSTS);
  const sympa = new Uint8Array(POSTS);
  const parent = new Int32Array(POSTS).fill(-1);
  const boosted = new Int32Array(POSTS).fill(-1);
  const published = new Float64Array(POSTS);
  const replies = new Int32Array(POSTS);
  const reblogs = new Int32Array(POSTS);
  const favourites = new Int32Array(POSTS);
  /** Mentioned members per post, as [post, member] pairs. */
  const mentioned: number[] = [];
  const drawVisibility = () => {
    const r = rand();
    return r < 0.78 ? PUBLIC : r < 0.86 ? UNLISTED : r < 0.94 ? PRIVATE : r < 0.985 ? SECTION : DIRECT;
  };
  for (let i = 0; i < POSTS; i++) {
    published[i] = START + i * STEP + pick(STEP);
    const a = skewed(rand());
    author[i] = a;
    const r = rand();
    if (r < 0.04 && i > 0) {
      // A boost of a recent public or unlisted post by someone else.
      const j = i - 1 - pick(Math.min(i, 5000));
      if (boosted[j] === -1 && vis[j]! <= UNLISTED && author[j] !== a) {
        boosted[i] = j;
        vis[i] = PUBLIC;
        reblogs[j]!++;
        continue;
      }
    }
    let v = drawVisibility();
    if (r > 0.8 && i > 0) {
      // A reply to a recent post that is not a boost; section threads stay section.
      const j = i - 1 - pick(Math.min(i, 2000));
      if (boosted[j] === -1 && vis[j] !== DIRECT) {
        parent[i] = j;
        replies[j]!++;
        if (vis[j] === SECTION) {
          v = SECTION;
          sympa[i] = sympa[j]!;
        }
        if (author[j] !== a) mentioned.push(i, author[j]!);
      }
    }
    vis[i] = v;
    if (v === SECTION && parent[i] === -1) sympa[i] = rand() < 0.3 ? 1 : 0;
    const extra = v === DIRECT ? between(1, 2) : v === PRIVATE ? (rand() < 0.25 ? 1 : 0) : rand() < 0.06 ? 1 : 0;
    for (let n = 0; n < extra; n++) {
      const m = pick(MEMBERS);
      if (m !== a) mentioned.push(i, m);
    }
    if (i % 50_000 === 0) progress.report("plan", (i / POSTS) * 0.8);
  }
  const likesPlan: Array<[number, number]> = [];
  for (let k = 0; k < MEMBERS; k++) {
    const seen = new Set<number>();
    for (let n = between(LIKES_MIN, LIKES_MAX); n > 0; n--) {
      const i = pick(POSTS);
      if (seen.has(i) || boosted[i] !== -1 || vis[i]! > UNLISTED || author[i] === k) continue;
      seen.add(i);
      favourites[i]!++;
      likesPlan.push([k, i]);
    }
  }
  const mentionsOf = new Map<number, number[]>();
  for (let n = 0; n < mentioned.length; n += 2) {
    const list = mentionsOf.get(mentioned[n]!) ?? [];
    if (!list.includes(mentioned[n + 1]!)) list.push(mentioned[n + 1]!);
    mentionsOf.set(mentioned[n]!, list);
  }
  progress.report("plan", 1);

  // ---- posts, mentions, hashtags ------------------------------------------
  const postId = (i: number) => idOf(published[i]!);
  const postUri = (i: number) => `${ORIGIN}/users/${username(author[i]!)}/posts/${postId(i)}`;
  const insertPost = db.prepare(
    `insert into posts (id, uri, url, actor_id, in_reply_to_id, in_reply_to_uri, reblog_of_id, content, source, summary, sensitive, language, visibility, sympathisants, published_at, replies_count, reblogs_count, favourites_count)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertMention = db.prepare(`insert into mentions (post_id, actor_id) values (?, ?)`);
  const insertTag = db.prepare(`insert or ignore into post_tags (post_id, tag) values (?, ?)`);
  const format = { mentionUrl: (ref: { username: string }) => `${ORIGIN}/@${ref.username}`, tagUrl: (tag: string) => `${ORIGIN}/tags/${encodeURIComponent(tag)}` };
  let mentionRows = 0;
  const CHUNK = 50_000;
  for (let from = 0; from < POSTS; from += CHUNK) {
    db.transaction(() => {
      for (let i = from; i < Math.min(POSTS, from + CHUNK); i++) {
        const id = postId(i);
        const a = author[i]!;
        const name = username(a);
        if (boosted[i] !== -1) {
          const j = boosted[i]!;
          insertPost.run(id, `${ORIGIN}/users/${name}/posts/${id}/activity`, null, actorIds[a], null, null, postId(j), "", null, "", 0, null, "public", 0, published[i], 0, 0, 0);
          continue;
        }
        const people = mentionsOf.get(i) ?? [];
        const tags = rand() < 0.12 ? [TAGS[pick(TAGS.length)]!, ...(rand() < 0.3 ? [TAGS[pick(TAGS.length)]!] : [])] : [];
        let text = people.map((m) => `@${username(m)} `).join("");
        for (let s = between(1, 3); s > 0; s--) text += (text && !text.endsWith(" ") ? " " : "") + SENTENCES[pick(SENTENCES.length)];
        if (tags.length) text += `\n\n${tags.map((t) => `#${t}`).join(" ")}`;
        const cw = rand() < 0.02 ? "Débat interne" : "";
        const p = parent[i]!;
        insertPost.run(
          id, postUri(i), `${ORIGIN}/@${name}/${id}`, actorIds[a], p === -1 ? null : postId(p), p === -1 ? null : postUri(p), null,
          formatText(text, format), text, cw, cw ? 1 : 0, "fr", VIS[vis[i]!], sympa[i], published[i], replies[i], reblogs[i], favourites[i],
        );
        for (const m of people) {
          insertMention.run(id, actorIds[m]);
          mentionRows++;
        }
        for (const t of new Set(tags)) insertTag.run(id, t);
      }
    })();
    progress.report("posts", Math.min(1, (from + CHUNK) / POSTS));
  }

  // ---- likes --------------------------------------------------------------
  const insertLike = db.prepare(`insert into likes (id, actor_id, post_id, uri) values (?, ?, ?, ?)`);
  db.transaction(() => {
    likesPlan.forEach(([k, i], n) => {
      const id = idOf(END, n);
      insertLike.run(id, actorIds[k], postId(i), `${ORIGIN}/users/${username(k)}/likes/${id}`);
    });
  })();
  progress.report("likes", 1);

  // ---- fan-out: what fanOut() writes, for every post at once ---------------
  // author's own account + accepted local followers (not for direct) + mentioned accounts.
  db.exec(`create temp table authored (actor_id integer not null, post_id integer not null, direct integer not null, primary key (actor_id, post_id)) without rowid;
           insert into authored select actor_id, id, visibility = 'direct' from posts order by actor_id, id;`);
  const fanOut = db.prepare(`
    insert or ignore into timeline_entries (user_id, post_id)
    select user_id, post_id from (
      select u.id as user_id, a.post_id from users u join temp.authored a on a.actor_id = u.actor_id
        where u.id between @lo and @hi
      union all
      select u.id, a.post_id from users u
        join follows f on f.follower_id = u.actor_id and f.accepted_at is not null
        join temp.authored a on a.actor_id = f.following_id and a.direct = 0
        where u.id between @lo and @hi
      union all
      select u.id, m.post_id from users u join mentions m on m.actor_id = u.actor_id
        where u.id between @lo and @hi
    ) order by user_id, post_id`);
  let timelineEntries = 0;
  for (let k = 0; k < MEMBERS; k += FANOUT_BATCH) {
    const hi = userIds[Math.min(MEMBERS, k + FANOUT_BATCH) - 1]!;
    db.transaction(() => {
      timelineEntries += fanOut.run({ lo: userIds[k]!, hi }).changes;
    })();
    progress.report("fanout", Math.min(1, (k + FANOUT_BATCH) / MEMBERS));
  }
  db.exec("drop table temp.authored");

  // Back to what an instance expects of its file.
  db.pragma("locking_mode = NORMAL");
  db.pragma("journal_mode = WAL");
  db.close();
  progress.report("finish", 1);
  return { members: MEMBERS, sympathisants, posts: POSTS, follows, mentions: mentionRows, likes: likesPlan.length, filters, timelineEntries };
}

if (import.meta.main) {
  const info = ensureDataset({ force: process.argv.includes("--force") });
  process.stdout.write(
    `${info.file}: ${info.sizeMiB.toFixed(0)} MiB, ${info.members} members (${info.sympathisants} sympathisants), ${info.posts} posts, ` +
      `${info.follows} follows, ${info.mentions} mentions, ${info.likes} likes, ${info.filters} mutes/blocks, ${info.timelineEntries} timeline entries; ` +
      `${info.generatedNow ? "generated" : "cached, generated"} in ${info.generationSeconds.toFixed(1)} s\n`,
  );
}
