// Slows down password guessing without letting a guesser lock a member out.
//
// The scheme is OWASP's "device cookies" (Slow Down Online Guessing Attacks
// with Device Cookies), as used by large sites:
// - A successful login leaves a device cookie in the browser: a random id and
//   an HMAC binding it to that username (key kept in `settings`). A browser
//   showing a valid one for the username it types is a *trusted client*.
// - Failures are counted per (client, username) — the client being the device
//   cookie if trusted, else the address —: 5 in 15 minutes and that client
//   waits until the oldest one is 15 minutes old.
// - Untrusted clients are also counted per address (30 in 15 minutes, against
//   one address trying many names) and per account across all addresses:
//   from the 5th failure in 15 minutes, untrusted logins to that account wait
//   1, 2, 4, 8 then 15 minutes after the last failure (never longer: a guesser
//   must keep failing to keep the door shut, and gets one guess per delay).
// - A trusted client is never held by the account's or the address's count, so
//   a member keeps logging in from a browser they used before while someone
//   guesses from elsewhere; from a new browser, they wait at most 15 minutes.
// Failures are kept in memory: one process serves an instance, and a restart
// only forgives a few minutes. Tries refused for waiting are not counted.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "../storage/db.ts";
import { settings } from "../storage/schema.ts";

export const DEVICE_COOKIE = "coopol_device";
/** A device stays trusted for a year after its last successful login. */
export const DEVICE_DAYS = 365;
const DEVICE_KEY = "login.device_key";

export interface LoginAttempt {
  address: string;
  username: string;
  /** The id of a device cookie valid for this username (`trustedDevice`), or null. */
  device: string | null;
}

/** Why a try must wait: this browser or address (`client`), or the account as a whole (`account`). */
export interface LoginWait {
  scope: "client" | "account";
  minutes: number;
}

export interface LimiterOptions {
  windowMs?: number;
  perClient?: number;
  perAddress?: number;
  /** Failures of untrusted clients on one account before they wait. */
  perAccount?: number;
  /** First wait of the account-wide count, doubled at each further failure, at most `windowMs`. */
  accountDelayMs?: number;
}

export class LoginRateLimiter {
  readonly #failures = new Map<string, number[]>();
  readonly #windowMs: number;
  readonly #perClient: number;
  readonly #perAddress: number;
  readonly #perAccount: number;
  readonly #accountDelayMs: number;

  constructor(options: LimiterOptions = {}) {
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#perClient = options.perClient ?? 5;
    this.#perAddress = options.perAddress ?? 30;
    this.#perAccount = options.perAccount ?? 5;
    this.#accountDelayMs = options.accountDelayMs ?? 60_000;
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (list.length) this.#failures.set(key, list);
    else this.#failures.delete(key);
    return list;
  }

  #keys(attempt: LoginAttempt) {
    const username = attempt.username.trim().toLowerCase();
    const client = attempt.device ? `device:${attempt.device}` : `address:${attempt.address}`;
    return { client: `${client}|${username}`, address: `address:${attempt.address}`, account: `account:${username}` };
  }

  /** How long this try must wait, or null if it may go ahead now. */
  check(attempt: LoginAttempt, now = Date.now()): LoginWait | null {
    const keys = this.#keys(attempt);
    const minutes = (until: number) => Math.max(1, Math.ceil((until - now) / 60_000));
    const client = this.#recent(keys.client, now);
    if (client.length >= this.#perClient) return { scope: "client", minutes: minutes(client[0]! + this.#windowMs) };
    if (attempt.device) return null;
    const address = this.#recent(keys.address, now);
    if (address.length >= this.#perAddress) return { scope: "client", minutes: minutes(address[0]! + this.#windowMs) };
    const account = this.#recent(keys.account, now);
    if (account.length >= this.#perAccount) {
      const delay = Math.min(this.#windowMs, this.#accountDelayMs * 2 ** (account.length - this.#perAccount));
      const until = account.at(-1)! + delay;
      if (until > now) return { scope: "account", minutes: minutes(until) };
    }
    return null;
  }

  fail(attempt: LoginAttempt, now = Date.now()): void {
    const keys = this.#keys(attempt);
    // A trusted client's failures are its own: they never hold the account for others.
    for (const key of attempt.device ? [keys.client] : [keys.client, keys.address, keys.account]) {
      this.#failures.set(key, [...this.#recent(key, now), now]);
    }
    if (this.#failures.size > 50_000) for (const key of [...this.#failures.keys()]) this.#recent(key, now);
  }

  /** The client's own count is forgiven; the account's is not (the guesser may still be at work). */
  succeed(attempt: LoginAttempt): void {
    this.#failures.delete(this.#keys(attempt).client);
  }
}

const keys = new WeakMap<Db, Buffer>();

/** The instance's key for device cookies, made on first use. */
function deviceKey(db: Db): Buffer {
  let key = keys.get(db);
  if (!key) {
    db.insert(settings).values({ key: DEVICE_KEY, value: JSON.stringify(randomBytes(32).toString("base64url")) }).onConflictDoNothing().run();
    const row = db.select().from(settings).where(eq(settings.key, DEVICE_KEY)).get()!;
    key = Buffer.from(JSON.parse(row.value) as string, "base64url");
    keys.set(db, key);
  }
  return key;
}

function mac(db: Db, id: string, username: string): string {
  return createHmac("sha256", deviceKey(db)).update(`${id}\n${username.trim().toLowerCase()}`).digest("base64url");
}

/** A new device cookie value for a member who just logged in. */
export function newDeviceCookie(db: Db, username: string): string {
  const id = randomBytes(16).toString("base64url");
  return `${id}.${mac(db, id, username)}`;
}

/** The device's id if the cookie was given to this browser when `username` logged in, else null. */
export function trustedDevice(db: Db, cookie: string | undefined, username: string): string | null {
  const [id, given] = (cookie ?? "").split(".");
  if (!id || !given) return null;
  const expected = Buffer.from(mac(db, id, username));
  const sent = Buffer.from(given);
  return sent.length === expected.length && timingSafeEqual(sent, expected) ? id : null;
}
