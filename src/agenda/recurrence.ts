// Recurring events (RFC 5545 RRULE), with the work each one can cause bounded.
// A rule comes from a member or from any server of the fediverse, so: rules
// repeating more often than daily are refused, and every expansion walks a
// bounded number of the rule's periods (a day, week, month or year each),
// starting near the asked window rather than at the event's first date, and
// returns a bounded number of dates. rrule's own loop cannot be stopped while
// a rule produces nothing (FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 walks day by day
// to the year 9999, about 11 s), hence the bound on periods below.
import rrule from "rrule";
import type { Options } from "rrule";

// rrule is CommonJS: Node hands its exports over as the default import.
const { RRule, Frequency } = rrule as unknown as typeof import("rrule");

/** Dates one expansion returns at most, per event. */
export const MAX_OCCURRENCES = 500;
/**
 * Work is counted in steps of rrule's loop, weighted by what one costs (a day
 * about 6 µs, a year, built day by day, about 45 µs): one expansion walks at
 * most MAX_STEPS (1,500 days, 187 years), one agenda request MAX_STEPS_PER_REQUEST
 * over all its events (well under a second).
 */
export const MAX_STEPS = 1_500;
export const MAX_STEPS_PER_REQUEST = 100_000;
const STEP_WEIGHT: Record<number, number> = { 0: 8, 1: 3, 2: 2, 3: 1 };
export const MAX_COUNT = 1_000;
export const MAX_INTERVAL = 1_000;
const MAX_RULE_LENGTH = 500;

export type RecurrenceProblem = "event_rrule_invalid" | "event_rrule_too_frequent" | "event_rrule_too_large";

type Parsed = Partial<Options>;
const parsedRules = new Map<string, Parsed | null>();

/** RRule.parseString, kept per rule text (a few thousand distinct rules at most in practice). */
function parse(text: string): Parsed | null {
  let parsed = parsedRules.get(text);
  if (parsed === undefined) {
    try {
      parsed = /^[A-Za-z0-9=;,+\-]+$/.test(text) && text.length <= MAX_RULE_LENGTH ? RRule.parseString(text) : null;
      // rrule builds a rule from whatever parses; it needs a frequency and no DTSTART of its own.
      if (parsed && (parsed.freq == null || parsed.dtstart || parsed.tzid)) parsed = null;
      if (parsed) new RRule(parsed, true);
    } catch {
      parsed = null;
    }
    if (parsedRules.size > 5_000) parsedRules.clear();
    parsedRules.set(text, parsed);
  }
  return parsed;
}

const many = (v: unknown): boolean => Array.isArray(v) && v.length > 1;

/** Why a rule (without "RRULE:") is refused, or null when it is accepted. */
export function recurrenceProblem(text: string): RecurrenceProblem | null {
  const rule = parse(text);
  if (!rule) return "event_rrule_invalid";
  // More than one date a day: a meeting is not that, and such rules are what makes expansion costly.
  if (rule.freq! > Frequency.DAILY || many(rule.byhour) || many(rule.byminute) || many(rule.bysecond)) return "event_rrule_too_frequent";
  // (rrule itself refuses BYSETPOS beyond ±366.)
  if ((rule.interval ?? 1) > MAX_INTERVAL || (rule.count ?? 0) > MAX_COUNT) return "event_rrule_too_large";
  if (rule.byeaster != null) return "event_rrule_invalid";
  return null;
}

/** A rule as a member or a peer gives it: "RRULE:" dropped, upper case. */
export function normalRule(text: string | null | undefined): string | null {
  return text?.trim().replace(/^RRULE:/i, "").toUpperCase() || null;
}

const DAY = 86_400_000;

/**
 * The rule's implicit parts made explicit from its first date (rrule fills them
 * from DTSTART), so that DTSTART can move without changing the dates.
 */
function explicit(rule: Parsed, first: Date): Parsed {
  if (rule.byweekno != null || rule.byyearday != null || rule.bymonthday != null || rule.byweekday != null) return rule;
  if (rule.freq === Frequency.YEARLY) return { ...rule, bymonth: rule.bymonth ?? first.getUTCMonth() + 1, bymonthday: first.getUTCDate() };
  if (rule.freq === Frequency.MONTHLY) return { ...rule, bymonthday: first.getUTCDate() };
  if (rule.freq === Frequency.WEEKLY) return { ...rule, byweekday: [(first.getUTCDay() + 6) % 7] };
  return rule;
}

/**
 * A first date moved forward by whole periods of the rule, one period before
 * `from`, so expanding a rule that began years ago walks only the window.
 */
