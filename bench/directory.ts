// The party directory at the size: a 5,000-node document signed as
// the national node signs it, then received by a section as its inbox would
// (parse, bounds, proof, store), on a real instance's database in this
// process. Measured: signing and verification time, the document's size,
// what the copy costs a section (database and heap), isPartyDomain's time,
// and the time for an update to go down one level to N sections, from which
// the time to reach every section is extrapolated (docs/performance.md).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { statSync } from "node:fs";
import type { webcrypto } from "node:crypto";
import { exportJwk, generateCryptoKeyPair } from "@fedify/fedify";
import { loadConfig } from "../src/config.ts";
import { createInstance } from "../src/app.ts";
import { acceptDirectory, isPartyDomain, readDirectory, signedDirectory } from "../src/party/directory.ts";
import { verifyDocument } from "../src/party/proof.ts";
import { settings } from "../src/storage/schema.ts";
import { loadAverage, log, summarize } from "./measure.ts";
import { mib, ms, numberOption, table } from "./report.ts";

export interface DirectoryResult {
  load: string;
  nodes: number;
  bytes: number;
  sign: number;
  verify: ReturnType<typeof summarize>;
  parse: ReturnType<typeof summarize>;
  accept: ReturnType<typeof summarize>;
  lookup: number;
  dbBytes: number;
  heapBytes: number;
  sections: number;
  reachAll: number;
}

const NATIONAL = "https://national.example/users/national";

function entries(n: number, version: number) {
  const list = [{ actorUri: NATIONAL, kind: "national" as const, name: "National", territory: null, parentUri: null }];
  for (let f = 0; f < 100; f++) list.push({ actorUri: `https://fede${f}.example/users/federation_${f}`, kind: "federation" as const, name: `Fédération ${f}`, territory: String(f + 1).padStart(2, "0"), parentUri: NATIONAL } as never);
  for (let s = 0; list.length < n; s++) {
    list.push({ actorUri: `https://section${s}.example/users/section_${s}`, kind: "section" as const, name: `Section n° ${s} (v${version})`, territory: null, parentUri: `https://fede${s % 100}.example/users/federation_${s % 100}` } as never);
  }
  return list;
}

async function instance(dir: string) {
  const env = { COOPOL_DATA: dir, COOPOL_ORIGIN: "http://127.0.0.1:1", LOG_LEVEL: "silent", COOPOL_ALLOW_PRIVATE_ADDRESS: "true", COOPOL_NAME: "Section" };
  return createInstance(loadConfig(env));
}

