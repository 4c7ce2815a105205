// Thematic groups: a Group actor per group, hosted by one instance and joined
// from any (FEP-1b12). Membership is an accepted Follow of the group's actor;
// owner and moderators are rows of group_roles; bans cover an actor or a whole
// domain. What travels over the network is in federation/send-groups.ts and
// federation/inbox/group.ts; the group's discussion in groups/discussion.ts.
import { and, desc, eq, inArray, isNotNull, isNull, or, sql, type SQL } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { actorOf, canManageMembers, isCardHolder, memberManagerActorIds, type User } from "../members/members.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { preparedOnce } from "../storage/prepared.ts";
import {
  actors,
  follows,
  groupBans,
  groupRoles,
  groups,
  users,
  GROUP_POLICIES,
  GROUP_VISIBILITIES,
  type AttestedStatus,
  type GroupPolicy,
  type GroupRole,
  type GroupVisibility,
} from "../storage/schema.ts";
import type { ActorRow } from "../federation/actors.ts";
import { escapeHtml } from "../posts/content.ts";
import { record } from "../outbox/outbox.ts";
import { attestedStatus, expiredChecks, statusWithinGrace } from "../party/attestations.ts";
import { notify } from "../notifications/notifications.ts";
import { logModeration } from "./moderation.ts";
import { mediaUrl, saveUpload, type Upload } from "../media/media.ts";

export type GroupRow = typeof groups.$inferSelect;

/** Local group actors are g_<slug>: members cannot take such a name (members.ts reserves the prefix). */
export const GROUP_USERNAME_PREFIX = "g_";
const SLUG = /^[a-z0-9_]{2,27}$/;
/** Addresses the web pages use under /groups/ (a remote group's page is /groups/remote/<id>). */
const RESERVED_SLUGS = new Set(["new", "join", "review", "remote"]);
const LIMITS = { name: 100, description: 2000, rules: 4000, themes: 10 };

export function groupUsername(slug: string): string {
  return `${GROUP_USERNAME_PREFIX}${slug}`;
}

export function groupById(db: Db, id: number): GroupRow | undefined {
  return db.select().from(groups).where(eq(groups.id, id)).get();
}

// A group's pages, and each post or like addressed to a group, look it up: built once (storage/prepared.ts).
const groupBySlugQuery = preparedOnce((db) => db.select().from(groups).where(and(eq(groups.slug, sql.placeholder("slug")), eq(groups.local, true))).prepare());
const groupOfActorQuery = preparedOnce((db) => db.select().from(groups).where(eq(groups.actorId, sql.placeholder("actorId"))).prepare());
const actorByIdQuery = preparedOnce((db) => db.select().from(actors).where(eq(actors.id, sql.placeholder("id"))).prepare());

export function groupBySlug(db: Db, slug: string): GroupRow | undefined {
  return groupBySlugQuery(db).get({ slug });
}

/** The group (local or remote) behind an actor, if that actor is a thematic group. */
export function groupOfActor(db: Db, actorId: number): GroupRow | undefined {
  return groupOfActorQuery(db).get({ actorId });
}

/** A local, active group behind an actor: the ones this instance moderates and relays for. */
export function localGroupOfActor(db: Db, actorId: number): GroupRow | undefined {
  const group = groupOfActor(db, actorId);
  return group?.local && group.state === "active" ? group : undefined;
}

export function groupActor(db: Db, group: GroupRow): ActorRow | undefined {
  return group.actorId ? actorByIdQuery(db).get({ id: group.actorId }) : undefined;
}

export function themesOf(group: Pick<GroupRow, "themes">): string[] {
  try {
    const parsed = JSON.parse(group.themes) as unknown;
    return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === "string") : [];
  } catch {
    return [];
  }
}

