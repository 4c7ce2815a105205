// Signed inbox requests from a real actor of a running instance: its private
// key is read from that instance's database, then Fedify signs as it would.
import type { webcrypto } from "node:crypto";
import { importJwk, signRequest } from "@fedify/fedify";
import { request } from "undici";
import { WebSession } from "./browser-session.ts";
import type { TestInstance } from "./instances.ts";

export interface Signer {
  actorUri: string;
  key: webcrypto.CryptoKey;
  keyId: URL;
}

export async function signerFor(instance: TestInstance, username: string): Promise<Signer> {
  // Fetching the actor makes the instance create its keys.
  const actor = JSON.parse((await new WebSession(instance.origin).get(`/users/${username}`, { accept: "application/activity+json" })).body);
  const row = instance.query<{ private_jwk: string }>(
    "select private_jwk from actor_keys join actors on actors.id = actor_keys.actor_id where actors.username = ? and actors.local = 1 and algorithm = 'RSASSA-PKCS1-v1_5'",
    username,
  )[0]!;
  return { actorUri: actor.id, key: (await importJwk(JSON.parse(row.private_jwk), "private")) as webcrypto.CryptoKey, keyId: new URL(actor.publicKey.id) };
}

/** POSTs an activity to an inbox, signed by `signer`; returns the HTTP status. */
export async function postSigned(inbox: string, activity: unknown, signer: Signer): Promise<{ status: number; body: string }> {
  return postSignedText(inbox, JSON.stringify(activity), signer);
}

/** The same with the body as text (one JSON.stringify cannot write, e.g. nested 200,000 levels deep). */
export async function postSignedText(inbox: string, body: string, signer: Signer): Promise<{ status: number; body: string }> {
  const req = await signRequest(
    new Request(inbox, { method: "POST", headers: { "content-type": "application/activity+json", accept: "application/activity+json" }, body }),
    signer.key,
    signer.keyId,
  );
  const headers: Record<string, string> = {};
  req.headers.forEach((v, k) => (headers[k] = v));
  const res = await request(req.url, { method: "POST", headers, body: Buffer.from(await req.arrayBuffer()) });
  return { status: res.statusCode, body: await res.body.text() };
}
