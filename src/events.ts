// In-process events: what just happened to posts and notifications, and to
// the rights of members and tokens, for the streaming API. Listeners must be
// quick and must not throw; they only queue messages for open connections.
// Changes made by the CLI (another process) are not seen here: streaming
// connections re-check their rights on their own too.
import { EventEmitter } from "node:events";
import type { notifications, posts } from "./storage/schema.ts";

type PostRow = typeof posts.$inferSelect;
type NotificationRow = typeof notifications.$inferSelect;

export interface CoopolEvents {
  /** A post (or boost) was stored, local or remote. */
  "post.created": [PostRow];
  "post.updated": [PostRow];
  "post.deleted": [PostRow];
  "notification.created": [NotificationRow];
  /** A member's role or state (disabled, enabled) changed. */
  "member.changed": [{ userId: number }];
  /** Access tokens were revoked (by the app, or by the member on /settings/apps). */
  "token.revoked": [{ tokenIds: number[] }];
}

export class EventBus extends EventEmitter<CoopolEvents> {
  constructor() {
    super();
    // One listener per open streaming connection.
    this.setMaxListeners(0);
  }
}
