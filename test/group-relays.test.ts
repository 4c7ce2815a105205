// What a thematic group relays besides posts (issue 5), with three real
// instances: the group on A, members on A, B and C. Likes (and their undo)
// reach every member's copy of a post through the group's Announce; a thread's
// title survives the group's boost; in a members-only group an edit by an
// author of a third server reaches the other members; reports notify the
// group's moderators (Mastodon API); a group's image is its avatar everywhere.
import t from "tap";
import { memberSession as session, eventually, startInstance, type TestInstance } from "./helpers/instances.ts";
import { WebSession } from "./helpers/browser-session.ts";
import { apiToken } from "./helpers/oauth.ts";
import { DEFAULT_AVATAR_PNG } from "../src/media/default-avatar.ts";

let a: TestInstance, b: TestInstance, c: TestInstance;
const host = (i: TestInstance) => `127.0.0.1:${i.port}`;
let velo = "";
let interne = "";


const postLike = (instance: TestInstance, needle: string) =>
  instance.query<{ id: number; uri: string; favourites_count: number; content: string }>("select id, uri, favourites_count, content from posts where content like ? and reblog_of_id is null", `%${needle}%`)[0];
const likesOn = (instance: TestInstance, needle: string) => postLike(instance, needle)?.favourites_count ?? -1;

function accepted(instance: TestInstance, username: string, group: string): boolean {
  return (
    instance.query("select 1 from follows f join actors m on m.id = f.follower_id join actors g on g.id = f.following_id where m.username = ? and m.local = 1 and g.uri = ? and f.accepted_at is not null", username, group)
      .length === 1
  );
}

async function join(instance: TestInstance, username: string, group: string, handle: string): Promise<void> {
  const s = await session(instance, username);
  const res = await s.post("/groups/join", { handle });
  if (res.status !== 303) throw new Error(`join ${username}: ${res.status} ${res.body.slice(0, 300)}`);
  await eventually(() => accepted(instance, username, group), 15_000, `${username} accepted in ${group}`);
}

t.before(async () => {
  [a, b, c] = await Promise.all([startInstance("ra"), startInstance("rb"), startInstance("rc")]);
  a.addMember("alice");
  a.addMember("amelie");
  a.addMember("mod");
  b.addMember("bob");
  b.addMember("bruno");
  c.addMember("carol");
  c.addMember("dora");
  velo = `${a.origin}/users/g_velo`;
  interne = `${a.origin}/users/g_interne`;
  const alice = await session(a, "alice");
  for (const [name, slug, visibility] of [["Vélo", "velo", "public"], ["Interne", "interne", "members"]] as const) {
    const res = await alice.post("/groups", { name, slug, policy: "fediverse", visibility });
    if (res.status !== 303) throw new Error(`group ${slug}: ${res.status}`);
  }
  for (const slug of ["velo", "interne"]) {
    for (const name of ["amelie", "mod"]) await (await session(a, name)).post(`/groups/${slug}/join`, {});
  }
  const modId = a.query<{ id: number }>("select id from actors where username = 'mod' and local = 1")[0]!.id;
  await alice.post(`/groups/velo/members/${modId}`, { action: "moderator" });
  for (const [group, slug] of [[velo, "velo"], [interne, "interne"]] as const) {
    await join(b, "bob", group, `@g_${slug}@${host(a)}`);
    await join(c, "carol", group, `@g_${slug}@${host(a)}`);
  }
  await join(b, "bruno", velo, `@g_velo@${host(a)}`);
});

t.teardown(async () => {
  await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
});

t.test("a thread's title reaches members' instances with the group's boost", async (t) => {
  const alice = await session(a, "alice");
  t.equal((await alice.post("/groups/velo/threads", { title: "Pistes cyclables", text: "Où manque-t-il des pistes PISTES ?" })).status, 303);
  for (const instance of [b, c]) {
    const row = await eventually(
      () => instance.query<{ title: string | null }>("select group_posts.title from group_posts join posts on posts.id = group_posts.post_id where posts.content like '%PISTES%'")[0],
      15_000,
      `the thread on ${instance.name}`,
    );
    t.equal(row.title, "Pistes cyclables", `${instance.name} keeps the thread's title`);
  }
  // Carol (C) follows bob (B): she gets bob's thread directly before the group's boost; its title is still kept.
  const carol = await session(c, "carol");
  t.equal((await carol.post("/follow", { target: `@bob@${host(b)}` })).status, 303);
  await eventually(() => b.query("select 1 from follows f join actors x on x.id = f.follower_id where x.uri = ? and f.accepted_at is not null", `${c.origin}/users/carol`).length === 1, 15_000, "carol follows bob");
  const bob = await session(b, "bob");
  const groupId = b.query<{ id: number }>("select groups.id from groups join actors on actors.id = groups.actor_id where actors.uri = ?", velo)[0]!.id;
  const opened = await bob.post(`/debate/${groupId}/proposals`, { title: "Stationnement vélo", text: "Des arceaux partout ARCEAUX" });
  t.equal(opened.status, 303, opened.body.slice(0, 300));
  const row = await eventually(
    () => c.query<{ title: string | null }>("select group_posts.title from group_posts join posts on posts.id = group_posts.post_id where posts.content like '%ARCEAUX%'")[0],
    15_000,
    "bob's thread in the group on C",
  );
  t.equal(row.title, "Stationnement vélo");
});

