// Fedify logs through LogTape. Without a LogTape configuration its messages
// (a refused signature, a failed or abandoned delivery, an open circuit) go
// nowhere; here they are written into the instance's pino log, so operators
// read one log whatever LOG_LEVEL says.
//
// LogTape's configuration is global to the process. Coopol runs one instance
// per process (main.ts), so the last instance configured receives Fedify's
// records; configuring again (a second createInstance in the same process)
// replaces the previous configuration instead of throwing.
import { AsyncLocalStorage } from "node:async_hooks";
import { inspect } from "node:util";
import { configureSync, type LogLevel, type LogRecord } from "@logtape/logtape";
import type { Logger } from "pino";

/** pino's method for each LogTape level. */
const PINO_METHOD = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warning: "warn",
  error: "error",
  fatal: "fatal",
} as const satisfies Record<LogLevel, string>;

/**
 * The lowest level of Fedify's records kept for a given LOG_LEVEL. Fedify logs
 * a line per successful delivery and per request at `info`, so below `debug`
 * only its warnings and errors are kept.
 */
export function fedifyLogLevel(logLevel: string): LogLevel | null {
  switch (logLevel) {
    case "trace":
      return "trace";
    case "debug":
      return "debug";
    case "error":
      return "error";
    case "fatal":
      return "fatal";
    case "silent":
      return null;
    default: // info, warn
      return "warning";
  }
}

/** The longest log message written (characters). */
const MESSAGE_MAX = 2000;

function render(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value instanceof URL) return value.href;
  return inspect(value, { depth: 2, breakLength: Infinity });
}

/** A LogTape sink that writes each record as one pino line. */
export function pinoSink(log: Logger, verbose: boolean): (record: LogRecord) => void {
  const fedify = log.child({ component: "fedify" });
  const logtape = log.child({ component: "logtape" });
  return (record) => {
    try {
      write(record);
    } catch {
      // A log line must never break what Fedify was doing.
    }
  };
  function write(record: LogRecord): void {
    const fields: Record<string, unknown> = { category: record.category.join(".") };
    for (const [key, value] of Object.entries(record.properties)) {
      // Stack traces and OpenTelemetry ids only at debug level: a server that
      // is down fails every delivery, and the log must stay readable.
      if (value instanceof Error) fields.err = verbose ? value : { type: value.name, message: value.message };
      else if (!verbose && (key === "traceId" || key === "spanId")) continue;
      else if (value instanceof URL) fields[key] = value.href;
      else if (value === null || typeof value !== "object") fields[key] = value;
      // Whole activities and header sets are long: kept at debug level only.
      else if (verbose) fields[key] = value;
    }
    const full = record.message.map((part, i) => (i % 2 === 0 ? String(part) : render(part))).join("");
    // Fedify writes a refused activity into the message: a peer's document is cut short, not copied whole.
    const message = full.length > MESSAGE_MAX ? `${full.slice(0, MESSAGE_MAX)}… (${full.length - MESSAGE_MAX} more characters)` : full;
    (record.category[0] === "logtape" ? logtape : fedify)[PINO_METHOD[record.level]](fields, message);
  }
}

/** Sends Fedify's log (category "fedify") and LogTape's own warnings into `log`. */
export function configureFedifyLogging(log: Logger, logLevel: string): void {
  const lowestLevel = fedifyLogLevel(logLevel);
  configureSync({
    reset: true,
    // Fedify adds per-request properties (trace ids) through LogTape's implicit contexts.
    contextLocalStorage: new AsyncLocalStorage(),
    sinks: { pino: pinoSink(log, lowestLevel === "debug" || lowestLevel === "trace") },
    loggers: [
      { category: "fedify", sinks: ["pino"], lowestLevel },
      { category: ["logtape", "meta"], sinks: ["pino"], lowestLevel: "warning" },
    ],
  });
}
