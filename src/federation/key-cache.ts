// Remote public keys, parsed once per process instead of once per request.
//
// To verify a signed inbox request, Fedify 2.3.6 reads the sender's key
// document from its KV cache (`KvKeyCache`) and turns it back into a
// `CryptographicKey` every time: a JSON-LD expansion, then the PEM parsed with
// asn1js and imported into WebCrypto. That was 12 % of the CPU spent accepting
// an activity, for a key that seldom changes (docs/performance.md). Fedify
// builds that cache itself and has no option to replace it, so the parsing
// step is memoised instead: `CryptographicKey.fromJsonLd` is a pure function of
// the document (and of the base URL relative ids are read against), and the
// objects it returns are immutable, so the same document gives back the same
// object. A new key (another document) is parsed as before; a document that
// fails to parse is not remembered.
import { CryptographicKey } from "@fedify/vocab";

/** Distinct key documents kept (least recently used first out): about 1 kB each. */
const MAX_KEYS = 1000;
let installed = false;

export function rememberParsedKeys(): void {
  if (installed) return;
  const original = CryptographicKey.fromJsonLd;
  if (typeof original !== "function") return;
  installed = true;
  const parsed = new Map<string, ReturnType<typeof original>>();
  CryptographicKey.fromJsonLd = function fromJsonLd(this: typeof CryptographicKey, json, options = {}) {
    let key: string;
    try {
      key = `${options.baseUrl?.href ?? ""}\n${JSON.stringify(json)}`;
    } catch {
      return original.call(this, json, options);
    }
    // Only the class itself: a subclass would expect instances of its own.
    if (this !== CryptographicKey) return original.call(this, json, options);
    let result = parsed.get(key);
    if (result) {
      parsed.delete(key);
    } else {
      result = original.call(this, json, options);
      result.catch(() => parsed.delete(key));
      if (parsed.size >= MAX_KEYS) parsed.delete(parsed.keys().next().value!);
    }
    parsed.set(key, result);
    return result;
  } as typeof original;
}