function movedStart(rule: Parsed, first: number, from: number): number {
  const interval = rule.interval ?? 1;
  const d = new Date(first);
  const time = first - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (rule.freq === Frequency.DAILY || rule.freq === Frequency.WEEKLY) {
    const step = interval * (rule.freq === Frequency.DAILY ? DAY : 7 * DAY);
    const skip = Math.floor((from - first) / step) - 1;
    return skip > 0 ? first + skip * step : first;
  }
  const f = new Date(from);
  const elapsed = rule.freq === Frequency.MONTHLY ? (f.getUTCFullYear() - d.getUTCFullYear()) * 12 + f.getUTCMonth() - d.getUTCMonth() : f.getUTCFullYear() - d.getUTCFullYear();
  const skip = (Math.floor(elapsed / interval) - 1) * interval;
  if (skip <= 0) return first;
  return rule.freq === Frequency.MONTHLY ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + skip, 1) + time : Date.UTC(d.getUTCFullYear() + skip, 0, 1) + time;
}

/** Last dates of counted rules (COUNT=n): found once, then the rule is expanded as if it had that UNTIL. */
const lastDates = new Map<string, number | null>();

/** The work left to one request, in weighted steps. */
export interface Budget {
  steps: number;
}

export function requestBudget(): Budget {
  return { steps: MAX_STEPS_PER_REQUEST };
}

/**
 * Runs a rule between two instants within the budget: rrule reads `interval`
 * twice per period of its loop, and stops when it reads 0.
 */
function run(options: Parsed, from: number, to: number, max: number, budget: Budget): number[] {
  const rule = new RRule(options, true);
  let reads = 0;
  const weight = STEP_WEIGHT[rule.options.freq] ?? 1;
  const limit = 2 * Math.floor(Math.min(MAX_STEPS, budget.steps) / weight) + 1;
  const interval = rule.options.interval;
  rule.options = Object.create(rule.options, { interval: { get: () => (++reads > limit ? 0 : interval) } });
  const dates: number[] = [];
  rule.between(new Date(from), new Date(to), true, (date) => {
    if (dates.length >= max) return false;
    dates.push(date.getTime());
    return true;
  });
  budget.steps -= weight * Math.ceil(Math.min(reads, limit) / 2);
  return dates;
}

/**
 * Dates of a rule between two instants, all as "floating" times (a wall clock
 * written as if it were UTC). A rule refused by `recurrenceProblem` (stored
 * before it was checked) gives its first date only.
 */
export function floatingDates(text: string, first: number, from: number, to: number, budget: Budget, max = MAX_OCCURRENCES): number[] {
  const parsed = parse(text);
  if (!parsed || recurrenceProblem(text) || budget.steps <= 0) return first >= from && first <= to ? [first] : [];
  // Whole days around the window, so that pages asking "from now" share one expansion.
  const start = Math.floor(from / DAY) * DAY;
  const end = Math.ceil((to + 1) / DAY) * DAY - 1;
  const key = `${text}|${first}|${start}|${end}|${max}`;
  let dates = expansions.get(key);
  if (dates) {
    // Most recently used last: the oldest are dropped first.
    expansions.delete(key);
    expansions.set(key, dates);
  } else {
    // Kept only when the request's budget could not cut it short.
    const complete = budget.steps >= MAX_STEPS;
    dates = expand(parsed, text, first, start, end, budget, max);
    if (complete) {
      if (expansions.size >= MAX_EXPANSIONS) expansions.delete(expansions.keys().next().value!);
      expansions.set(key, dates);
    }
  }
  return dates.filter((date) => date >= from && date <= to);
}

/**
 * Expansions already made, per rule, first date and window (whole days): the
 * same month view or agenda page asked again costs a lookup. An edited event
 * has another rule or first date, so another key; cancelled dates are taken
 * out by the caller.
 */
const expansions = new Map<string, number[]>();
const MAX_EXPANSIONS = 20_000;

function expand(parsed: Parsed, text: string, first: number, from: number, to: number, budget: Budget, max: number): number[] {
  let rule = explicit(parsed, new Date(first));
  if (rule.count) {
    const key = `${text}|${first}`;
    let last = lastDates.get(key);
    if (last === undefined) {
      const complete = budget.steps >= MAX_STEPS;
      const dates = run({ ...rule, dtstart: new Date(first) }, first, Date.UTC(9999, 0, 1), MAX_COUNT, budget);
      last = dates.length ? dates[dates.length - 1]! : null;
      if (complete) {
        if (lastDates.size > 10_000) lastDates.clear();
        lastDates.set(key, last);
      }
    }
    if (last == null || last < from) return [];
    rule = { ...rule, count: null, until: new Date(last) };
  }
  const until = rule.until ? Math.min(rule.until.getTime(), to) : to;
  if (until < from) return [];
  return run({ ...rule, dtstart: new Date(movedStart(rule, first, from)) }, from, until, max, budget);
}
