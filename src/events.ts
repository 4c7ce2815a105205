// In-process events: what just happened to posts and notifications, for the
// streaming API. Listeners must be quick and must not throw; they only queue
// messages for open connections.
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
}

export class EventBus extends EventEmitter<CoopolEvents> {
  constructor() {
    super();
    // One listener per open streaming connection.
    this.setMaxListeners(0);
  }
}
