// Slows down password guessing: after too many failed logins for one
// (address, username) pair or one address, further tries wait. In memory: one
// process serves an instance, and a restart only forgives a few minutes.
export class LoginRateLimiter {
  readonly #failures = new Map<string, number[]>();
  readonly #windowMs: number;
  readonly #perAccount: number;
  readonly #perAddress: number;

  constructor(options: { windowMs?: number; perAccount?: number; perAddress?: number } = {}) {
    this.#windowMs = options.windowMs ?? 15 * 60_000;
    this.#perAccount = options.perAccount ?? 5;
    this.#perAddress = options.perAddress ?? 30;
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (list.length) this.#failures.set(key, list);
    else this.#failures.delete(key);
    return list;
  }

  /** Minutes to wait before trying again, or 0 if a try is allowed now. */
  retryAfterMinutes(address: string, username: string, now = Date.now()): number {
    const account = this.#recent(`${address}|${username.toLowerCase()}`, now);
    const all = this.#recent(address, now);
    const blocked = account.length >= this.#perAccount ? account : all.length >= this.#perAddress ? all : null;
    if (!blocked) return 0;
    return Math.max(1, Math.ceil((blocked[0]! + this.#windowMs - now) / 60_000));
  }

  fail(address: string, username: string, now = Date.now()): void {
    for (const key of [`${address}|${username.toLowerCase()}`, address]) {
      this.#failures.set(key, [...this.#recent(key, now), now]);
    }
  }

  succeed(address: string, username: string): void {
    this.#failures.delete(`${address}|${username.toLowerCase()}`);
  }
}
