// FEP-8b32 Object Integrity Proofs, cryptosuite eddsa-jcs-2022, over plain
// JSON documents. Fedify's `signObject` signs its own vocabulary objects only
// (a round trip through them would drop the directory's entries), so the
// directory is signed here with the same algorithm Fedify verifies:
//   Ed25519( SHA-256(JCS(proof options + document's @context)) ‖ SHA-256(JCS(document without proof)) )
// JCS is RFC 8785: keys sorted by UTF-16 code units, numbers and strings as
// ECMAScript's JSON.stringify writes them.
import { createHash, webcrypto } from "node:crypto";

type Json = Record<string, unknown>;

export const CRYPTOSUITE = "eddsa-jcs-2022";

/** RFC 8785 JSON Canonicalization Scheme. */
export function canonicalize(value: unknown): string {
  if (value === null || typeof value !== "object") {
    if (typeof value === "number" && !Number.isFinite(value)) throw new TypeError("JCS: number not finite");
    return JSON.stringify(value) ?? "null";
  }
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(",")}]`;
  const keys = Object.keys(value).filter((k) => (value as Json)[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalize((value as Json)[k])}`).join(",")}}`;
}

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** Multibase base58-btc ("z…"), as FEP-8b32 writes proofValue. */
export function toMultibase(bytes: Uint8Array): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
  let out = "";
  while (n > 0n) {
    out = BASE58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = "1" + out;
  }
  return "z" + out;
}

export function fromMultibase(text: string): Uint8Array | null {
  if (!text.startsWith("z") || text.length > 200) return null;
  let n = 0n;
  let zeros = 0;
  const body = text.slice(1);
  for (const c of body) {
    const digit = BASE58.indexOf(c);
    if (digit < 0) return null;
    n = n * 58n + BigInt(digit);
  }
  while (body[zeros] === "1") zeros++;
  const hex = n === 0n ? "" : n.toString(16);
  return new Uint8Array([...new Uint8Array(zeros), ...Buffer.from(hex.length % 2 ? "0" + hex : hex, "hex")]);
}

function digestOf(proofOptions: Json, document: Json): Buffer {
  const sha = (text: string) => createHash("sha256").update(text, "utf8").digest();
  const { proof: _proof, ...unsigned } = document;
  return Buffer.concat([sha(canonicalize(proofOptions)), sha(canonicalize(unsigned))]);
}

function optionsOf(document: Json, keyId: string, created: string): Json {
  return { "@context": document["@context"], type: "DataIntegrityProof", cryptosuite: CRYPTOSUITE, verificationMethod: keyId, proofPurpose: "assertionMethod", created };
}

/** The document with its `proof`, signed with an Ed25519 private key. */
export async function signDocument(document: Json, privateKey: webcrypto.CryptoKey, keyId: string, created = new Date()): Promise<Json> {
  const options = optionsOf(document, keyId, created.toISOString().replace(/\.\d{3}Z$/, "Z"));
  const signature = new Uint8Array(await webcrypto.subtle.sign("Ed25519", privateKey, digestOf(options, document)));
  const { "@context": _context, ...proof } = options;
  return { ...document, proof: { ...proof, proofValue: toMultibase(signature) } };
}

/** The proof's key id, if the document carries one proof of our suite for assertions. */
export function proofKeyId(document: Json): string | null {
  const proof = document.proof;
  if (!proof || typeof proof !== "object" || Array.isArray(proof)) return null;
  const p = proof as Json;
  if (p.type !== "DataIntegrityProof" || p.cryptosuite !== CRYPTOSUITE || p.proofPurpose !== "assertionMethod") return null;
  return typeof p.verificationMethod === "string" ? p.verificationMethod : null;
}

/** Whether the document's proof is valid for this public key. */
export async function verifyDocument(document: Json, publicKey: webcrypto.CryptoKey): Promise<boolean> {
  const keyId = proofKeyId(document);
  const proof = document.proof as Json;
  if (!keyId || typeof proof.created !== "string" || typeof proof.proofValue !== "string") return false;
  const signature = fromMultibase(proof.proofValue);
  if (!signature || signature.length !== 64) return false;
  try {
    return await webcrypto.subtle.verify("Ed25519", publicKey, signature, digestOf(optionsOf(document, keyId, proof.created), document));
  } catch {
    return false;
  }
}
