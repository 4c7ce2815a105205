// Images attached to posts, and documents (PDF) attached to events. Uploads
// are checked (type, size, real image dimensions or PDF header), stored under
// <data>/media with a random, unguessable name, and belong to their uploader
// until a post or an event uses them.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { and, eq, inArray, isNull } from "drizzle-orm";
import { imageSize } from "image-size";
import { UserError } from "../errors.ts";
import { MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE } from "../bounds.ts";
import type { Services } from "../services.ts";
import type { Db } from "../storage/db.ts";
import { newId } from "../storage/ids.ts";
import { media } from "../storage/schema.ts";
import { newToken } from "../storage/tokens.ts";

export type MediaRow = typeof media.$inferSelect;

export const MEDIA_MAX_BYTES = 10 * 1024 * 1024;
export const MEDIA_PER_POST = 4;
export const DESCRIPTION_MAX = 1500;
const TYPES: Record<string, string> = { "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "image/avif": "avif" };
/** Accepted only where documents make sense (event attachments: agendas, motions, leaflets). */
const DOCUMENT_TYPES: Record<string, string> = { "application/pdf": "pdf" };
/** The name of every stored upload (a random token and the type's extension). */
export const FILE_NAME = /^[A-Za-z0-9_-]{20,}\.(jpg|png|gif|webp|avif|pdf)$/;

export function mediaDir(services: Services): string {
  return mediaDirOf(services.config.dataDir);
}

/** Where an instance's uploads live in its data directory (also read by `coopol export`). */
export function mediaDirOf(dataDir: string): string {
  return join(dataDir, "media");
}

export function mediaUrl(origin: string, row: MediaRow): string {
  return row.fileName ? `${origin}/media/${row.fileName}` : row.remoteUrl!;
}

export interface Upload {
  data: Buffer;
  contentType: string;
  description?: string;
}

export function saveUpload(services: Services, actorId: number, upload: Upload, options: { documents?: boolean } = {}): MediaRow {
  const document = options.documents ? DOCUMENT_TYPES[upload.contentType] : undefined;
  const ext = TYPES[upload.contentType] ?? document;
  if (!ext) throw new UserError(options.documents ? "media_type_document" : "media_type", 422);
  if (upload.data.length > MEDIA_MAX_BYTES) throw new UserError("media_too_large", 413, { max: MEDIA_MAX_BYTES / 1024 / 1024 });
  let size: { width?: number; height?: number } = {};
  if (document) {
    // A PDF starts with its version line; anything else only claims to be one.
    if (!upload.data.subarray(0, 1024).includes("%PDF-")) throw new UserError("media_unreadable_document", 422);
  } else {
    try {
      size = imageSize(upload.data);
    } catch {
      // The bytes are not the image they claim to be.
      throw new UserError("media_unreadable", 422);
    }
    // The header says how large the picture is once decoded: refuse it before anyone decodes it.
    const { width = 0, height = 0 } = size;
    if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
      throw new UserError("media_too_many_pixels", 422, { width, height, max: MAX_IMAGE_PIXELS / 1_000_000, side: MAX_IMAGE_SIDE });
    }
  }
  const description = (upload.description ?? "").trim();
  if (description.length > DESCRIPTION_MAX) throw new UserError("media_description_too_long", 422, { max: DESCRIPTION_MAX });
  const fileName = `${newToken()}.${ext}`;
  mkdirSync(mediaDir(services), { recursive: true });
  writeFileSync(join(mediaDir(services), fileName), upload.data, { flag: "wx" });
  return services.db
    .insert(media)
    .values({ id: newId(), actorId, fileName, contentType: upload.contentType, size: upload.data.length, width: size.width ?? null, height: size.height ?? null, description })
    .returning()
    .get();
}

/** A media row its owner may see or change. */
export function ownMedia(db: Db, actorId: number, id: number): MediaRow {
  const row = db.select().from(media).where(and(eq(media.id, id), eq(media.actorId, actorId))).get();
  if (!row) throw new UserError("media_not_found", 404);
  return row;
}

export function describeMedia(db: Db, actorId: number, id: number, description: string): MediaRow {
  ownMedia(db, actorId, id);
  if (description.length > DESCRIPTION_MAX) throw new UserError("media_description_too_long", 422, { max: DESCRIPTION_MAX });
  return db.update(media).set({ description: description.trim() }).where(eq(media.id, id)).returning().get();
}

/** Checks that uploads can go on a new post: the author's own images, not used yet (by a post or an event). */
export function checkAttachable(db: Db, actorId: number, ids: number[]): void {
  if (ids.length > MEDIA_PER_POST) throw new UserError("media_too_many", 422, { max: MEDIA_PER_POST });
  if (ids.length === 0) return;
  const rows = db
    .select({ id: media.id })
    .from(media)
    .where(and(inArray(media.id, ids), eq(media.actorId, actorId), isNull(media.postId), isNull(media.eventId), inArray(media.contentType, Object.keys(TYPES))))
    .all();
  if (rows.length !== new Set(ids).size) throw new UserError("media_not_found", 404);
}

export function attach(db: Db, postId: number, ids: number[]): void {
  ids.forEach((id, position) => db.update(media).set({ postId, position }).where(eq(media.id, id)).run());
}

export function attachmentsOf(db: Db, postIds: number[]): Map<number, MediaRow[]> {
  const byPost = new Map<number, MediaRow[]>();
  if (postIds.length === 0) return byPost;
  for (const row of db.select().from(media).where(inArray(media.postId, postIds)).orderBy(media.postId, media.position).all()) {
    const list = byPost.get(row.postId!) ?? [];
    list.push(row);
    byPost.set(row.postId!, list);
  }
  return byPost;
}

/** Remote attachments of an incoming Note, replacing what was stored for it. */
export function replaceRemoteAttachments(db: Db, postId: number, actorId: number, items: Array<{ url: string; contentType: string; description: string; width: number | null; height: number | null }>): void {
  db.delete(media).where(eq(media.postId, postId)).run();
  items.slice(0, 8).forEach((item, position) =>
    db.insert(media).values({ id: newId(), actorId, postId, remoteUrl: item.url, contentType: item.contentType, description: item.description.slice(0, DESCRIPTION_MAX), width: item.width, height: item.height, position }).run(),
  );
}

/** The bytes of a stored file, or null for names that are not ours. */
export function readMediaFile(services: Services, fileName: string): { data: Buffer; contentType: string } | null {
  const match = FILE_NAME.exec(fileName);
  if (!match) return null;
  try {
    const data = readFileSync(join(mediaDir(services), fileName));
    const contentType = Object.entries({ ...TYPES, ...DOCUMENT_TYPES }).find(([, ext]) => ext === match[1])![0];
    return { data, contentType };
  } catch {
    return null;
  }
}
