// The memory floor of Coopol's fixed stack: fastify, better-sqlite3 and Fedify
// (a federation with one actor dispatcher, its vocabulary loaded), with none of
// Coopol's own code, run with the same Node options and start-up garbage
// collection as `npm start`. The benchmark measures its idle RSS beside
// Coopol's: what Coopol itself adds is the difference.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { restartWithServerOptions, collectStartupGarbage } from "../src/runtime.ts";

restartWithServerOptions();

const { default: Database } = await import("better-sqlite3");
const { default: Fastify } = await import("fastify");
const { createFederation, MemoryKvStore, InProcessMessageQueue } = await import("@fedify/fedify");
const { Person } = await import("@fedify/vocab");

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const dataDir = process.env.COOPOL_DATA ?? "data";
mkdirSync(dataDir, { recursive: true });
const db = new Database(join(dataDir, "floor.sqlite"));
db.pragma("journal_mode = WAL");
db.exec("create table if not exists actors (id integer primary key, username text not null unique, name text)");
db.prepare("insert or ignore into actors (username, name) values (?, ?)").run("alice", "Alice");
const byName = db.prepare<[string], { username: string; name: string }>("select username, name from actors where username = ?");

const federation = createFederation<void>({ kv: new MemoryKvStore(), queue: new InProcessMessageQueue(), origin: `http://${host}:${port}` });
federation.setActorDispatcher("/users/{identifier}", (ctx, identifier) => {
  const row = byName.get(identifier);
  return row ? new Person({ id: ctx.getActorUri(identifier), preferredUsername: row.username, name: row.name }) : null;
});

const app = Fastify({ logger: false });
app.get("/healthz", () => ({ status: "ok" }));
app.get("/users/:name", async (request, reply) => {
  const response = await federation.fetch(new Request(new URL(request.url, `http://${host}:${port}`), { headers: { accept: "application/activity+json" } }), {
    contextData: undefined,
  });
  return reply.code(response.status).type(response.headers.get("content-type") ?? "text/plain").send(await response.text());
});

process.once("SIGTERM", () => void app.close().then(() => process.exit(0)));
process.once("SIGINT", () => void app.close().then(() => process.exit(0)));
await app.listen({ host, port });
setTimeout(collectStartupGarbage, 200).unref();
