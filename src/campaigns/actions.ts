// Field actions of a campaign (tractage, porte-à-porte, phoning, collage,
// stand), their shifts (créneaux) and who signed up. They are the section's
// own business: card-holders only, never federated; only their results go up.
import { and, asc, count, eq, gte, inArray, isNull, lte, sql } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { dateFormat, isTimezone } from "../dates.ts";
import { isCardHolder, memberManagerActorIds, type User } from "../members/members.ts";
import { notifyAll } from "../notifications/notifications.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { actors, ACTION_TYPES, fieldActions, shifts, shiftSignups, users, type ActionType } from "../storage/schema.ts";
import { canRunCampaigns, findCampaign } from "./campaigns.ts";

export type ActionRow = typeof fieldActions.$inferSelect;
export type ShiftRow = typeof shifts.$inferSelect;

export interface ShiftInput {
  startAt: number;
  endAt: number;
  capacity?: number | null;
  label?: string | null;
}

export interface ActionInput {
  campaignId: number;
  type: ActionType;
  title: string;
  startAt: number;
  endAt?: number | null;
  timezone?: string;
  meetingPoint?: string | null;
  area?: string | null;
  coordinatorId?: number | null;
  notes?: string;
  shifts?: ShiftInput[];
  directiveId?: number | null;
}

function requireCardHolder(user: User): void {
  if (!isCardHolder(user.role)) throw new UserError("campaign_forbidden", 403);
}

function checkShift(s: ShiftInput): ShiftInput {
  if (!Number.isFinite(s.startAt) || !Number.isFinite(s.endAt) || s.endAt <= s.startAt) throw new UserError("shift_times_invalid", 422);
  if (s.capacity != null && (!Number.isInteger(s.capacity) || s.capacity < 1 || s.capacity > 1000)) throw new UserError("shift_capacity_invalid", 422);
  return { startAt: s.startAt, endAt: s.endAt, capacity: s.capacity ?? null, label: s.label?.trim().slice(0, 100) || null };
}

/** A campaign's day as both languages read it (01/03/2026): campaigns are dated in France. */
function campaignDay(ms: number): string {
  return dateFormat("fr-FR", { dateStyle: "short", timeZone: "Europe/Paris" }).format(ms);
}

function checkInput(db: Db, input: ActionInput) {
  const title = input.title?.trim() ?? "";
  if (!title) throw new UserError("action_title_missing", 422);
  if (title.length > 200) throw new UserError("action_title_too_long", 422);
  if (!ACTION_TYPES.includes(input.type)) throw new UserError("action_type_invalid", 422);
  const campaign = findCampaign(db, input.campaignId);
  if (!campaign) throw new UserError("campaign_not_found", 404);
  if (!Number.isFinite(input.startAt)) throw new UserError("action_dates_invalid", 422);
  if (input.endAt != null && (!Number.isFinite(input.endAt) || input.endAt < input.startAt)) throw new UserError("action_dates_invalid", 422);
  // An action outside its campaign's days would count for a campaign that was not running.
  if (input.startAt < campaign.startsAt) throw new UserError("action_before_campaign", 422, { from: campaignDay(campaign.startsAt) });
  if (campaign.endsAt != null && (input.endAt ?? input.startAt) > campaign.endsAt) throw new UserError("action_after_campaign", 422, { to: campaignDay(campaign.endsAt) });
  const timezone = input.timezone ?? "Europe/Paris";
  if (!isTimezone(timezone)) throw new UserError("timezone_invalid", 422);
  if (input.coordinatorId != null) {
    const coordinator = db.select().from(users).where(eq(users.id, input.coordinatorId)).get();
    if (!coordinator || !isCardHolder(coordinator.role) || coordinator.disabledAt) throw new UserError("action_coordinator_invalid", 422);
  }
  return {
    campaignId: input.campaignId,
    type: input.type,
    title,
    startAt: input.startAt,
    endAt: input.endAt ?? null,
    timezone,
    meetingPoint: input.meetingPoint?.trim().slice(0, 300) || null,
    area: input.area?.trim().slice(0, 2000) || null,
    coordinatorId: input.coordinatorId ?? null,
    notes: (input.notes ?? "").trim().slice(0, 5000),
  };
}