t.test("likes of a group post are relayed by the group to every member's instance", async (t) => {
  const onB = await eventually(() => postLike(b, "PISTES"), 15_000, "the thread on B");
  await eventually(() => postLike(c, "PISTES"), 15_000, "the thread on C");
  const bob = await session(b, "bob");
  t.equal((await bob.post(`/posts/${onB.id}/like`, {})).status, 303);
  await eventually(() => likesOn(a, "PISTES") === 1, 15_000, "A (the author's and group's server) counts bob's like");
  await eventually(() => likesOn(c, "PISTES") === 1, 15_000, "C counts it through the group's Announce(Like)");
  t.equal(c.query("select 1 from likes join actors on actors.id = likes.actor_id where actors.uri = ?", `${b.origin}/users/bob`).length, 1, "as bob's like");

  // A local member's like on A reaches B and C too.
  const amelie = await session(a, "amelie");
  t.equal((await amelie.post(`/posts/${postLike(a, "PISTES")!.id}/like`, {})).status, 303);
  await eventually(() => likesOn(b, "PISTES") === 2 && likesOn(c, "PISTES") === 2, 15_000, "amelie's like on B and C");

  // A like of carol's post (author on C): B sends it to C (the author) and to A (the group), which relays it.
  const carol = await session(c, "carol");
  await carol.publish(`@g_velo@${host(a)} Un atelier de réparation REPARATION`);
  const repB = await eventually(() => postLike(b, "REPARATION"), 15_000, "carol's post on B");
  await eventually(() => postLike(a, "REPARATION"), 15_000, "carol's post on A");
  const bruno = await session(b, "bruno");
  t.equal((await bruno.post(`/posts/${repB.id}/like`, {})).status, 303);
  await eventually(() => likesOn(c, "REPARATION") === 1, 15_000, "C (the author) counts it");
  await eventually(() => likesOn(a, "REPARATION") === 1, 15_000, "A (the group) counts it");

  // Undone: relayed too.
  t.equal((await bob.post(`/posts/${onB.id}/unlike`, {})).status, 303);
  await eventually(() => likesOn(a, "PISTES") === 1, 15_000, "A drops bob's like");
  await eventually(() => likesOn(c, "PISTES") === 1, 15_000, "C drops it through the group's Announce(Undo)");

  // Not a member: dora (C) likes the thread; A counts it, the group relays nothing.
  const dora = await session(c, "dora");
  const onC = postLike(c, "PISTES")!;
  t.equal((await dora.post(`/posts/${onC.id}/like`, {})).status, 303);
  await eventually(() => likesOn(a, "PISTES") === 2, 15_000, "A counts dora's like");
  await new Promise((r) => setTimeout(r, 1500));
  t.equal(likesOn(b, "PISTES"), 1, "B never hears of a non-member's like");

  // Banned: bruno's likes are no longer relayed.
  const alice = await session(a, "alice");
  const brunoOnA = a.query<{ id: number }>("select id from actors where uri = ?", `${b.origin}/users/bruno`)[0]!.id;
  t.equal((await alice.post(`/groups/velo/members/${brunoOnA}`, { action: "ban" })).status, 303);
  t.equal((await bruno.post(`/posts/${onB.id}/like`, {})).status, 303);
  await eventually(() => likesOn(a, "PISTES") === 3, 15_000, "A counts the banned member's like on the post itself");
  await new Promise((r) => setTimeout(r, 1500));
  const brunoLikes = c.query("select 1 from likes join actors on actors.id = likes.actor_id where actors.uri = ? and likes.post_id = ?", `${b.origin}/users/bruno`, onC.id);
  t.equal(brunoLikes.length, 0, "C never hears of it");
  t.equal(likesOn(c, "PISTES"), 2, "C counts amelie's like and its own dora's");
});

t.test("members-only group: an edit by an author on a third server reaches the other members", async (t) => {
  const carol = await session(c, "carol");
  await carol.publish(`@g_interne@${host(a)} Ordre du jour CONFIDENTIEL version 1`);
  const onC = postLike(c, "CONFIDENTIEL")!;
  await eventually(() => postLike(a, "CONFIDENTIEL"), 15_000, "A has carol's post");
  await eventually(() => postLike(b, "CONFIDENTIEL"), 15_000, "B has it through the group's Announce(Create)");
  t.equal((await carol.post(`/posts/${onC.id}/edit`, { text: `@g_interne@${host(a)} Ordre du jour CONFIDENTIEL version 2` })).status, 303);
  await eventually(() => postLike(a, "CONFIDENTIEL")?.content.includes("version 2"), 15_000, "A has the edit");
  await eventually(() => postLike(b, "CONFIDENTIEL")?.content.includes("version 2"), 15_000, "B has the edit through the group");
  t.pass("edit relayed");
});

