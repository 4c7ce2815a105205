// Accounts, invitations, sessions and the first-run link, through the domain
// functions and through the admin CLI as an operator would use it.
import { mkdtempSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { loadConfig } from "../src/config.ts";
import { UserError } from "../src/errors.ts";
import { createInvitation, redeemInvitation } from "../src/members/invitations.ts";
import { memberPage, MEMBERS_PAGE } from "../src/members/manage.ts";
import { authenticate, createMember, createMemberWithHash, disableMember, setRole } from "../src/members/members.ts";
import { hashPassword, verifyPassword } from "../src/members/passwords.ts";
import { LoginRateLimiter } from "../src/members/rate-limit.ts";
import { createSession, sessionUser } from "../src/members/sessions.ts";
import { completeFirstRun, isSetupTokenValid, prepareFirstRun } from "../src/members/setup.ts";
import { openDatabase } from "../src/storage/db.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PASSWORD = "un mot de passe solide";

function fresh() {
  const dir = mkdtempSync(join(tmpdir(), "coopol-members-"));
  const config = loadConfig({ COOPOL_DATA: dir, COOPOL_NAME: "Section Test" });
  return { dir, config, db: openDatabase(join(dir, "coopol.sqlite")) };
}

const code = (error: unknown) => (error instanceof UserError ? error.code : String(error));

t.test("passwords are hashed with scrypt and checked in constant time", async (t) => {
  const hash = await hashPassword(PASSWORD);
  t.match(hash, /^scrypt\$16384\$8\$1\$/);
  t.notMatch(hash, PASSWORD);
  t.ok(await verifyPassword(PASSWORD, hash));
  t.notOk(await verifyPassword("autre chose", hash));
});

t.test("first-run link creates the secretary once", async (t) => {
  const { db, config } = fresh();
  const url = prepareFirstRun(db, config)!;
  t.match(url, `${config.origin}/setup/`);
  const token = url.split("/").pop()!;
  t.ok(isSetupTokenValid(db, token));
  const user = await completeFirstRun(db, config, token, { username: "sec", password: PASSWORD });
  t.equal(user.role, "secretary");
  t.notOk(isSetupTokenValid(db, token), "the link is spent");
  await t.rejects(completeFirstRun(db, config, token, { username: "other", password: PASSWORD }), { code: "setup_link_invalid" });
  t.equal(prepareFirstRun(db, config), null, "no link once an account exists");
});

t.test("invitations are single-use and expire", async (t) => {
  const { db, config } = fresh();
  const now = Date.now();
  const invitation = createInvitation(db, config, { role: "sympathisant", days: 1 }, now);
  const user = await redeemInvitation(db, config, invitation.token, { username: "sympa", password: PASSWORD }, now);
  t.equal(user.role, "sympathisant");
  await t.rejects(redeemInvitation(db, config, invitation.token, { username: "again", password: PASSWORD }, now), { code: "invitation_invalid" }, "a reused invitation is refused");

  const old = createInvitation(db, config, { role: "member", days: 1 }, now);
  await t.rejects(
    redeemInvitation(db, config, old.token, { username: "late", password: PASSWORD }, now + 2 * 86_400_000),
    { code: "invitation_invalid" },
    "an expired invitation is refused",
  );
  const stored = db.$client.prepare("select token_hash from invitations").all() as { token_hash: string }[];
  t.notOk(stored.some((r) => r.token_hash === invitation.token), "tokens are stored hashed");
});

t.test("login: wrong password, disabled account, sessions", async (t) => {
  const { db, config } = fresh();
  await createMember(db, config, { username: "alice", password: PASSWORD, role: "member" });
  await t.rejects(authenticate(db, "alice", "mauvais mot de passe"), { code: "login_failed" });
  await t.rejects(authenticate(db, "nobody", PASSWORD), { code: "login_failed" }, "same answer for an unknown user");
  const user = await authenticate(db, "alice", PASSWORD);

  const now = Date.now();
  const token = createSession(db, user.id, now);
  t.equal(sessionUser(db, token, now)?.username, "alice");
  t.equal(sessionUser(db, token, now + 31 * 86_400_000), null, "an expired session is refused");
  t.equal(sessionUser(db, "forged-token", now), null);

  disableMember(db, "alice");
  t.equal(sessionUser(db, token, now), null, "disabling closes sessions");
  await t.rejects(authenticate(db, "alice", PASSWORD), { code: "account_disabled" });
});

t.test("usernames, roles and the last manager", async (t) => {
  const { db, config } = fresh();
  t.equal(code(await createMember(db, config, { username: "Bad Name", password: PASSWORD, role: "member" }).catch((e) => e)), "username_invalid");
  t.equal(code(await createMember(db, config, { username: "instance", password: PASSWORD, role: "member" }).catch((e) => e)), "username_reserved");
  t.equal(code(await createMember(db, config, { username: "shorty", password: "court", role: "member" }).catch((e) => e)), "password_too_short");
  await createMember(db, config, { username: "sec", password: PASSWORD, role: "secretary" });
  t.equal(code(await createMember(db, config, { username: "sec", password: PASSWORD, role: "member" }).catch((e) => e)), "username_taken");
  t.throws(() => setRole(db, "sec", "member"), { code: "last_manager" }, "someone must keep running the section");
  t.throws(() => disableMember(db, "sec"), { code: "last_manager" }, "nor can the last secretary be disabled");
  await createMember(db, config, { username: "adm", password: PASSWORD, role: "admin" });
  t.equal(setRole(db, "sec", "member").role, "member");
});

t.test("the member list comes a page at a time, searched without accents or case", async (t) => {
  const { db, config } = fresh();
  const passwordHash = await hashPassword(PASSWORD);
  // 120 accounts: m000…m119, plus two whose names only differ by accents and case.
  for (let i = 0; i < 120; i++) createMemberWithHash(db, config, { username: `m${String(i).padStart(3, "0")}`, passwordHash, role: i % 10 === 0 ? "sympathisant" : "member" });
  createMemberWithHash(db, config, { username: "helene", displayName: "Hélène Dupré", passwordHash, role: "member" });
  createMemberWithHash(db, config, { username: "z_100", displayName: "Zoé 100%", passwordHash, role: "member" });
  disableMember(db, "m001");

  const first = memberPage(db, {}, 1);
  t.equal(first.total, 122, "the count is of every matching account, not of the page");
  t.equal(first.pages, Math.ceil(122 / MEMBERS_PAGE));
  t.equal(first.rows.length, MEMBERS_PAGE);
  t.equal(first.rows[0]?.username, "helene", "in username order");
  const last = memberPage(db, {}, first.pages);
  t.same(last.rows.map((m) => m.username).slice(-2), ["m119", "z_100"]);
  const seen = new Set<string>();
  for (let page = 1; page <= first.pages; page++) for (const m of memberPage(db, {}, page).rows) seen.add(m.username);
  t.equal(seen.size, 122, "the pages together list everyone once");
  t.equal(memberPage(db, {}, 99).page, first.pages, "a page past the end shows the last one");
  t.equal(memberPage(db, {}, -3).page, 1);

  t.same(memberPage(db, { q: "DUPRE" }, 1).rows.map((m) => m.username), ["helene"], "case and accents aside");
  t.same(memberPage(db, { q: "hélène" }, 1).rows.map((m) => m.username), ["helene"]);
  t.same(memberPage(db, { q: "100%" }, 1).rows.map((m) => m.username), ["z_100"], "% is a character, not a wildcard");
  t.same(memberPage(db, { q: "_" }, 1).rows.map((m) => m.username), ["z_100"], "so is _");
  const sympathisants = memberPage(db, { role: "sympathisant" }, 1);
  t.equal(sympathisants.total, 12, "filters and paging together");
  t.same(memberPage(db, { state: "disabled" }, 1).rows.map((m) => m.username), ["m001"]);
  t.equal(memberPage(db, { q: "m0", state: "active" }, 2).total, 99, "search, state and a second page");
});

t.test("login rate limiting", async (t) => {
  const limiter = new LoginRateLimiter({ perClient: 3, perAccount: 100, windowMs: 60_000 });
  const now = 1_000_000;
  const from = (address: string) => ({ address, username: "alice", device: null });
  for (let i = 0; i < 3; i++) {
    t.equal(limiter.check(from("1.2.3.4"), now), null);
    limiter.fail(from("1.2.3.4"), now);
  }
  t.ok(limiter.check(from("1.2.3.4"), now), "blocked after 3 failures");
  t.equal(limiter.check(from("5.6.7.8"), now), null, "another address is not blocked");
  t.equal(limiter.check(from("1.2.3.4"), now + 61_000), null, "the window passes");
});

t.test("the admin CLI", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "coopol-cli-"));
  const env = { ...process.env, COOPOL_DATA: dir };
  const cli = (args: string[], input = "") =>
    spawnSync(process.execPath, [join(ROOT, "src/cli/main.ts"), ...args], { env, input, encoding: "utf8" });

  const added = cli(["member", "add", "--username", "alice", "--display-name", "Alice Martin", "--role", "member"], `${PASSWORD}\n`);
  t.equal(added.status, 0, added.stderr);
  t.match(added.stdout, "@alice");
  const file = join(dir, "pw");
  writeFileSync(file, PASSWORD);
  t.equal(cli(["member", "add", "--username", "bob", "--role", "secretary", "--password-file", file]).status, 0);

  const list = cli(["member", "list", "--json"]);
  t.same(JSON.parse(list.stdout).map((m: { username: string }) => m.username), ["alice", "bob"]);
  t.match(cli(["member", "list"]).stdout, "Alice Martin");

  t.equal(cli(["member", "set-role", "--username", "alice", "--role", "moderator"]).status, 0);
  t.equal(JSON.parse(cli(["member", "list", "--json"]).stdout)[0].role, "moderator");
  const disabled = cli(["member", "disable", "--username", "alice"]);
  t.equal(disabled.status, 0);
  t.equal(JSON.parse(cli(["member", "list", "--json"]).stdout)[0].disabled, true);

  const invite = cli(["invite", "create", "--role", "member"]);
  t.equal(invite.status, 0);
  t.match(invite.stdout, /http:\/\/localhost:3000\/invite\/\S+/);

  const badRole = cli(["member", "set-role", "--username", "bob", "--role", "king"]);
  t.equal(badRole.status, 1);
  t.match(badRole.stderr, "Rôle inconnu");
  const unknown = cli(["member", "disable", "--username", "zoe"]);
  t.match(unknown.stderr, "Aucun compte");
  const usage = cli(["frobnicate"]);
  t.equal(usage.status, 2);
  t.match(usage.stderr, "Utilisation");
  const badConfig = spawnSync(process.execPath, [join(ROOT, "src/cli/main.ts"), "member", "list"], { env: { ...env, COOPOL_KIND: "planet" }, encoding: "utf8" });
  t.equal(badConfig.status, 2);
  t.match(badConfig.stderr, "COOPOL_KIND");
});

