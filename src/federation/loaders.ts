// Fedify's document and context loaders, made once instead of per request.
//
// Fedify 2.3.6 builds a new document loader and a new context loader for every
// request context and every queued message: each is a fetcher wrapped in a KV
// cache whose rules (a URLPattern and a Temporal duration) are made and checked
// anew, about 5 % of the CPU spent on an incoming note. They depend only on
// their options (whether private addresses are allowed, the User-Agent), which
// are the same for the whole instance, so one loader per set of options is
// kept and handed out again. Fedify has no option for this (a custom loader
// factory cannot be combined with `allowPrivateAddress` or `userAgent`), hence
// the wrapping of its two factory properties; if a later Fedify renames them,
// nothing is wrapped and Fedify behaves as before.
//
// Context loaders are also told which contexts are constants (see
// `markConstantContexts`), so that jsonld keeps their processed form.
import type { DocumentLoader, Federation, RemoteDocument } from "@fedify/fedify";
import { MAX_JSON_DEPTH, valueTooDeep } from "../bounds.ts";

export function reuseDocumentLoaders<T>(federation: Federation<T>): void {
  const target = federation as unknown as Record<string, unknown>;
  // Loaders signed as an actor are made per call (not reused), but get the same depth limit.
  const authenticated = target.authenticatedDocumentLoaderFactory;
  if (typeof authenticated === "function") {
    target.authenticatedDocumentLoaderFactory = (...args: unknown[]) => refuseDeepDocuments(authenticated.apply(federation, args) as DocumentLoader);
  }
  for (const name of ["documentLoaderFactory", "contextLoaderFactory"] as const) {
    const factory = target[name];
    if (typeof factory !== "function") continue;
    const made = new Map<string, DocumentLoader>();
    const make = (options?: Record<string, unknown>): DocumentLoader => {
      const loader = factory.call(federation, options) as DocumentLoader;
      return name === "contextLoaderFactory" ? markConstantContexts(loader) : refuseDeepDocuments(loader);
    };
    target[name] = (options?: Record<string, unknown>) => {
      // Only the options Fedify 2.3.6 passes are understood; anything else is not cached.
      if (options && Object.keys(options).some((key) => key !== "allowPrivateAddress" && key !== "userAgent")) {
        return factory.call(federation, options);
      }
      const key = JSON.stringify(options ?? null);
      let loader = made.get(key);
      if (!loader) {
        loader = make(options);
        if (made.size >= 16) made.clear();
        made.set(key, loader);
      }
      return loader;
    };
  }
}

/**
 * jsonld keeps a processed context between two expansions only if the loader
 * says it is static (`tag: "static"`); otherwise every expansion of an incoming
 * activity processes the ActivityStreams context again (about a quarter of
 * the cost of parsing an activity). Fedify's loader serves the contexts it
 * ships with (ActivityStreams, security, …) as the very same object every time,
 * while a context fetched from elsewhere comes back as a new object from the
 * cache (and may change when it expires): a document that comes back as the
 * identical object is a constant of the process, and is marked static.
 */
export function markConstantContexts(loader: DocumentLoader): DocumentLoader {
  const first = new Map<string, unknown>();
  return async (url, options) => {
    const remote = await loader(url, options);
    if (first.get(url) === remote.document) return { ...remote, tag: "static" } as RemoteDocument;
    if (!first.has(url) && first.size < 100) first.set(url, remote.document);
    return remote;
  };
}

/**
 * A fetched document nested deeper than the inbox accepts is refused as if it
 * could not be fetched: JSON-LD processing recurses and would overflow the stack.
 */
export function refuseDeepDocuments(loader: DocumentLoader): DocumentLoader {
  return async (url, options) => {
    const remote = await loader(url, options);
    if (valueTooDeep(remote.document)) throw new Error(`${url}: the document nests deeper than ${MAX_JSON_DEPTH} levels`);
    return remote;
  };
}