t.test("reports of a group post notify the group's owner and moderators (admin.report)", async (t) => {
  // Bob (B) reports carol's post (author on C) in A's group: a Flag goes to A and C.
  const onB = postLike(b, "REPARATION")!;
  const onA = postLike(a, "REPARATION")!;
  const bob = await session(b, "bob");
  t.equal((await bob.post(`/moderation/flag/${onB.id}`, { comment: "Publicité déguisée", back: "/" })).status, 303);
  await eventually(() => a.query("select 1 from post_flags where post_id = ?", onA.id).length === 1, 15_000, "A stored the Flag");
  // Amelie (A) reports it too, locally.
  const amelie = await session(a, "amelie");
  t.equal((await amelie.post(`/moderation/flag/${onA.id}`, { comment: "Hors sujet", back: "/" })).status, 303);

  const notifications = async (username: string, path = "/api/v1/notifications?types[]=admin.report") => {
    const token = await apiToken(a.origin, username);
    const res = await fetch(`${a.origin}${path}`, { headers: { authorization: `Bearer ${token}` } });
    t.equal(res.status, 200);
    return res.json() as Promise<Array<Record<string, any>>>;
  };
  for (const name of ["alice", "mod"]) {
    const list = await notifications(name);
    t.equal(list.length, 2, `${name} is told of both reports`);
    const remote = list.find((n) => n.report.comment === "Publicité déguisée")!;
    t.equal(remote.type, "admin.report");
    t.equal(remote.status, null, "no status, as on Mastodon");
    t.equal(remote.account.acct, `instance@${host(b)}`, "from B's instance actor, as the Flag came");
    t.same(remote.report.status_ids, [String(onA.id)]);
    t.equal(remote.report.target_account.acct, `carol@${host(c)}`);
    t.equal(remote.report.forwarded, true);
    t.equal(remote.report.action_taken, false);
    const local = list.find((n) => n.report.comment === "Hors sujet")!;
    t.equal(local.account.acct, "instance", "a group moderator is not told which member reported");
    t.equal(local.report.forwarded, false);
  }
  t.equal((await notifications("amelie")).length, 0, "the reporter and plain members are not told");
  const grouped = (await notifications("mod", "/api/v2/notifications?types[]=admin.report")) as unknown as { notification_groups: Array<{ type: string; report?: { comment: string } }> };
  t.equal(grouped.notification_groups.length, 2);
  t.ok(grouped.notification_groups.every((g) => g.type === "admin.report" && g.report?.comment), "grouped notifications carry the report");
});

t.test("a group's image, uploaded on its settings page, is its actor's icon and its avatar in apps", async (t) => {
  const file = { field: "avatar", fileName: "velo.png", type: "image/png", data: DEFAULT_AVATAR_PNG };
  const amelie = await session(a, "amelie");
  t.equal((await amelie.postMultipart("/groups/velo/avatar", {}, [file])).status, 403, "a plain member cannot");
  const mod = await session(a, "mod");
  t.equal((await mod.postMultipart("/groups/velo/avatar", {}, [{ ...file, data: Buffer.from("pas une image") }])).status, 422, "not an image");
  t.match((await mod.get("/groups/velo/manage/settings")).body, 'enctype="multipart/form-data"', "the form is on the group's settings page for moderators");
  const saved = await mod.postMultipart("/groups/velo/avatar", {}, [file]);
  t.equal(saved.status, 303, saved.body.slice(0, 300));
  const doc = JSON.parse((await new WebSession(a.origin).get("/users/g_velo", { accept: "application/activity+json" })).body);
  const iconUrl = (doc.icon?.url?.href ?? doc.icon?.url) as string;
  t.match(iconUrl, new RegExp(`^${a.origin}/media/`), "the Group's icon");
  const image = await fetch(iconUrl);
  t.equal(image.headers.get("content-type"), "image/png");
  t.same(Buffer.from(await image.arrayBuffer()), DEFAULT_AVATAR_PNG);
  t.match((await new WebSession(a.origin).get("/groups/velo")).body, iconUrl, "shown on the group's page");
  const token = await apiToken(a.origin, "amelie");
  const account = await (await fetch(`${a.origin}/api/v1/accounts/lookup?acct=g_velo`, { headers: { authorization: `Bearer ${token}` } })).json() as { avatar: string; group: boolean };
  t.equal(account.avatar, iconUrl, "the group's avatar in Mastodon apps");
  // Members' servers learn it from the group's Update.
  await eventually(() => c.query<{ avatar_url: string | null }>("select avatar_url from actors where uri = ?", velo)[0]?.avatar_url === iconUrl, 15_000, "C has the group's avatar");
  const tokenC = await apiToken(c.origin, "carol");
  const onC = await (await fetch(`${c.origin}/api/v1/accounts/lookup?acct=${encodeURIComponent(`g_velo@${host(a)}`)}`, { headers: { authorization: `Bearer ${tokenC}` } })).json() as { avatar: string };
  t.equal(onC.avatar, iconUrl, "and shows it in apps there");
});