/** Any card-holder may organise an action; they coordinate it unless they name someone else. */
export function createAction(services: Services, user: User, input: ActionInput): ActionRow {
  requireCardHolder(user);
  const { db, config } = services;
  const values = checkInput(db, input);
  const shiftList = (input.shifts ?? []).map(checkShift).slice(0, 50);
  const id = newId();
  return db.transaction((tx) => {
    const row = tx
      .insert(fieldActions)
      .values({ id, uri: `${config.origin}/actions/${id}`, ...values, coordinatorId: values.coordinatorId ?? user.id, directiveId: input.directiveId ?? null, createdBy: user.id })
      .returning()
      .get();
    for (const s of shiftList) tx.insert(shifts).values({ id: newId(), actionId: id, startAt: s.startAt, endAt: s.endAt, capacity: s.capacity ?? null, label: s.label ?? null }).run();
    return row;
  });
}

/** The coordinator, whoever created the action, and the section's managers may change it. */
export function canEditAction(user: User, action: ActionRow): boolean {
  return canRunCampaigns(user) || action.coordinatorId === user.id || action.createdBy === user.id;
}

export function getAction(db: Db, user: User, id: number): ActionRow {
  requireCardHolder(user);
  const row = db.select().from(fieldActions).where(eq(fieldActions.id, id)).get();
  if (!row) throw new UserError("action_not_found", 404);
  return row;
}

export function updateAction(services: Services, user: User, id: number, input: ActionInput): ActionRow {
  const existing = getAction(services.db, user, id);
  if (!canEditAction(user, existing)) throw new UserError("action_forbidden", 403);
  const values = checkInput(services.db, input);
  return services.db.update(fieldActions).set({ ...values, updatedAt: Date.now() }).where(eq(fieldActions.id, id)).returning().get();
}

export function cancelAction(services: Services, user: User, id: number): ActionRow {
  const existing = getAction(services.db, user, id);
  if (!canEditAction(user, existing)) throw new UserError("action_forbidden", 403);
  return services.db.update(fieldActions).set({ cancelledAt: Date.now(), updatedAt: Date.now() }).where(eq(fieldActions.id, id)).returning().get();
}

export function addShift(services: Services, user: User, actionId: number, input: ShiftInput): ShiftRow {
  const action = getAction(services.db, user, actionId);
  if (!canEditAction(user, action)) throw new UserError("action_forbidden", 403);
  const s = checkShift(input);
  return services.db.insert(shifts).values({ id: newId(), actionId, startAt: s.startAt, endAt: s.endAt, capacity: s.capacity ?? null, label: s.label ?? null }).returning().get();
}

export function removeShift(services: Services, user: User, shiftId: number): void {
  const shift = services.db.select().from(shifts).where(eq(shifts.id, shiftId)).get();
  if (!shift) throw new UserError("shift_not_found", 404);
  const action = getAction(services.db, user, shift.actionId);
  if (!canEditAction(user, action)) throw new UserError("action_forbidden", 403);
  services.db.delete(shifts).where(eq(shifts.id, shiftId)).run();
}

export function listActions(db: Db, user: User, options: { campaignId?: number; upcoming?: boolean } = {}, now = Date.now()): ActionRow[] {
  requireCardHolder(user);
  const filters = [
    ...(options.campaignId != null ? [eq(fieldActions.campaignId, options.campaignId)] : []),
    ...(options.upcoming ? [gte(fieldActions.startAt, now - 12 * 3_600_000), isNull(fieldActions.cancelledAt)] : []),
  ];
  return db
    .select()
    .from(fieldActions)
    .where(filters.length ? and(...filters) : undefined)
    .orderBy(options.upcoming ? asc(fieldActions.startAt) : asc(fieldActions.startAt))
    .all();
}

export interface ShiftView extends ShiftRow {
  taken: number;
  mine: boolean;
  people: Array<{ userId: number; name: string; username: string }>;
}

/** The shifts of an action with who signed up; names are for card-holders, who alone see actions. */
export function shiftsOf(db: Db, user: User, actionId: number): ShiftView[] {
  const rows = db.select().from(shifts).where(eq(shifts.actionId, actionId)).orderBy(asc(shifts.startAt)).all();
  if (rows.length === 0) return [];
  const signups = db
    .select({ shiftId: shiftSignups.shiftId, userId: users.id, username: users.username, name: actors.name })
    .from(shiftSignups)
    .innerJoin(users, eq(users.id, shiftSignups.userId))
    .innerJoin(actors, eq(actors.id, users.actorId))
    .where(inArray(shiftSignups.shiftId, rows.map((r) => r.id)))
    .orderBy(asc(shiftSignups.createdAt))
    .all();
  return rows.map((r) => {
    const people = signups.filter((s) => s.shiftId === r.id).map((s) => ({ userId: s.userId, name: s.name || s.username, username: s.username }));
    return { ...r, taken: people.length, mine: people.some((p) => p.userId === user.id), people };
  });
}

