// First run: while the instance has no account, a one-time link lets the first
// person create the section's secretary account. A new link replaces the old
// one at each start, since only its hash is kept.
import { eq } from "drizzle-orm";
import type { Config } from "../config.ts";
import { UserError } from "../errors.ts";
import type { Db } from "../storage/db.ts";
import { settings } from "../storage/schema.ts";
import { hashToken, newToken } from "../storage/tokens.ts";
import { countUsers, createMember, type User } from "./members.ts";

const KEY = "setup_token_hash";

/** Returns the set-up link if the instance still needs its first account. */
export function prepareFirstRun(db: Db, config: Config): string | null {
  if (countUsers(db) > 0) return null;
  const token = newToken();
  db.insert(settings)
    .values({ key: KEY, value: JSON.stringify(hashToken(token)) })
    .onConflictDoUpdate({ target: settings.key, set: { value: JSON.stringify(hashToken(token)) } })
    .run();
  return `${config.origin}/setup/${token}`;
}

export function isSetupTokenValid(db: Db, token: string): boolean {
  if (countUsers(db) > 0) return false;
  const row = db.select().from(settings).where(eq(settings.key, KEY)).get();
  return !!row && JSON.parse(row.value) === hashToken(token);
}

export async function completeFirstRun(
  db: Db,
  config: Config,
  token: string,
  input: { username: string; displayName?: string; password: string },
): Promise<User> {
  if (!isSetupTokenValid(db, token)) throw new UserError("setup_link_invalid", 410);
  const user = await createMember(db, config, { ...input, role: "secretary" });
  db.delete(settings).where(eq(settings.key, KEY)).run();
  return user;
}
