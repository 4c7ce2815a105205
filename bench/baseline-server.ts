// The baseline the benchmark compares Coopol with: a bare fastify server that
// does one better-sqlite3 INSERT per request and nothing else. Same process
// style as Coopol (one Node process, TypeScript run directly, SQLite in WAL
// mode with the same pragmas, same environment variables), so the gap between
// the two is what Coopol's own work costs: Fedify, signatures, the queue,
// rendering, sessions and CSRF.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import Fastify from "fastify";

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const dataDir = process.env.COOPOL_DATA ?? "data";
mkdirSync(dataDir, { recursive: true });

const db = new Database(join(dataDir, "baseline.sqlite"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("foreign_keys = ON");
db.pragma("busy_timeout = 5000");
db.exec(`create table if not exists hits (
  id integer primary key,
  path text not null,
  body text,
  created_at integer not null
)`);
const insert = db.prepare<[string, string | null, number]>("insert into hits (path, body, created_at) values (?, ?, ?)");

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
// Activity documents are JSON under another media type.
app.addContentTypeParser(["application/activity+json", "application/ld+json"], { parseAs: "string" }, (_request, body, done) => {
  try {
    done(null, JSON.parse(body as string));
  } catch (error) {
    done(error as Error, undefined);
  }
});

app.get("/healthz", () => ({ status: "ok" }));

app.get("/", (request, reply) => {
  insert.run(request.url, null, Date.now());
  return reply.type("text/html; charset=utf-8").send("<!doctype html><title>baseline</title><h1>baseline</h1>");
});

app.post("/inbox", (request, reply) => {
  insert.run(request.url, JSON.stringify(request.body), Date.now());
  return reply.code(202).send();
});

const stop = async () => {
  await app.close();
  db.close();
  process.exit(0);
};
process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());

await app.listen({ host, port });