/** Signs a card-holder up for a shift, if there is room left. */
export function signUp(services: Services, user: User, shiftId: number): void {
  requireCardHolder(user);
  const { db } = services;
  const signedUp = db.transaction((tx) => {
    const shift = tx.select().from(shifts).where(eq(shifts.id, shiftId)).get();
    if (!shift) throw new UserError("shift_not_found", 404);
    const action = tx.select().from(fieldActions).where(eq(fieldActions.id, shift.actionId)).get();
    if (!action || action.cancelledAt) throw new UserError("action_cancelled", 409);
    if (tx.select().from(shiftSignups).where(and(eq(shiftSignups.shiftId, shiftId), eq(shiftSignups.userId, user.id))).get()) return null;
    const taken = tx.select({ n: count() }).from(shiftSignups).where(eq(shiftSignups.shiftId, shiftId)).get()?.n ?? 0;
    if (shift.capacity != null && taken >= shift.capacity) throw new UserError("shift_full", 409);
    tx.insert(shiftSignups).values({ shiftId, userId: user.id }).run();
    return action;
  });
  if (signedUp) notifyActionPeople(services, signedUp, user, "coopol.shift.signup");
}

export function withdraw(services: Services, user: User, shiftId: number): void {
  const { db } = services;
  const left = db.delete(shiftSignups).where(and(eq(shiftSignups.shiftId, shiftId), eq(shiftSignups.userId, user.id))).returning().get();
  const action = left && db.select().from(fieldActions).innerJoin(shifts, eq(shifts.actionId, fieldActions.id)).where(eq(shifts.id, shiftId)).get()?.field_actions;
  if (action) notifyActionPeople(services, action, user, "coopol.shift.withdraw");
}

/** Tells the action's coordinator and the section's secretaries what a member did on it (never the member). */
export function notifyActionPeople(services: Services, action: ActionRow, by: User, type: "coopol.shift.signup" | "coopol.shift.withdraw" | "coopol.results"): void {
  const { db } = services;
  const coordinator = action.coordinatorId != null ? db.select({ actorId: users.actorId }).from(users).where(eq(users.id, action.coordinatorId)).get() : undefined;
  notifyAll(services, [...(coordinator ? [coordinator.actorId] : []), ...memberManagerActorIds(db)], { type, fromActorId: by.actorId, actionId: action.id });
}

/** Whether the member took part (signed up for a shift) in the action. */
export function tookPart(db: Db, userId: number, actionId: number): boolean {
  return !!db
    .select({ one: shiftSignups.userId })
    .from(shiftSignups)
    .innerJoin(shifts, eq(shifts.id, shiftSignups.shiftId))
    .where(and(eq(shifts.actionId, actionId), eq(shiftSignups.userId, userId)))
    .get();
}

/** A piece of field work on the agenda: an action, or (`mine`) one of the member's shifts. */
export interface FieldEntry {
  action: ActionRow;
  shift: ShiftRow | null;
  start: number;
  end: number | null;
}

/** At most this many entries per request: the agenda stays cheap whatever a campaign holds. */
const FIELD_ENTRIES_MAX = 500;

/**
 * Field work between two instants for the agenda: every action still on
 * (card-holders only, as the actions themselves), or with `mine` only the
 * shifts `user` signed up for. Sympathisants and visitors get nothing.
 */
export function fieldWorkBetween(db: Db, user: User | null, from: number, to: number, mine = false): FieldEntry[] {
  if (!user || !isCardHolder(user.role)) return [];
  if (mine) {
    return db
      .select({ action: fieldActions, shift: shifts })
      .from(shiftSignups)
      .innerJoin(shifts, eq(shifts.id, shiftSignups.shiftId))
      .innerJoin(fieldActions, eq(fieldActions.id, shifts.actionId))
      .where(and(eq(shiftSignups.userId, user.id), gte(shifts.endAt, from), lte(shifts.startAt, to), isNull(fieldActions.cancelledAt)))
      .orderBy(asc(shifts.startAt))
      .limit(FIELD_ENTRIES_MAX)
      .all()
      .map(({ action, shift }) => ({ action, shift, start: shift.startAt, end: shift.endAt }));
  }
  return db
    .select()
    .from(fieldActions)
    .where(and(gte(sql`coalesce(${fieldActions.endAt}, ${fieldActions.startAt})`, from), lte(fieldActions.startAt, to), isNull(fieldActions.cancelledAt)))
    .orderBy(asc(fieldActions.startAt))
    .limit(FIELD_ENTRIES_MAX)
    .all()
    .map((action) => ({ action, shift: null, start: action.startAt, end: action.endAt }));
}
