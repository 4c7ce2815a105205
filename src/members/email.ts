// A member's e-mail address and whether they want reminders and a digest of
// notifications by e-mail. The address is private: it is used for these
// e-mails only, never shown or federated.
import { eq } from "drizzle-orm";
import { MAIL_ADDRESS } from "../config.ts";
import { UserError } from "../errors.ts";
import type { Db } from "../storage/db.ts";
import { users } from "../storage/schema.ts";
import type { Locale } from "../web/i18n.ts";
import type { User } from "./members.ts";

export interface EmailSettings {
  /** Empty to remove the address. */
  email: string;
  reminders: boolean;
  /** A digest of unread notifications by e-mail (left as it is when not given). */
  digest?: boolean;
  /** The language the member reads the site in: reminders are written in it. */
  locale?: Locale;
}

export function setEmailSettings(db: Db, user: User, settings: EmailSettings): User {
  const email = settings.email.trim();
  if (email && (email.length > 254 || !MAIL_ADDRESS.test(email))) throw new UserError("email_invalid", 422);
  if ((settings.reminders || settings.digest) && !email) throw new UserError("email_needed_for_reminders", 422);
  return db
    .update(users)
    .set({ email: email || null, emailReminders: settings.reminders, ...(settings.digest !== undefined ? { emailDigest: settings.digest } : {}), ...(settings.locale ? { locale: settings.locale } : {}) })
    .where(eq(users.id, user.id))
    .returning()
    .get();
}
