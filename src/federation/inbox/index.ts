// Incoming activities, one handler file per type (as Mastodon's
// app/lib/activitypub/activity/ does). Fedify verifies signatures, drops
// duplicates and runs these from the persistent queue.
import type { Federation } from "@fedify/fedify";
import { Accept, Announce, Create, Delete, Flag, Follow, Join, Leave, Like, Move, Read, Reject, TentativeAccept, Undo, Update } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { onAccept } from "./accept.ts";
import { onAnnounce } from "./announce.ts";
import { onCreate } from "./create.ts";
import { onDelete } from "./delete.ts";
import { onFollow } from "./follow.ts";
import { onLike } from "./like.ts";
import { onReject } from "./reject.ts";
import { onUndo } from "./undo.ts";
import { onUpdate } from "./update.ts";
import { onJoin, onLeave, onTentativeAccept } from "./join.ts";
import { onRead } from "./read.ts";
import { onFlag } from "./flag.ts";
import { onMove } from "./move.ts";

export const INBOX_PATH = "/users/{identifier}/inbox";
export const SHARED_INBOX_PATH = "/inbox";

export function registerInbox(federation: Federation<Services>): void {
  federation
    .setInboxListeners(INBOX_PATH, SHARED_INBOX_PATH)
    // Fedify 2's default, said here because delivery relies on it: an activity id
    // already processed in an inbox is skipped (a day), so an outbox row sent again
    // after a crash counts once (docs/federation.md, "Delivery and retries").
    .withIdempotency("per-inbox")
    .on(Follow, onFollow)
    .on(Accept, onAccept)
    .on(Reject, onReject)
    .on(Undo, onUndo)
    .on(Create, onCreate)
    .on(Update, onUpdate)
    .on(Delete, onDelete)
    .on(Like, onLike)
    .on(Announce, onAnnounce)
    .on(Join, onJoin)
    .on(TentativeAccept, onTentativeAccept)
    .on(Leave, onLeave)
    .on(Read, onRead)
    .on(Flag, onFlag)
    .on(Move, onMove)
    .onError((ctx, error) => {
      ctx.data.log.warn({ err: error }, "inbox activity failed");
    });
}
