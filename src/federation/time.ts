// Fedify's types use the standard Temporal; Node 24 does not ship it yet, so
// values come from the polyfill Fedify itself uses. The cast lives here only.
import { Temporal as Polyfill } from "@js-temporal/polyfill";

export function instant(epochMs: number): Temporal.Instant {
  return Polyfill.Instant.fromEpochMilliseconds(epochMs) as unknown as Temporal.Instant;
}

export function duration(ms: number): Temporal.Duration {
  return Polyfill.Duration.from({ milliseconds: ms }) as unknown as Temporal.Duration;
}
