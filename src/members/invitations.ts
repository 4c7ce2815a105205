// Registration is by invitation only: single-use links that expire.
import { and, eq, gt, isNull } from "drizzle-orm";
import type { Config } from "../config.ts";
import { UserError } from "../errors.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { invitations, type Role } from "../storage/schema.ts";
import { hashToken, newToken } from "../storage/tokens.ts";
import { createMemberWithHash, parseRole, usernameProblem, type User } from "./members.ts";
import { hashPassword, passwordProblem } from "./passwords.ts";

export const INVITATION_DAYS = 7;

export interface CreatedInvitation {
  token: string;
  url: string;
  role: Role;
  expiresAt: number;
}

export function createInvitation(
  db: Db,
  config: Config,
  options: { role: Role; createdBy?: number | null; days?: number },
  now = Date.now(),
): CreatedInvitation {
  parseRole(options.role);
  const days = options.days ?? INVITATION_DAYS;
  if (!(days > 0 && days <= 90)) throw new UserError("invitation_days_invalid");
  const token = newToken();
  const expiresAt = now + days * 86_400_000;
  db.insert(invitations)
    .values({ id: newId(now), tokenHash: hashToken(token), role: options.role, createdBy: options.createdBy ?? null, createdAt: now, expiresAt })
    .run();
  return { token, url: `${config.origin}/invite/${token}`, role: options.role, expiresAt };
}

/** The invitation behind a link, if it can still be used. */
export function findUsableInvitation(db: Db, token: string, now = Date.now()) {
  return db
    .select()
    .from(invitations)
    .where(and(eq(invitations.tokenHash, hashToken(token)), isNull(invitations.usedAt), gt(invitations.expiresAt, now)))
    .get();
}

/** Creates the account and spends the invitation in one transaction: a link opens one account. */
export async function redeemInvitation(
  db: Db,
  config: Config,
  token: string,
  input: { username: string; displayName?: string; password: string },
  now = Date.now(),
): Promise<User> {
  if (!findUsableInvitation(db, token, now)) throw new UserError("invitation_invalid", 410);
  const username = input.username.trim().toLowerCase();
  const problem = usernameProblem(config, username) ?? passwordProblem(input.password);
  if (problem) throw new UserError(problem);
  const passwordHash = await hashPassword(input.password);
  return db.transaction((tx) => {
    // Checked again inside the transaction: two people may use one link at once.
    const invitation = findUsableInvitation(tx, token, now);
    if (!invitation) throw new UserError("invitation_invalid", 410);
    const user = createMemberWithHash(tx, config, { username, displayName: input.displayName, passwordHash, role: invitation.role });
    tx.update(invitations).set({ usedAt: now, usedBy: user.id }).where(eq(invitations.id, invitation.id)).run();
    return user;
  });
}
