// Attachments of events: files uploaded through the media module (PDF or
// images: the agenda, a motion, a leaflet) and links (a shared document, a
// petition). Both are rows of `media` carrying the event's id, so uploads,
// storage and serving stay in one place; a link is a row with a URL and no file.
import { and, asc, eq, inArray, isNotNull, isNull, notInArray, or } from "drizzle-orm";
import { UserError } from "../errors.ts";
import { mediaUrl, saveUpload, type MediaRow, type Upload } from "../media/media.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { media } from "../storage/schema.ts";
import { safeUrl } from "../safe-url.ts";

export const ATTACHMENTS_PER_EVENT = 10;
const NAME_MAX = 200;
const LINK_TYPE = "text/html";

/** What an organiser asks for, in order: a file already uploaded, or a link. */
export type AttachmentInput = { mediaId: number } | { url: string; name?: string };

export interface EventAttachment {
  id: number;
  kind: "file" | "link";
  url: string;
  name: string;
  mediaType: string;
}

/** Stores a file meant for an event (documents allowed); its name is what people will see. */
export function uploadEventFile(services: Services, actorId: number, upload: Upload & { fileName?: string }): MediaRow {
  const name = (upload.description?.trim() || upload.fileName?.trim() || "").slice(0, NAME_MAX);
  return saveUpload(services, actorId, { ...upload, description: name }, { documents: true });
}

/**
 * Throws the first problem with a list of attachments: too many, a link that is
 * not http(s), a file that is neither the member's own unused upload nor
 * already on this event (another manager may keep what a colleague attached).
 */
export function checkAttachments(db: Db, uploaderActorId: number, eventId: number | null, items: AttachmentInput[]): void {
  if (items.length > ATTACHMENTS_PER_EVENT) throw new UserError("event_attachments_too_many", 422, { max: ATTACHMENTS_PER_EVENT });
  for (const item of items) {
    if ("url" in item) {
      if (!safeUrl(item.url)) throw new UserError("event_attachment_url_invalid", 422);
      if ((item.name ?? "").length > NAME_MAX) throw new UserError("event_attachment_name_too_long", 422, { max: NAME_MAX });
    }
  }
  const ids = [...new Set(items.flatMap((i) => ("mediaId" in i ? [i.mediaId] : [])))];
  if (ids.length === 0) return;
  const usable = or(and(eq(media.actorId, uploaderActorId), isNull(media.postId), isNull(media.eventId)), eventId == null ? undefined : eq(media.eventId, eventId));
  const found = db.select({ id: media.id }).from(media).where(and(inArray(media.id, ids), isNotNull(media.fileName), usable)).all();
  if (found.length !== ids.length) throw new UserError("media_not_found", 404);
}

/** Makes the event's attachments exactly `items`, in that order (checked by checkAttachments first). */
export function setEventAttachments(db: Db, eventId: number, uploaderActorId: number, items: AttachmentInput[]): void {
  const kept = items.flatMap((i) => ("mediaId" in i ? [i.mediaId] : []));
  db.transaction((tx) => {
    // Links are rewritten; files taken off go back to their uploader's unused uploads (they can be put back).
    tx.delete(media).where(and(eq(media.eventId, eventId), isNull(media.fileName))).run();
    tx.update(media).set({ eventId: null, position: 0 }).where(and(eq(media.eventId, eventId), kept.length ? notInArray(media.id, kept) : undefined)).run();
    items.forEach((item, position) => {
      if ("mediaId" in item) tx.update(media).set({ eventId, position }).where(eq(media.id, item.mediaId)).run();
      else tx.insert(media).values({ id: newId(), actorId: uploaderActorId, eventId, remoteUrl: item.url, contentType: LINK_TYPE, description: item.name?.trim() || "", position }).run();
    });
  });
}

/** Attachments of an event received from another server, replacing what was stored for it. */
export function replaceRemoteEventAttachments(db: Db, eventId: number, actorId: number, items: Array<{ url: string; mediaType: string; name: string }>): void {
  db.transaction((tx) => {
    tx.delete(media).where(eq(media.eventId, eventId)).run();
    items.slice(0, ATTACHMENTS_PER_EVENT).forEach((item, position) =>
      tx.insert(media).values({ id: newId(), actorId, eventId, remoteUrl: item.url, contentType: item.mediaType, description: item.name.slice(0, NAME_MAX), position }).run(),
    );
  });
}

export function attachmentOf(origin: string, row: MediaRow): EventAttachment {
  const url = mediaUrl(origin, row);
  return { id: row.id, kind: row.fileName == null && row.contentType === LINK_TYPE ? "link" : "file", url, name: row.description || url.split("/").pop() || url, mediaType: row.contentType };
}

export function eventAttachments(db: Db, origin: string, eventId: number): EventAttachment[] {
  return eventAttachmentsOf(db, origin, [eventId]).get(eventId) ?? [];
}

/** The attachments of several events, in order, in one query. */
export function eventAttachmentsOf(db: Db, origin: string, eventIds: number[]): Map<number, EventAttachment[]> {
  const out = new Map<number, EventAttachment[]>();
  // Checked again on the way out: a row stored before safeUrl() existed may hold a javascript: link.
  const rows = db.select().from(media).where(inArray(media.eventId, eventIds)).orderBy(asc(media.position)).all();
  for (const row of rows.filter((r) => r.fileName != null || safeUrl(r.remoteUrl))) out.set(row.eventId!, [...(out.get(row.eventId!) ?? []), attachmentOf(origin, row)]);
  return out;
}