export async function directoryBenchmark(options: { nodes?: number; sections?: number } = {}): Promise<DirectoryResult> {
  const nodes = options.nodes ?? 5000;
  const sections = options.sections ?? 10;
  const load = loadAverage();
  const pair = await generateCryptoKeyPair("Ed25519");
  const key = { privateKey: pair.privateKey as webcrypto.CryptoKey, keyId: `${NATIONAL}#multikey-2` };
  const pin = JSON.stringify({ nationalUri: NATIONAL, keyId: key.keyId, jwk: await exportJwk(pair.publicKey) });
  const id = "https://national.example/party/directory";

  log(`directory: signing ${nodes} nodes`);
  let t0 = performance.now();
  const doc = await signedDirectory(NATIONAL, id, 1, entries(nodes, 1), key);
  const sign = performance.now() - t0;
  const text = JSON.stringify(doc);

  const verify: number[] = [];
  const parse: number[] = [];
  for (let i = 0; i < 20; i++) {
    t0 = performance.now();
    const parsed = JSON.parse(text);
    readDirectory(parsed);
    parse.push(performance.now() - t0);
    t0 = performance.now();
    if (!(await verifyDocument(parsed, pair.publicKey as webcrypto.CryptoKey))) throw new Error("proof does not verify");
    verify.push(performance.now() - t0);
  }

  // A section receives successive versions: the whole acceptance (parse, bounds, proof, store).
  log(`directory: a section accepts ${nodes}-node versions`);
  const dir = mkdtempSync(join(tmpdir(), "coopol-bench-directory-"));
  const section = await instance(dir);
  section.services.db.insert(settings).values({ key: "party.national_key", value: pin }).run();
  const accept: number[] = [];
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let v = 1; v <= 10; v++) {
    const version = await signedDirectory(NATIONAL, id, v, entries(nodes, v), key);
    const body = JSON.stringify(version);
    t0 = performance.now();
    const outcome = await acceptDirectory(section.services, body);
    accept.push(performance.now() - t0);
    if (!outcome.accepted) throw new Error(`refused: ${outcome.reason}`);
  }
  globalThis.gc?.();
  const heapBytes = process.memoryUsage().heapUsed - heapBefore;
  t0 = performance.now();
  for (let i = 0; i < 10_000; i++) isPartyDomain(section.services.db, `section${i}.example`);
  const lookup = (performance.now() - t0) / 10_000;
  section.services.db.$client.pragma("wal_checkpoint(TRUNCATE)");
  const dbBytes = statSync(join(dir, "coopol.sqlite")).size;
  await section.close();

  // One level down: N sections each fetch-and-accept the new version from their fédération,
  // here one after the other on this process (the worst case: one CPU for everyone).
  log(`directory: one level down to ${sections} sections`);
  const copies = [];
  for (let i = 0; i < sections; i++) {
    const s = await instance(mkdtempSync(join(tmpdir(), "coopol-bench-directory-")));
    s.services.db.insert(settings).values({ key: "party.national_key", value: pin }).run();
    copies.push(s);
  }
  const update = JSON.stringify(await signedDirectory(NATIONAL, id, 99, entries(nodes, 99), key));
  t0 = performance.now();
  for (const s of copies) {
    const outcome = await acceptDirectory(s.services, update);
    if (!outcome.accepted) throw new Error(`refused: ${outcome.reason}`);
  }
  const reachAll = performance.now() - t0;
  for (const s of copies) await s.close();

  return { load, nodes, bytes: Buffer.byteLength(text), sign, verify: summarize(verify), parse: summarize(parse), accept: summarize(accept), lookup, dbBytes, heapBytes, sections, reachAll };
}

export function directoryOptions(argv: string[]): { nodes?: number; sections?: number } {
  return { nodes: numberOption(argv, "directory-nodes"), sections: numberOption(argv, "directory-sections") };
}

export function directoryReport(r: DirectoryResult): string[] {
  return [
    `Party directory: ${r.nodes.toLocaleString("en")} nodes, ${(r.bytes / 1024).toFixed(0)} KiB as JSON.`,
    "",
    table(
      ["Step", "median", "p99"],
      [
        ["Sign (national, once per version)", ms(r.sign), ""],
        ["Parse + bounds check", ms(r.parse.p50), ms(r.parse.p99)],
        ["Verify the proof (JCS + SHA-256 + Ed25519)", ms(r.verify.p50), ms(r.verify.p99)],
        ["Accept a new version (parse, check, verify, store)", ms(r.accept.p50), ms(r.accept.p99)],
        ["isPartyDomain (indexed lookup)", ms(r.lookup), ""],
      ],
    ),
    "",
    `A section's copy: database ${mib(r.dbBytes / 1048576)} after 10 versions (document + one row per node); heap after GC ${mib(Math.max(0, r.heapBytes) / 1048576)} more than before (nothing is kept in memory).`,
    `One level down, ${r.sections} sections accepting the update one after the other on one CPU: ${ms(r.reachAll)} (${ms(r.reachAll / r.sections)} each).`,
    `Extrapolation (docs/performance.md): a section's work is independent of the others', so 100 sections of one fédération on their own servers take one acceptance (${ms(r.accept.p50)}) after the notice, plus the fédération serving 100 × ${(r.bytes / 1048576).toFixed(1)} MB; on one CPU, 100 × ${ms(r.reachAll / r.sections)} = ${ms((100 * r.reachAll) / r.sections)}.`,
  ];
}
