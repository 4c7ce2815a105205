// Random tokens handed to people (cookies, invitation links, first-run link) are
// stored only as SHA-256 hashes: a stolen database file opens no account.
import { createHash, randomBytes } from "node:crypto";

export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