t.test("configuration errors are one plain sentence", async (t) => {
  t.throws(() => loadConfig({ COOPOL_ORIGIN: "pas une url" }), /COOPOL_ORIGIN/);
  t.throws(() => loadConfig({ PORT: "99999" }), /PORT/);
  t.throws(() => loadConfig({ COOPOL_TERRITORY: "ABC" }), /INSEE/);
  t.throws(() => loadConfig({ COOPOL_HANDLE: "instance" }), /réservé/);
  const config = loadConfig({});
  t.equal(config.origin, "http://localhost:3000");
  t.equal(config.kind, "section");
  t.match(config.dataDir, /\/data$/);
  const start = spawnSync(process.execPath, [join(ROOT, "src/main.ts")], { env: { ...process.env, COOPOL_KIND: "planet" }, encoding: "utf8" });
  t.equal(start.status, 2);
  t.match(start.stderr, /^Coopol ne peut pas démarrer : COOPOL_KIND/);
  t.notMatch(start.stderr, /at .*\.ts:\d+/, "no stack trace");

  // A section handle that is already a member's username would take over their account.
  const { dir, db, config: existing } = fresh();
  await createMember(db, existing, { username: "paul", password: PASSWORD, role: "member" });
  db.$client.close();
  const clash = spawnSync(process.execPath, [join(ROOT, "src/main.ts")], { env: { ...process.env, COOPOL_DATA: dir, COOPOL_HANDLE: "paul", PORT: "39123" }, encoding: "utf8", timeout: 20_000 });
  t.equal(clash.status, 2);
  t.match(clash.stderr, /COOPOL_HANDLE « paul » est déjà le nom d'utilisateur d'un membre/);
});
