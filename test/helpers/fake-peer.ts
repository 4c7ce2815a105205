// A small HTTP server on 127.0.0.1 posing as another project's server: it
// serves the actors it is told of (each with the same RSA key, as a real
// server's documents would carry theirs), answers WebFinger for them, keeps
// what is POSTed to its inboxes, and accepts follows at once. Activities are
// signed with its key (`send`), as that server would sign them.
import { createServer, type Server } from "node:http";
import type { webcrypto } from "node:crypto";
import { exportSpki, generateCryptoKeyPair } from "@fedify/fedify";
import { freePort } from "./instances.ts";
import { postSigned } from "./signing.ts";

export interface FakePeer {
  origin: string;
  /** Bodies POSTed to any inbox of this server, in order. */
  received: Array<Record<string, unknown>>;
  /** Serves an actor document at this id (a Person, or the given type). */
  addActor(id: string, type?: string): void;
  /** POSTs `activity` to `inbox`, signed as `signer` (an actor of this server). */
  send(inbox: string, activity: unknown, signer: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

export interface FakePeerOptions {
  /** Its inboxes accept the connection and never answer: a server that hangs (deliveries to it wait for their timeout). */
  silentInboxes?: boolean;
}

export async function startFakePeer(options: FakePeerOptions = {}): Promise<FakePeer> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const keys = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
  const pem = await exportSpki(keys.publicKey);
  const actors = new Map<string, string>();
  const received: Array<Record<string, unknown>> = [];
  let accepted = 0;

  const actorDocument = (id: string, type: string) => {
    const name = decodeURIComponent(new URL(id).pathname.split("/").filter(Boolean).pop() ?? "actor").replace(/^@/, "");
    return {
      "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
      id,
      type,
      preferredUsername: name,
      name,
      inbox: `${id}/inbox`,
      outbox: `${id}/outbox`,
      followers: `${id}/followers`,
      endpoints: { sharedInbox: `${origin}/inbox` },
      publicKey: { id: `${id}#main-key`, owner: id, publicKeyPem: pem },
    };
  };

  const peer: FakePeer = {
    origin,
    received,
    addActor(id, type = "Person") {
      if (!actors.has(id)) actors.set(id, type);
    },
    send: (inbox, activity, signer) =>
      postSigned(inbox, activity, { actorUri: signer, key: keys.privateKey as webcrypto.CryptoKey, keyId: new URL(`${signer}#main-key`) }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Connections left hanging by silent inboxes.
        server.closeAllConnections();
      }),
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", origin);
    const id = `${origin}${url.pathname}`;
    if (req.method === "POST" && options.silentInboxes) {
      received.push({ silent: url.pathname });
      return;
    }
    if (req.method === "POST") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        res.writeHead(202).end();
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          return;
        }
        received.push(body);
        // A follow of one of our actors is accepted at once, as an unlocked account does.
        const followed = typeof body.object === "string" ? body.object : null;
        if (body.type === "Follow" && followed && actors.has(followed) && typeof body.actor === "string") {
          const accept = { "@context": "https://www.w3.org/ns/activitystreams", id: `${followed}#accepts/${++accepted}`, type: "Accept", actor: followed, object: body };
          void peer.send(`${body.actor}/inbox`, accept, followed).catch(() => {});
        }
      });
      return;
    }
    if (url.pathname === "/.well-known/webfinger") {
      const resource = url.searchParams.get("resource") ?? "";
      const found = [...actors.keys()].find((a) => resource === `acct:${actorDocument(a, "Person").preferredUsername}@${url.host}` || resource === a);
      if (!found) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/jrd+json" });
      return void res.end(JSON.stringify({ subject: resource, links: [{ rel: "self", type: "application/activity+json", href: found }] }));
    }
    // JSON-LD contexts of its own, as some servers publish (one too large to be read).
    if (req.method === "GET" && url.pathname.startsWith("/contexts/")) {
      const padding = url.pathname.includes("huge") ? { padding: "x".repeat(300 * 1024) } : {};
      res.writeHead(200, { "content-type": "application/ld+json" });
      return void res.end(JSON.stringify({ "@context": { fake: "https://fake.example/ns#", mood: "fake:mood", ...padding } }));
    }
    const type = actors.get(id);
    if (req.method === "GET" && type) {
      res.writeHead(200, { "content-type": "application/activity+json" });
      return void res.end(JSON.stringify(actorDocument(id, type)));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return peer;
}
