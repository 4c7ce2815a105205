// Oversight requests of a fédération to its declared sections
// (src/territory/links.ts), on a real instance database: which children a
// round asks again. The lookups a round would make over the network are
// counted here (no section answers: this is about what is asked, not sent).
import t from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { loadConfig } from "../src/config.ts";
import { ensureInstanceActors } from "../src/federation/actors.ts";
import { record } from "../src/outbox/outbox.ts";
import type { Services } from "../src/services.ts";
import { openDatabase } from "../src/storage/db.ts";
import { newId } from "../src/storage/ids.ts";
import { actors, outbox, territoryLinks } from "../src/storage/schema.ts";
import { linksOf, requestOversight, syncDeclaredLinks } from "../src/territory/links.ts";

t.test("a child whose last request has not left the outbox is not asked again; once it has, it is", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "coopol-links-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ COOPOL_DATA: dir, COOPOL_ORIGIN: "http://fed.example", COOPOL_KIND: "federation", COOPOL_CHILDREN: "s1@s1.example", COOPOL_HANDLE: "federation" });
  const db = openDatabase(join(dir, "coopol.sqlite"));
  t.teardown(() => db.$client.close());
  ensureInstanceActors(db, config);
  syncDeclaredLinks(db, config);
  const childId = newId();
  db.insert(actors).values({ id: childId, uri: "http://s1.example/users/s1", username: "s1", domain: "s1.example", type: "Group", local: false, inboxUrl: "http://s1.example/inbox" }).run();
  // Asked ten minutes ago and still unanswered: due for a new request, were it not still in the outbox.
  const link = linksOf(db, "child")[0]!;
  db.update(territoryLinks).set({ state: "pending", actorId: childId, followUri: "http://fed.example/users/federation#oversight/1", updatedAt: Date.now() - 600_000 }).run();
  record(db, { kind: "territory.oversight.requested", childId, followUri: "http://fed.example/users/federation#oversight/1" });

  const lookups: string[] = [];
  const services = {
    config,
    db,
    log: pino({ level: "silent" }),
    remote: { lookup: async (handle: string) => (lookups.push(handle), null), resolve: async () => null },
  } as unknown as Services;

  await requestOversight(services);
  t.same(lookups, [], "the request waiting in the outbox is not doubled");
  t.equal(db.select().from(outbox).all().length, 1, "still one row");

  db.delete(outbox).run();
  await requestOversight(services);
  t.same(lookups, [link.handle], "once it has left, the unanswered child is asked again");
});