/** "#logement, climat écologie" → ["logement", "climat", "écologie"]. */
export function parseThemes(text: string): string[] {
  const themes = [...new Set(text.split(/[\s,;]+/).map((t) => t.replace(/^#/, "").toLowerCase()).filter((t) => /^[\p{L}\p{N}_]{1,50}$/u.test(t)))];
  if (themes.length > LIMITS.themes) throw new UserError("group_too_many_themes", 422, { max: LIMITS.themes });
  return themes;
}

export interface GroupInput {
  name: string;
  slug?: string;
  description?: string;
  rules?: string;
  themes?: string;
  policy?: string;
  visibility?: string;
}

function checkSettings(input: GroupInput): { description: string; rules: string; themes: string[]; policy: GroupPolicy; visibility: GroupVisibility } {
  const description = (input.description ?? "").trim();
  const rules = (input.rules ?? "").trim();
  if (description.length > LIMITS.description) throw new UserError("group_description_too_long", 422, { max: LIMITS.description });
  if (rules.length > LIMITS.rules) throw new UserError("group_rules_too_long", 422, { max: LIMITS.rules });
  const policy = (input.policy || "party_only") as GroupPolicy;
  const visibility = (input.visibility || "public") as GroupVisibility;
  if (!GROUP_POLICIES.includes(policy)) throw new UserError("group_policy_invalid", 422);
  if (!GROUP_VISIBILITIES.includes(visibility)) throw new UserError("group_visibility_invalid", 422);
  return { description, rules, themes: parseThemes(input.themes ?? ""), policy, visibility };
}

/** Plain text → the actor's `summary` (HTML), as other servers show it. */
function summaryOf(description: string): string {
  return description ? description.split(/\n{2,}/).map((p) => `<p>${escapeHtml(p).replace(/\n/g, "<br>")}</p>`).join("") : "";
}

/**
 * Any card-holder proposes a group. Unless COOPOL_GROUPS_NEED_APPROVAL is set
 * (or the proposer is a secretary or admin), it is created at once.
 */
export function proposeGroup(services: Services, user: User, input: GroupInput): GroupRow {
  const { db, config } = services;
  if (!isCardHolder(user.role)) throw new UserError("group_forbidden", 403);
  const name = input.name.trim();
  if (!name) throw new UserError("group_name_missing", 422);
  if (name.length > LIMITS.name) throw new UserError("group_name_too_long", 422, { max: LIMITS.name });
  const slug = (input.slug?.trim() || slugOf(name)).toLowerCase();
  if (!SLUG.test(slug)) throw new UserError("group_slug_invalid", 422);
  if (RESERVED_SLUGS.has(slug)) throw new UserError("group_slug_taken", 409);
  const settings = checkSettings(input);
  const taken = groupBySlug(db, slug) || db.select({ id: actors.id }).from(actors).where(and(eq(actors.username, groupUsername(slug)), eq(actors.local, true))).get();
  if (taken) throw new UserError("group_slug_taken", 409);
  const waits = config.groupsNeedApproval && !canManageMembers(user.role);
  return db.transaction((tx) => {
    const row = tx
      .insert(groups)
      .values({ id: newId(), local: true, slug, name, ...settings, themes: JSON.stringify(settings.themes), state: waits ? "proposed" : "active", createdBy: user.id })
      .returning()
      .get();
    return waits ? row : activate(tx, services, row, user);
  });
}

function slugOf(name: string): string {
  return name
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 27);
}

/** Makes the group's actor; its proposer becomes owner and first member. */
function activate(db: Db, services: Services, group: GroupRow, owner: User): GroupRow {
  const { config } = services;
  const host = new URL(config.origin).host;
  const username = groupUsername(group.slug!);
  const actor = db
    .insert(actors)
    .values({
      id: newId(),
      uri: `${config.origin}/users/${username}`,
      type: "Group",
      username,
      domain: host,
      local: true,
      name: group.name,
      summary: summaryOf(group.description),
      url: `${config.origin}/groups/${group.slug}`,
      inboxUrl: `${config.origin}/users/${username}/inbox`,
      sharedInboxUrl: `${config.origin}/inbox`,
      followersUrl: `${config.origin}/users/${username}/followers`,
      locked: group.policy === "approval",
    })
    .returning()
    .get();
  const ownerActor = actorOf(db, owner);
  db.insert(groupRoles).values({ groupId: group.id, actorId: ownerActor.id, role: "owner" }).run();
  const followId = newId();
  db.insert(follows).values({ id: followId, followerId: ownerActor.id, followingId: actor.id, uri: `${ownerActor.uri}#follows/${followId}`, acceptedAt: Date.now() }).run();
  return db.update(groups).set({ actorId: actor.id, state: "active", lastActivityAt: Date.now(), updatedAt: Date.now() }).where(eq(groups.id, group.id)).returning().get();
}

/** A secretary or admin approves or refuses a proposed group. */
export function reviewGroup(services: Services, user: User, groupId: number, approve: boolean): GroupRow {
  const { db } = services;
  if (!canManageMembers(user.role)) throw new UserError("group_forbidden", 403);
  const group = groupById(db, groupId);
  if (!group?.local || group.state !== "proposed") throw new UserError("group_not_found", 404);
  return db.transaction((tx) => {
    tx.update(groups).set({ reviewedBy: user.id }).where(eq(groups.id, group.id)).run();
    if (!approve) return tx.update(groups).set({ state: "refused", updatedAt: Date.now() }).where(eq(groups.id, group.id)).returning().get();
    const proposer = group.createdBy ? tx.select().from(users).where(eq(users.id, group.createdBy)).get() : undefined;
    return activate(tx, services, group, proposer ?? user);
  });
}

export function proposedGroups(db: Db): GroupRow[] {
  return db.select().from(groups).where(and(eq(groups.local, true), eq(groups.state, "proposed"))).orderBy(groups.id).all();
}

// ---- Roles -----------------------------------------------------------------------

export function roleOf(db: Db, group: GroupRow, actorId: number): GroupRole | null {
  return db.select({ role: groupRoles.role }).from(groupRoles).where(and(eq(groupRoles.groupId, group.id), eq(groupRoles.actorId, actorId))).get()?.role ?? null;
}

/** Owner, moderators, and the instance's secretaries and admins (who answer for what it hosts). */
export function canModerate(db: Db, group: GroupRow, user: User | null): boolean {
  if (!user || !group.local) return false;
  return canManageMembers(user.role) || roleOf(db, group, user.actorId) !== null;
}

/** The same rule as a list: the actors of everyone who moderates a local group. */
export function groupModeratorIds(db: Db, group: GroupRow): number[] {
  if (!group.local) return [];
  const roles = db.select({ actorId: groupRoles.actorId }).from(groupRoles).where(eq(groupRoles.groupId, group.id)).all();
  return [...new Set([...memberManagerActorIds(db), ...roles.map((r) => r.actorId)])];
}

function requireModerator(db: Db, group: GroupRow, user: User): void {
  if (!canModerate(db, group, user)) throw new UserError("group_forbidden", 403);
}

/** The owner (or a secretary/admin) names or removes a moderator among the members. */
export function setModerator(services: Services, user: User, group: GroupRow, actorId: number, moderator: boolean): void {
  const { db } = services;
  if (!(canManageMembers(user.role) || roleOf(db, group, user.actorId) === "owner")) throw new UserError("group_forbidden", 403);
  if (roleOf(db, group, actorId) === "owner") throw new UserError("group_owner_stays", 422);
  if (moderator) {
    if (!isMember(db, group, actorId)) throw new UserError("group_member_not_found", 404);
    db.insert(groupRoles).values({ groupId: group.id, actorId, role: "moderator" }).onConflictDoNothing().run();
  } else {
    db.delete(groupRoles).where(and(eq(groupRoles.groupId, group.id), eq(groupRoles.actorId, actorId))).run();
  }
}

/** Moderators change the description, rules, themes and membership policy; the actor's Update goes out. */
export async function updateGroupSettings(services: Services, user: User, group: GroupRow, input: Omit<GroupInput, "slug">): Promise<GroupRow> {
  const { db } = services;
  requireModerator(db, group, user);
  const name = input.name.trim() || group.name;
  if (name.length > LIMITS.name) throw new UserError("group_name_too_long", 422, { max: LIMITS.name });
  const settings = checkSettings(input);
  if (settings.policy !== group.policy || settings.visibility !== group.visibility) {
    logModeration(db, { groupId: group.id, moderatorId: user.id, action: "policy", targetUri: `${settings.policy} ${settings.visibility}` });
  }
  return db.transaction((tx) => {
    const row = tx
      .update(groups)
      .set({ name, ...settings, themes: JSON.stringify(settings.themes), updatedAt: Date.now() })
      .where(eq(groups.id, group.id))
      .returning()
      .get();
    const actor = row.actorId
      ? tx.update(actors).set({ name, summary: summaryOf(settings.description), locked: settings.policy === "approval", updatedAt: Date.now() }).where(eq(actors.id, row.actorId)).returning().get()
      : undefined;
    if (actor) record(tx, { kind: "profile.updated", actorId: actor.id });
    return row;
  });
}

/**
 * Moderators give the group an image: stored as any upload (checked, random
 * name, owned by the group's actor), it becomes the actor's `icon` (the
 * avatar Mastodon and Coopol show), and the actor's Update goes out.
 */
export async function setGroupAvatar(services: Services, user: User, group: GroupRow, upload: Upload): Promise<ActorRow> {
  const { db, config } = services;
  requireModerator(db, group, user);
  const actor = groupActor(db, group);
  if (!actor) throw new UserError("group_not_found", 404);
  const row = saveUpload(services, actor.id, { data: upload.data, contentType: upload.contentType });
  return db.transaction((tx) => {
    const updated = tx.update(actors).set({ avatarUrl: mediaUrl(config.origin, row), updatedAt: Date.now() }).where(eq(actors.id, actor.id)).returning().get();
    record(tx, { kind: "profile.updated", actorId: actor.id });
    return updated;
  });
}

// ---- Membership ------------------------------------------------------------------

export function isMember(db: Db, group: GroupRow, actorId: number): boolean {
  if (!group.actorId) return false;
  return !!db
    .select({ id: follows.id })
    .from(follows)
    .where(and(eq(follows.followerId, actorId), eq(follows.followingId, group.actorId), isNotNull(follows.acceptedAt)))
    .get();
}

export function isBanned(db: Db, group: GroupRow, actor: Pick<ActorRow, "id" | "domain">): boolean {
  return !!db
    .select({ id: groupBans.id })
    .from(groupBans)
    .where(and(eq(groupBans.groupId, group.id), or(eq(groupBans.actorId, actor.id), eq(groupBans.domain, actor.domain))))
    .get();
}

export type Admission = "accept" | "pending" | "reject";

/** Policies that admit remote actors by their home section's membership attestation. */
export function needsAttestation(group: GroupRow): boolean {
  return group.policy === "party_only" || group.policy === "sympathisants";
}

/**
 * What the group's policy says to someone who asks to join. A remote actor's
 * party membership is `attested`: the status their home section attests
 * (src/party/attestations.ts), null if none could be verified.
 */
export function admissionOf(services: Services, group: GroupRow, actor: ActorRow, attested: AttestedStatus | null = null): Admission {
  const { db } = services;
  if (group.state !== "active" || isBanned(db, group, actor)) return "reject";
  if (roleOf(db, group, actor.id)) return "accept";
  if (group.policy === "approval") return "pending";
  if (group.policy === "fediverse") return "accept";
  if (actor.local) {
    const user = db.select({ role: users.role, disabledAt: users.disabledAt }).from(users).where(eq(users.actorId, actor.id)).get();
    if (!user || user.disabledAt) return "reject";
    if (isCardHolder(user.role)) return "accept";
    return group.policy === "sympathisants" ? "accept" : "reject";
  }
  if (attested === "card_holder") return "accept";
  return attested === "sympathisant" && group.policy === "sympathisants" ? "accept" : "reject";
}

/** A local account joins a local group (the web button, or a follow from a Mastodon app). */
export function joinLocalGroup(services: Services, user: User, group: GroupRow, groupActorRow: ActorRow) {
  const { db } = services;
  const me = actorOf(db, user);
  const existing = db.select().from(follows).where(and(eq(follows.followerId, me.id), eq(follows.followingId, groupActorRow.id))).get();
  if (existing) return existing;
  const admission = admissionOf(services, group, me);
  if (admission === "reject") throw new UserError(isBanned(db, group, me) ? "group_banned" : "group_join_refused", 403);
  const id = newId();
  const row = db
    .insert(follows)
    .values({ id, followerId: me.id, followingId: groupActorRow.id, uri: `${me.uri}#follows/${id}`, acceptedAt: admission === "accept" ? Date.now() : null })
    .returning()
    .get();
  if (admission === "pending") notifyModerators(services, group, me.id);
  return row;
}

/** A Follow of a local group from another server, answered by the group's policy. */
export async function receiveGroupFollow(services: Services, follower: ActorRow, group: GroupRow, groupActorRow: ActorRow, uri: string): Promise<void> {
  const { db } = services;
  const existing = db.select().from(follows).where(and(eq(follows.followerId, follower.id), eq(follows.followingId, groupActorRow.id))).get();
  if (existing) {
    // A repeated Follow (the other side lost our answer): answer again.
    if (existing.acceptedAt) groupAnswered(db, true, uri, follower, groupActorRow);
    return;
  }
  const attested = !follower.local && needsAttestation(group) && group.state === "active" ? await attestedStatus(services, follower) : null;
  const admission = admissionOf(services, group, follower, attested);
  if (admission === "reject") return groupAnswered(db, false, uri, follower, groupActorRow);
  db.transaction((tx) => {
    tx.insert(follows)
      .values({ id: newId(), followerId: follower.id, followingId: groupActorRow.id, uri, acceptedAt: admission === "accept" ? Date.now() : null })
      .run();
    if (admission === "accept") groupAnswered(tx, true, uri, follower, groupActorRow);
  });
  if (admission !== "accept") notifyModerators(services, group, follower.id);
}

/** The group's Accept or Reject of a Follow, sent through the outbox (call it in the change's transaction). */
function groupAnswered(db: Db, accepted: boolean, followUri: string, follower: ActorRow, group: ActorRow): void {
  record(db, { kind: "follow.answered", accepted, followUri, followerId: follower.id, targetId: group.id });
}

function notifyModerators(services: Services, group: GroupRow, fromActorId: number): void {
  for (const row of services.db.select({ actorId: groupRoles.actorId }).from(groupRoles).where(eq(groupRoles.groupId, group.id)).all()) {
    notify(services, { recipientActorId: row.actorId, type: "follow_request", fromActorId });
  }
}

export function pendingJoinRequests(db: Db, group: GroupRow): ActorRow[] {
  if (!group.actorId) return [];
  return db
    .select({ actor: actors })
    .from(follows)
    .innerJoin(actors, eq(actors.id, follows.followerId))
    .where(and(eq(follows.followingId, group.actorId), isNull(follows.acceptedAt)))
    .orderBy(follows.id)
    .all()
    .map((r) => r.actor);
}

export interface MemberRow {
  actor: ActorRow;
  role: GroupRole | null;
}

export function membersOf(db: Db, group: GroupRow, limit = 500): MemberRow[] {
  if (!group.actorId) return [];
  return db
    .select({ actor: actors, role: groupRoles.role })
    .from(follows)
    .innerJoin(actors, eq(actors.id, follows.followerId))
    .leftJoin(groupRoles, and(eq(groupRoles.groupId, group.id), eq(groupRoles.actorId, actors.id)))
    .where(and(eq(follows.followingId, group.actorId), isNotNull(follows.acceptedAt)))
    .orderBy(follows.id)
    .limit(limit)
    .all();
}

/** A moderator accepts or refuses a pending request. */
export async function answerJoinRequest(services: Services, user: User, group: GroupRow, actorId: number, accept: boolean): Promise<void> {
  const { db } = services;
  requireModerator(db, group, user);
  const actor = groupActor(db, group)!;
  const row = db.select().from(follows).where(and(eq(follows.followerId, actorId), eq(follows.followingId, actor.id), isNull(follows.acceptedAt))).get();
  if (!row) throw new UserError("follow_request_not_found", 404);
  const follower = db.select().from(actors).where(eq(actors.id, actorId)).get()!;
  db.transaction((tx) => {
    if (accept) tx.update(follows).set({ acceptedAt: Date.now() }).where(eq(follows.id, row.id)).run();
    else tx.delete(follows).where(eq(follows.id, row.id)).run();
    if (!follower.local) groupAnswered(tx, accept, row.uri, follower, actor);
  });
}

/** A moderator removes a member: the follow goes, and their server is told with a Reject. */
export async function removeMember(services: Services, user: User, group: GroupRow, actorId: number): Promise<void> {
  requireModerator(services.db, group, user);
  if (roleOf(services.db, group, actorId) === "owner") throw new UserError("group_owner_stays", 422);
  const target = services.db.select({ uri: actors.uri }).from(actors).where(eq(actors.id, actorId)).get();
  if (target) logModeration(services.db, { groupId: group.id, moderatorId: user.id, action: "remove_member", targetUri: target.uri });
  await dropMembers(services, group, [actorId]);
}

/**
 * A remote member's attested status changed (or could not be verified any
 * more): they leave the local groups whose policy no longer admits them, with
 * the usual Reject(Follow), and stop receiving their members-only posts.
 */
export async function recheckRemoteMember(services: Services, actor: ActorRow, attested: AttestedStatus | null): Promise<void> {
  const { db } = services;
  const joined = db
    .select({ group: groups })
    .from(groups)
    .innerJoin(follows, and(eq(follows.followingId, groups.actorId), eq(follows.followerId, actor.id)))
    .where(and(inArray(groups.policy, ["party_only", "sympathisants"]), eq(groups.state, "active")))
    .all();
  for (const { group } of joined) {
    if (admissionOf(services, group, actor, attested) === "reject") await dropMembers(services, group, [actor.id]);
  }
}

/**
 * The periodic re-check: remote members of groups that admit by attestation
 * whose kept attestation expired get it fetched again (`limit` per round);
 * one whose section cannot be reached keeps their place for a grace period.
 */
export async function recheckAttestedMembers(services: Services, limit = 50): Promise<void> {
  const { db } = services;
  const members = db
    .selectDistinct({ actor: actors })
    .from(follows)
    .innerJoin(groups, eq(groups.actorId, follows.followingId))
    .innerJoin(actors, eq(actors.id, follows.followerId))
    .where(and(inArray(groups.policy, ["party_only", "sympathisants"]), eq(groups.state, "active"), eq(actors.local, false), isNotNull(follows.acceptedAt)))
    .all()
    .map((r) => r.actor);
  const expired = expiredChecks(db, members.map((a) => a.id));
  for (const actor of members.filter((a) => expired.has(a.id)).slice(0, limit)) {
    const status = (await attestedStatus(services, actor, { fresh: true })) ?? statusWithinGrace(db, actor.id);
    await recheckRemoteMember(services, actor, status);
  }
}

async function dropMembers(services: Services, group: GroupRow, actorIds: number[]): Promise<void> {
  const { db } = services;
  const actor = groupActor(db, group);
  if (!actor || actorIds.length === 0) return;
  db.transaction((tx) => {
    const dropped = tx
      .delete(follows)
      .where(and(eq(follows.followingId, actor.id), inArray(follows.followerId, actorIds)))
      .returning()
      .all();
    tx.delete(groupRoles).where(and(eq(groupRoles.groupId, group.id), inArray(groupRoles.actorId, actorIds), eq(groupRoles.role, "moderator"))).run();
    for (const row of dropped) {
      const follower = tx.select().from(actors).where(eq(actors.id, row.followerId)).get();
      // Reject(Follow) is what Mastodon and Lemmy read as "you are no longer a follower".
      if (follower && !follower.local) groupAnswered(tx, false, row.uri, follower, actor);
    }
  });
}

/** Bans an actor or a whole domain: their members are removed, their requests and posts refused. */
export async function banFromGroup(services: Services, user: User, group: GroupRow, target: { actor?: ActorRow; domain?: string }): Promise<void> {
  const { db, config } = services;
  requireModerator(db, group, user);
  const domain = target.domain?.trim().toLowerCase();
  if (target.actor) {
    if (roleOf(db, group, target.actor.id) === "owner" || target.actor.id === group.actorId) throw new UserError("group_owner_stays", 422);
    db.insert(groupBans).values({ id: newId(), groupId: group.id, actorId: target.actor.id, createdBy: user.id }).onConflictDoNothing().run();
    logModeration(db, { groupId: group.id, moderatorId: user.id, action: "ban", targetUri: target.actor.uri });
    await dropMembers(services, group, [target.actor.id]);
    return;
  }
  if (!domain || !/^[a-z0-9.-]+(:\d+)?$/.test(domain)) throw new UserError("group_domain_invalid", 422);
  // The group's own instance cannot be banned from its group.
  if (domain === new URL(config.origin).host) throw new UserError("group_domain_invalid", 422);
  db.insert(groupBans).values({ id: newId(), groupId: group.id, domain, createdBy: user.id }).onConflictDoNothing().run();
  logModeration(db, { groupId: group.id, moderatorId: user.id, action: "ban", targetUri: domain });
  const members = group.actorId
    ? db.select({ id: actors.id }).from(follows).innerJoin(actors, eq(actors.id, follows.followerId)).where(and(eq(follows.followingId, group.actorId), eq(actors.domain, domain))).all()
    : [];
  await dropMembers(services, group, members.map((m) => m.id));
}

export function unban(services: Services, user: User, group: GroupRow, banId: number): void {
  requireModerator(services.db, group, user);
  const ban = services.db.delete(groupBans).where(and(eq(groupBans.id, banId), eq(groupBans.groupId, group.id))).returning().get();
  const target = ban?.actorId ? services.db.select({ uri: actors.uri }).from(actors).where(eq(actors.id, ban.actorId)).get()?.uri : ban?.domain;
  if (target) logModeration(services.db, { groupId: group.id, moderatorId: user.id, action: "unban", targetUri: target });
}

export function bansOf(db: Db, group: GroupRow) {
  return db
    .select({ id: groupBans.id, domain: groupBans.domain, actor: actors })
    .from(groupBans)
    .leftJoin(actors, eq(actors.id, groupBans.actorId))
    .where(eq(groupBans.groupId, group.id))
    .orderBy(groupBans.id)
    .all();
}

// ---- Remote groups and the directory ----------------------------------------------

/** Remembers a remote thematic group (from its actor document or its announces). */
export function rememberRemoteGroup(db: Db, actor: ActorRow, info: { themes?: string[]; visibility?: GroupVisibility } = {}): GroupRow | undefined {
  if (actor.local || actor.type !== "Group") return undefined;
  const values = {
    name: actor.name || actor.username,
    ...(info.themes ? { themes: JSON.stringify(info.themes.slice(0, LIMITS.themes)) } : {}),
    ...(info.visibility ? { visibility: info.visibility } : {}),
    updatedAt: Date.now(),
  };
  return db
    .insert(groups)
    .values({ id: newId(), actorId: actor.id, local: false, state: "active", ...values })
    .onConflictDoUpdate({ target: groups.actorId, set: values })
    .returning()
    .get();
}

export function touchGroup(db: Db, group: GroupRow): void {
  db.update(groups).set({ lastActivityAt: Date.now() }).where(eq(groups.id, group.id)).run();
}

export interface DirectoryEntry {
  group: GroupRow;
  actor: ActorRow;
}

/**
 * Active groups, local and remote, that a visitor may know of: search by
 * theme or name, sorted by latest activity (or by name).
 */
export function groupDirectory(db: Db, options: { q?: string; sort?: "activity" | "name" | "members"; limit?: number } = {}): DirectoryEntry[] {
  const where: SQL[] = [eq(groups.state, "active"), isNotNull(groups.actorId)];
  const q = options.q?.trim().replace(/^#/, "").toLowerCase();
  if (q) {
    const like = `%${q.replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
    where.push(sql`(${groups.themes} like ${`%"${q}"%`} or lower(${groups.name}) like ${like} escape '\\' or lower(${groups.description}) like ${like} escape '\\')`);
  }
  const order =
    options.sort === "name" ? [groups.name] : options.sort === "members" ? [desc(actors.followersCount), groups.name] : [sql`coalesce(${groups.lastActivityAt}, 0) desc`, groups.name];
  return db
    .select({ group: groups, actor: actors })
    .from(groups)
    .innerJoin(actors, eq(actors.id, groups.actorId))
    .where(and(...where))
    .orderBy(...order)
    .limit(options.limit ?? 100)
    .all();
}

/** Groups a local account belongs to (or asked to join), local and remote. */
export function groupsOfMember(db: Db, actorId: number): Array<DirectoryEntry & { pending: boolean }> {
  return groupsOfMemberQuery(db)
    .all({ actorId })
    .map((r) => ({ group: r.group, actor: r.actor, pending: r.acceptedAt === null }));
}

// The groups and debate pages and the API ask it; two tables' columns take long to build: built once.
const groupsOfMemberQuery = preparedOnce((db) =>
  db
    .select({ group: groups, actor: actors, acceptedAt: follows.acceptedAt })
    .from(follows)
    .innerJoin(groups, eq(groups.actorId, follows.followingId))
    .innerJoin(actors, eq(actors.id, groups.actorId))
    .where(eq(follows.followerId, sql.placeholder("actorId")))
    .orderBy(groups.name)
    .prepare(),
);
