// Fedify's types use the standard Temporal; Node 24 does not ship it yet, so
// values come from the polyfill Fedify itself uses. The cast lives here only.
import { Temporal as Polyfill } from "@js-temporal/polyfill";

export function instant(epochMs: number): Temporal.Instant {
  return Polyfill.Instant.fromEpochMilliseconds(epochMs) as unknown as Temporal.Instant;
}

export function duration(ms: number): Temporal.Duration {
  return Polyfill.Duration.from({ milliseconds: ms }) as unknown as Temporal.Duration;
}

/**
 * A duration in milliseconds. The polyfill's `total()` does its arithmetic on
 * big integers and is slow enough to show in profiles of the inbox (the KV
 * store computes a TTL several times per activity); durations made of days and
 * smaller units, the only ones Fedify and Coopol use for TTLs and delays, are
 * summed directly. Years, months and weeks still go through `total()`.
 */
export function millisecondsOf(d: Temporal.Duration): number {
  if (d.years || d.months || d.weeks) return d.total({ unit: "millisecond" });
  return (
    ((d.days * 24 + d.hours) * 60 + d.minutes) * 60_000 + d.seconds * 1000 + d.milliseconds + d.microseconds / 1000 + d.nanoseconds / 1_000_000
  );
}
