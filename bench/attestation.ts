// `node bench/run.ts --only=attestation`: verifying one membership attestation
// in-process (src/party/attestations.ts), as a group's instance does when a
// remote member joins or is re-checked: the Object Integrity Proof
// (eddsa-jcs-2022) and the checks around it, 1,000 times. The issuer's actor
// document (with its Ed25519 Multikey) is served by an in-memory loader, as
// Fedify's cache would serve it after the first fetch: network time is not counted.
import { generateCryptoKeyPair } from "@fedify/fedify";
import { Group, Multikey } from "@fedify/vocab";
import { getDocumentLoader, type RemoteDocument } from "@fedify/vocab-runtime";
import { signAttestation, verifyAttestation } from "../src/party/attestations.ts";
import { summarize, type Summary } from "./measure.ts";
import { lat, num, table } from "./report.ts";

const RUNS = 1000;
const ORIGIN = "https://section-75111.example";

export async function attestationBenchmark(): Promise<Summary & { refusedForged: boolean }> {
  const contextLoader = getDocumentLoader();
  const keys = await generateCryptoKeyPair("Ed25519");
  const issuer = `${ORIGIN}/users/section_75111`;
  const keyId = new URL(`${issuer}#key-2`);
  const actor = await new Group({
    id: new URL(issuer),
    assertionMethods: [new Multikey({ id: keyId, controller: new URL(issuer), publicKey: keys.publicKey })],
  }).toJsonLd({ format: "compact", contextLoader });
  const documentLoader = async (url: string): Promise<RemoteDocument> => {
    if (url.split("#")[0] === issuer) return { contextUrl: null, documentUrl: issuer, document: actor };
    return contextLoader(url);
  };
  const now = Date.now();
  const subject = `${ORIGIN}/users/marie`;
  const signed = await signAttestation(
    { id: `${subject}/membership`, subject, issuer, status: "card_holder", since: now - 86_400_000 * 400, sequence: 3, validFrom: now, validUntil: now + 86_400_000 },
    keys.privateKey,
    keyId,
    contextLoader,
  );
  const options = { documentLoader, contextLoader, isPartyNode: (domain: string) => domain === new URL(ORIGIN).host };
  const forged = structuredClone(signed) as { attachment: { value: string } };
  forged.attachment.value = forged.attachment.value.replace("card_holder", "sympathisant");
  const refusedForged = typeof (await verifyAttestation(forged, options)) === "string";
  const samples: number[] = [];
  for (let i = 0; i < RUNS + 20; i++) {
    const began = performance.now();
    const verified = await verifyAttestation(signed, options);
    const took = performance.now() - began;
    if (typeof verified === "string") throw new Error(`attestation refused: ${verified}`);
    if (i >= 20) samples.push(took); // the first ones warm the JIT and jsonld's context cache
  }
  return { ...summarize(samples), refusedForged };
}

export function attestationReport(r: Summary & { refusedForged: boolean }): string[] {
  return [
    "Verifying one membership attestation in-process (proof eddsa-jcs-2022 and checks; issuer's key document cached):",
    table(["", "runs", "p50", "p99", "per second"], [["verify", String(r.runs), lat(r.p50), lat(r.p99), num(r.perSecond)]]),
    `A forged copy (status changed after signing) is refused: ${r.refusedForged ? "yes" : "NO"}.`,
  ];
}
