// Fake remote servers for the scenarios that need many of them (bench/groups.ts:
// 50 member instances, bench/territory.ts: 100 sections). Real Coopol
// processes would need gigabytes; these are small HTTP servers on 127.0.0.1,
// in the benchmark's process, serving what a real instance must serve for
// Coopol to federate with it (WebFinger, actor documents with a real RSA
// public key) and an inbox that records what it receives. Their actors sign
// what they send with their own key id, so Coopol verifies them as real
// traffic. The scenario says what the inbox does with a delivery.
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { KeyObject, webcrypto } from "node:crypto";
import { Agent, request } from "undici";
import { signPost, type Sender, type SignedPost } from "./inbox.ts";
import { log } from "./measure.ts";
import { freePort } from "../test/helpers/instances.ts";

export interface KeyPair {
  key: webcrypto.CryptoKey;
  publicPem: string;
}

/**
 * `size` RSA key pairs. Generating thousands of them would take minutes, so
 * the fake actors share a few; each actor still has its own key id and
 * document, so the instance fetches, imports and caches one key per actor.
 */
export async function keyPool(size: number, modulusLength: number): Promise<KeyPair[]> {
  return Promise.all(
    Array.from({ length: size }, async () => {
      const pair = await webcrypto.subtle.generateKey(
        { name: "RSASSA-PKCS1-v1_5", modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
        true,
        ["sign", "verify"],
      );
      return { key: pair.privateKey, publicPem: KeyObject.from(pair.publicKey).export({ type: "spki", format: "pem" }) as string };
    }),
  );
}

export interface FakeActor extends Sender {
  username: string;
  /** username@host, for WebFinger. */
  handle: string;
  type: "Person" | "Group";
  name: string;
  summary: string;
  publicPem: string;
}

/** One received POST. */
export interface Delivery {
  /** performance.now() once its body was read. */
  at: number;
  type: string;
  id: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  activity: Record<string, unknown>;
}

/**
 * One fake server: WebFinger and the documents of the actors added to it, and
 * an inbox (the shared `/inbox`; personal inboxes lead to the same handler)
 * that hands each POSTed activity to `receive`. The deliveries it answers
 * with a 2xx are kept in `deliveries`.
 */
export abstract class FakeInstance<A extends FakeActor = FakeActor> {
  readonly server: HttpServer;
  origin = "";
  host = "";
  /** By actor URI. */
  readonly actors = new Map<string, A>();
  readonly deliveries: Delivery[] = [];

  constructor(label: string, options: { keepAliveTimeout?: number } = {}) {
    this.server = createServer((req, res) => void this.route(req, res).catch((error) => {
      log(`${label}: ${String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    }));
    if (options.keepAliveTimeout) this.server.keepAliveTimeout = options.keepAliveTimeout;
  }

  /** Listens on a free port of 127.0.0.1; `origin` and `host` are known from then on. */
  async listen(): Promise<void> {
    const port = await freePort();
    await new Promise<void>((resolve) => this.server.listen(port, "127.0.0.1", resolve));
    this.host = `127.0.0.1:${port}`;
    this.origin = `http://${this.host}`;
  }

  /** The fields of an actor at `path` on this server (to add with `add`, with the scenario's own fields). */
  protected actorAt(path: string, username: string, pair: KeyPair, profile: Pick<FakeActor, "type" | "name" | "summary">): FakeActor {
    const actor = `${this.origin}${path}`;
    return { username, handle: `${username}@${this.host}`, actor, keyId: new URL(`${actor}#main-key`), key: pair.key, publicPem: pair.publicPem, ...profile };
  }

  protected add(actor: A): A {
    this.actors.set(actor.actor, actor);
    return actor;
  }

  /** What the scenario's server does with a delivery: it answers with `reply` (once), then may act on it. */
  protected abstract receive(delivery: Delivery, reply: (status: number) => void): Promise<void> | void;

  count(type: string): number {
    return this.deliveries.filter((d) => d.type === type).length;
  }

  private actorDocument(a: A): Record<string, unknown> {
    return {
      "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
      id: a.actor,
      type: a.type,
      preferredUsername: a.username,
      name: a.name,
      summary: a.summary,
      inbox: `${a.actor}/inbox`,
      outbox: `${a.actor}/outbox`,
      followers: `${a.actor}/followers`,
      following: `${a.actor}/following`,
      endpoints: { sharedInbox: `${this.origin}/inbox` },
      publicKey: { id: a.keyId.href, owner: a.actor, publicKeyPem: a.publicPem },
    };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    if (req.method === "GET" && url.pathname === "/.well-known/webfinger") {
      const resource = url.searchParams.get("resource") ?? "";
      const a = [...this.actors.values()].find((x) => `acct:${x.handle}` === resource);
      if (!a) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/jrd+json" });
      return void res.end(JSON.stringify({ subject: resource, aliases: [a.actor], links: [{ rel: "self", type: "application/activity+json", href: a.actor }] }));
    }
    if (req.method === "GET") {
      const a = this.actors.get(`${this.origin}${url.pathname}`);
      if (!a) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/activity+json" });
      return void res.end(JSON.stringify(this.actorDocument(a)));
    }
    if (req.method !== "POST") return void res.writeHead(405).end();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const at = performance.now();
    const body = Buffer.concat(chunks).toString("utf8");
    let activity: Record<string, unknown>;
    try {
      activity = JSON.parse(body);
    } catch {
      return void res.writeHead(400).end();
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers[name] = value;
    const delivery: Delivery = { at, type: String(activity.type), id: String(activity.id), url: `${this.origin}${req.url}`, headers, body, activity };
    await this.receive(delivery, (status) => {
      res.writeHead(status).end();
      if (status < 300) this.deliveries.push(delivery);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}

// ---------------------------------------------------------------- what the fake actors send

/** Keep-alive connections of this process's requests to the measured instance; closed at the end of each scenario. */
let agent: Agent | undefined;

export const keepAlive = (): Agent => (agent ??= new Agent({ connections: 64 }));

export async function closeConnections(): Promise<void> {
  await agent?.close();
  agent = undefined;
}

/** Sends a signed POST to the instance at `origin`; its status. */
export async function send(origin: string, post: SignedPost): Promise<number> {
  const res = await request(origin + post.path, { method: "POST", headers: post.headers, body: post.body, dispatcher: keepAlive() });
  await res.body.dump();
  return res.statusCode;
}

/** Signs `activity` as `from` and POSTs it to `inbox`; its status. */
export async function postActivity(inbox: string | URL, from: Sender, activity: unknown): Promise<number> {
  const url = new URL(inbox);
  return send(url.origin, await signPost(url, from, JSON.stringify(activity)));
}
