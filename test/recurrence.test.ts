// The bounded expansion of recurrences gives the same dates as rrule walking
// from the event's first date, for rules of every accepted kind begun years
// before the window; rules that repeat too often or too much are refused.
import t from "tap";
import rrule from "rrule";
import { floatingDates, recurrenceProblem, requestBudget } from "../src/agenda/recurrence.ts";

const { rrulestr } = rrule as unknown as typeof import("rrule");
const DAY = 86_400_000;

const RULES = [
  "FREQ=DAILY",
  "FREQ=DAILY;INTERVAL=3",
  "FREQ=DAILY;BYDAY=MO,TH",
  "FREQ=WEEKLY",
  "FREQ=WEEKLY;INTERVAL=2",
  "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE;WKST=SU",
  "FREQ=MONTHLY",
  "FREQ=MONTHLY;INTERVAL=5",
  "FREQ=MONTHLY;BYDAY=1TU",
  "FREQ=MONTHLY;BYDAY=-1FR",
  "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1",
  "FREQ=MONTHLY;BYMONTHDAY=31",
  "FREQ=YEARLY",
  "FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYDAY=2SA",
  "FREQ=DAILY;COUNT=900",
  "FREQ=WEEKLY;UNTIL=20290101T000000Z",
];

const iso = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, "").slice(0, 15);

t.test("the same dates as rrule from the first date", async (t) => {
  // Deterministic spread of first dates (2012–2026, some on the 29th–31st) and windows (2026–2028).
  for (let i = 0; i < RULES.length * 6; i++) {
    const rule = RULES[i % RULES.length]!;
    const first = Date.UTC(2012 + (i % 15), (i * 7) % 12, 1 + ((i * 13) % 31), 18, 30);
    const from = Date.UTC(2026, (i * 5) % 12, 1 + (i % 28), 6);
    const to = from + (20 + ((i * 37) % 400)) * DAY;
    const expected = rrulestr(`DTSTART:${iso(first)}Z\nRRULE:${rule}`)
      .between(new Date(from), new Date(to), true)
      .map((d) => d.getTime())
      .slice(0, 500);
    t.same(floatingDates(rule, first, from, to, requestBudget()), expected, `${rule} from ${new Date(first).toISOString()}`);
  }
});

t.test("rules refused, and rules that never produce a date end quickly", async (t) => {
  t.equal(recurrenceProblem("FREQ=SECONDLY"), "event_rrule_too_frequent");
  t.equal(recurrenceProblem("FREQ=HOURLY;INTERVAL=24"), "event_rrule_too_frequent");
  t.equal(recurrenceProblem("FREQ=DAILY;BYHOUR=9,18"), "event_rrule_too_frequent");
  t.equal(recurrenceProblem("FREQ=DAILY;COUNT=1001"), "event_rrule_too_large");
  t.equal(recurrenceProblem("FREQ=WEEKLY;INTERVAL=5000"), "event_rrule_too_large");
  t.equal(recurrenceProblem("FREQ=MONTHLY;BYSETPOS=999;BYDAY=MO"), "event_rrule_invalid", "rrule itself refuses it");
  t.equal(recurrenceProblem("DTSTART:19000101T000000Z"), "event_rrule_invalid");
  t.equal(recurrenceProblem("FREQ=DAILY\nRRULE:FREQ=SECONDLY"), "event_rrule_invalid");
  t.equal(recurrenceProblem("FREQ=MONTHLY;BYDAY=1TU"), null);
  // rrule alone walks these day by day to the year 9999 (seconds); here a bounded number of steps.
  const budget = requestBudget();
  t.same(floatingDates("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", Date.UTC(1950, 0, 1), Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1), budget), []);
  t.ok(budget.steps > 0, "within the request's budget");
  // A request's budget spent: further rules give their first date only if it falls in the window.
  t.same(floatingDates("FREQ=DAILY", Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 5), { steps: 0 }), [Date.UTC(2026, 0, 1)]);
});
