// Signed Create(Note) activities for the inbox benchmark. They are signed in
// the benchmark process with the private key of a member of a second, real
// Coopol instance (read from that instance's SQLite file), so the receiving
// instance verifies them exactly as it would verify real traffic: it fetches
// the sender's key and actor from the sending instance once, then caches them.
import type { webcrypto } from "node:crypto";
import { importJwk, signRequest } from "@fedify/fedify";
import type { Server } from "./servers.ts";

export interface Sender {
  actor: string;
  keyId: URL;
  key: webcrypto.CryptoKey;
}

export interface SignedPost {
  path: string;
  headers: Record<string, string>;
  body: string;
}

const PUBLIC = "https://www.w3.org/ns/activitystreams#Public";

/** The sender's actor URI, key id and RSA private key, as the sending instance stores them. */
export async function loadSender(sending: Server, username: string): Promise<Sender> {
  // The instance makes an actor's key pairs the first time its document is asked for.
  const res = await fetch(`${sending.origin}/users/${username}`, { headers: { accept: "application/activity+json" } });
  if (!res.ok) throw new Error(`actor ${username} on ${sending.origin}: ${res.status}`);
  const document = (await res.json()) as { id: string; publicKey?: { id?: string } };
  if (!document.publicKey?.id) throw new Error(`actor ${username} has no public key`);
  const row = sending.query<{ private_jwk: string }>(
    `select private_jwk from actor_keys join actors on actors.id = actor_keys.actor_id
     where actors.username = ? and actors.local = 1 and algorithm = 'RSASSA-PKCS1-v1_5'`,
    username,
  )[0];
  if (!row) throw new Error(`no RSA key stored for ${username}`);
  const key = (await importJwk(JSON.parse(row.private_jwk), "private")) as webcrypto.CryptoKey;
  return { actor: document.id, keyId: new URL(document.publicKey.id), key };
}

/** A distinct public Create(Note) by the sender, with an object on the sender's origin. */
export function createActivity(sender: Sender, tag: string, n: number, followers?: string): Record<string, unknown> {
  const note = `${sender.actor}/posts/bench-${tag}-${n}`;
  const published = new Date().toISOString();
  return {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: `${note}/activity`,
    type: "Create",
    actor: sender.actor,
    published,
    to: [PUBLIC],
    ...(followers ? { cc: [followers] } : {}),
    object: {
      id: note,
      type: "Note",
      attributedTo: sender.actor,
      content: `<p>Benchmark message ${tag} n° ${n}: compte rendu de la réunion de section, ordre du jour et prochaines actions.</p>`,
      published,
      to: [PUBLIC],
      ...(followers ? { cc: [followers] } : {}),
    },
  };
}

/**
 * Signs `count` distinct activities for `target`'s shared inbox (HTTP
 * Signatures with a Digest, as Fedify sends them), a few at a time.
 */
export async function signActivities(target: Server, sender: Sender, tag: string, count: number, followers?: string): Promise<SignedPost[]> {
  const url = new URL("/inbox", target.origin);
  const signed: SignedPost[] = new Array(count);
  const BATCH = 64;
  for (let start = 0; start < count; start += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, count - start) }, async (_, k) => {
        const n = start + k;
        signed[n] = await signPost(url, sender, JSON.stringify(createActivity(sender, tag, n, followers)));
      }),
    );
  }
  return signed;
}

/** One signed POST of `body` to `url`, ready to send as is. */
export async function signPost(url: URL, sender: Sender, body: string): Promise<SignedPost> {
  const request = await signRequest(
    new Request(url, { method: "POST", headers: { "content-type": "application/activity+json", accept: "application/activity+json" }, body }),
    sender.key,
    sender.keyId,
  );
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  headers.host = url.host;
  return { path: url.pathname, headers, body };
}
