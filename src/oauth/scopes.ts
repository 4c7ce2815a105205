// OAuth scopes as Mastodon defines them: read, write, follow, push and their
// granular forms (read:statuses, write:media…). A top-level scope grants all of
// its granular ones; the legacy `follow` scope grants follows, blocks and mutes.
import { UserError } from "../errors.ts";

const GRANULAR: Record<string, readonly string[]> = {
  read: ["accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes", "notifications", "search", "statuses"],
  write: ["accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists", "media", "mutes", "notifications", "reports", "statuses"],
};
const TOP = ["read", "write", "follow", "push", "profile"];
const FOLLOW_GRANTS = ["read:follows", "write:follows", "read:blocks", "write:blocks", "read:mutes", "write:mutes"];

export const KNOWN_SCOPES: readonly string[] = [...TOP, ...Object.entries(GRANULAR).flatMap(([top, subs]) => subs.map((s) => `${top}:${s}`))];

/** Parses a space- (or +-) separated scope list; an unknown scope is refused. */
export function parseScopes(text: string | undefined | null, fallback = "read"): string[] {
  const scopes = [...new Set((text?.trim() || fallback).split(/[\s+]+/).filter(Boolean))];
  for (const scope of scopes) {
    if (!KNOWN_SCOPES.includes(scope)) throw new UserError("oauth_invalid_scope", 400, { scope });
  }
  return scopes;
}

export function hasScope(granted: readonly string[], required: string): boolean {
  if (granted.includes(required)) return true;
  const [top] = required.split(":");
  if (granted.includes(top!)) return true;
  if (granted.includes("follow") && FOLLOW_GRANTS.includes(required)) return true;
  // `profile` lets an app know who logged in, nothing more.
  return required === "profile" && granted.some((s) => s === "read" || s === "read:accounts");
}

/** Whether every scope asked for is within what an app registered. */
export function withinScopes(asked: readonly string[], registered: readonly string[]): boolean {
  return asked.every((scope) => hasScope(registered, scope));
}
