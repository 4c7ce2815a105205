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
// `markConstantContexts`), so that jsonld keeps their processed form, and
// serve the contexts peers commonly name from local copies (`withPeerContexts`).
import { preloadedContexts, validatePublicUrl, type DocumentLoader, type Federation, type RemoteDocument } from "@fedify/fedify";
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
      return name === "contextLoaderFactory" ? markConstantContexts(withPeerContexts(loader, options?.allowPrivateAddress === true)) : refuseDeepDocuments(loader);
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

// Contexts other servers name in their documents, beyond those Fedify ships
// (ActivityStreams, security, identity, Mastodon's, GoToSocial's, Lemmy's,
// schema.org, …). Written from the published vocabularies, minimal but
// correct for the terms Coopol reads. A context that cannot be loaded used to
// fail the whole activity (Fedify answers 500, and the sender retries for
// days), so these are never fetched.
const AS = "https://www.w3.org/ns/activitystreams";
const SEC = "https://w3id.org/security/v1";

/** Pleroma's and Akkoma's litepub context, served by each server at `/schemas/litepub-0.1.jsonld`; Mobilizon names litepub.social's copy. */
const LITEPUB = {
  "@context": [
    AS,
    SEC,
    {
      litepub: "http://litepub.social/ns#",
      toot: "http://joinmastodon.org/ns#",
      ostatus: "http://ostatus.org#",
      schema: "http://schema.org#",
      misskey: "https://misskey-hub.net/ns#",
      fedibird: "http://fedibird.com/ns#",
      manuallyApprovesFollowers: "as:manuallyApprovesFollowers",
      sensitive: "as:sensitive",
      Hashtag: "as:Hashtag",
      quoteUrl: "as:quoteUrl",
      quoteUri: "fedibird:quoteUri",
      ChatMessage: "litepub:ChatMessage",
      EmojiReact: "litepub:EmojiReact",
      Emoji: "toot:Emoji",
      PropertyValue: "schema:PropertyValue",
      value: "schema:value",
      conversation: { "@id": "ostatus:conversation", "@type": "@id" },
      atomUri: { "@id": "ostatus:atomUri", "@type": "@id" },
      inReplyToAtomUri: { "@id": "ostatus:inReplyToAtomUri", "@type": "@id" },
      directMessage: "litepub:directMessage",
      listMessage: { "@id": "litepub:listMessage", "@type": "@id" },
      oauthRegistrationEndpoint: { "@id": "litepub:oauthRegistrationEndpoint", "@type": "@id" },
      capabilities: "litepub:capabilities",
      acceptsChatMessages: "litepub:acceptsChatMessages",
      invisible: "litepub:invisible",
      discoverable: "toot:discoverable",
      featured: { "@id": "toot:featured", "@type": "@id" },
      _misskey_quote: "misskey:_misskey_quote",
      _misskey_content: "misskey:_misskey_content",
      vcard: "http://www.w3.org/2006/vcard/ns#",
    },
  ],
};

/** Mobilizon's vocabulary (joinmobilizon.org/ns), for when it is named as a document rather than inlined. */
const MOBILIZON = {
  "@context": {
    mz: "https://joinmobilizon.org/ns#",
    pt: "https://joinpeertube.org/ns#",
    ical: "http://www.w3.org/2002/12/cal/ical#",
    schema: "http://schema.org#",
    joinMode: { "@id": "mz:joinMode", "@type": "mz:joinModeType" },
    participationMessage: { "@id": "mz:participationMessage", "@type": "sc:Text" },
    isOnline: { "@id": "mz:isOnline", "@type": "sc:Boolean" },
    timezone: { "@id": "mz:timezone", "@type": "sc:Text" },
    category: { "@id": "mz:category", "@type": "sc:Text" },
    anonymousParticipationEnabled: { "@id": "mz:anonymousParticipationEnabled", "@type": "sc:Boolean" },
    participantCount: { "@id": "mz:participantCount", "@type": "schema:Number" },
    maximumAttendeeCapacity: "schema:maximumAttendeeCapacity",
    remainingAttendeeCapacity: "schema:remainingAttendeeCapacity",
    location: { "@id": "schema:location", "@type": "schema:Place" },
    PostalAddress: "schema:PostalAddress",
    address: { "@id": "schema:address", "@type": "schema:PostalAddress" },
    addressCountry: "schema:addressCountry",
    addressLocality: "schema:addressLocality",
    addressRegion: "schema:addressRegion",
    postalCode: "schema:postalCode",
    streetAddress: "schema:streetAddress",
    uuid: "schema:identifier",
    sc: "http://schema.org#",
    repliesModerationOption: { "@id": "mz:repliesModerationOption", "@type": "mz:repliesModerationOptionType" },
    commentsEnabled: { "@id": "pt:commentsEnabled", "@type": "sc:Boolean" },
    draft: { "@id": "mz:draft", "@type": "sc:Boolean" },
    discoverable: "toot:discoverable",
    toot: "http://joinmastodon.org/ns#",
    openness: { "@id": "mz:openness", "@type": "@id" },
    members: { "@id": "mz:members", "@type": "@id" },
    events: { "@id": "mz:events", "@type": "@id" },
    resources: { "@id": "mz:resources", "@type": "@id" },
    posts: { "@id": "mz:posts", "@type": "@id" },
    todos: { "@id": "mz:todos", "@type": "@id" },
    discussions: { "@id": "mz:discussions", "@type": "@id" },
    memberCount: { "@id": "mz:memberCount", "@type": "sc:Integer" },
  },
};

/** Funkwhale's vocabulary (funkwhale.audio/ns). */
const FUNKWHALE = {
  "@context": {
    fw: "https://funkwhale.audio/ns#",
    schema: "http://schema.org#",
    Album: "fw:Album",
    Track: "fw:Track",
    Artist: "fw:Artist",
    Library: "fw:Library",
    bitrate: { "@id": "fw:bitrate", "@type": "xsd:nonNegativeInteger" },
    size: { "@id": "fw:size", "@type": "xsd:nonNegativeInteger" },
    position: { "@id": "fw:position", "@type": "xsd:nonNegativeInteger" },
    disc: { "@id": "fw:disc", "@type": "xsd:nonNegativeInteger" },
    library: { "@id": "fw:library", "@type": "@id" },
    track: { "@id": "fw:track", "@type": "@id" },
    artists: { "@id": "fw:artists", "@type": "@id", "@container": "@list" },
    released: { "@id": "fw:released", "@type": "xsd:date" },
    musicbrainzId: "fw:musicbrainzId",
    license: { "@id": "fw:license", "@type": "@id" },
    copyright: "fw:copyright",
    category: "schema:category",
    language: "schema:inLanguage",
    xsd: "http://www.w3.org/2001/XMLSchema#",
  },
};

/** The Ed25519 suite some servers name next to security/v1 (Mitra, Misskey forks). */
const ED25519_2020 = {
  "@context": {
    id: "@id",
    type: "@type",
    sec: "https://w3id.org/security#",
    Ed25519VerificationKey2020: "sec:Ed25519VerificationKey2020",
    Ed25519Signature2020: "sec:Ed25519Signature2020",
    controller: { "@id": "sec:controller", "@type": "@id" },
    publicKeyMultibase: { "@id": "sec:publicKeyMultibase", "@type": "sec:multibase" },
    proofValue: { "@id": "sec:proofValue", "@type": "sec:multibase" },
  },
};

/** Local copies by exact URL; ActivityStreams' spellings that are not its canonical URL point at Fedify's copy. */
const PEER_CONTEXTS: Record<string, unknown> = {
  "https://litepub.social/litepub/context.jsonld": LITEPUB,
  "http://litepub.social/litepub/context.jsonld": LITEPUB,
  "https://joinmobilizon.org/ns": MOBILIZON,
  "https://funkwhale.audio/ns": FUNKWHALE,
  "https://w3id.org/security/suites/ed25519-2020/v1": ED25519_2020,
  "http://www.w3.org/ns/activitystreams": { "@context": [AS] },
  "https://www.w3.org/ns/activitystreams.jsonld": { "@context": [AS] },
  "http://w3id.org/security/v1": { "@context": [SEC] },
};
const LITEPUB_PATH = /^https?:\/\/[^/]+\/schemas\/litepub-0\.1\.jsonld$/;
/** What an unknown or unloadable context reads as: no terms (its own terms are then ignored, the rest of the document is read). */
const EMPTY_CONTEXT = { "@context": {} };
/** An unknown context is fetched within this time and size, and kept this long (or not tried again for an hour). */
const UNKNOWN_CONTEXT_TIMEOUT_MS = 3000;
const UNKNOWN_CONTEXT_MAX_BYTES = 256 * 1024;
const FETCHED_CONTEXT_TTL_MS = 24 * 60 * 60 * 1000;
const FAILED_CONTEXT_RETRY_MS = 60 * 60 * 1000;
const CONTEXTS_KEPT = 200;

/** The local copy of a context peers commonly name, if there is one. */
export function peerContext(url: string): unknown {
  return PEER_CONTEXTS[url] ?? (LITEPUB_PATH.test(url) ? LITEPUB : undefined);
}

/** Fetches a context nobody ships: http(s), public addresses only (unless allowed), no redirect, 3 s and 256 KiB at most. */
async function fetchContext(url: string, allowPrivateAddress: boolean): Promise<RemoteDocument> {
  if (!/^https?:\/\//.test(url)) throw new Error("not an http(s) URL");
  if (!allowPrivateAddress) await validatePublicUrl(url);
  const response = await fetch(url, { headers: { accept: "application/ld+json, application/json" }, redirect: "error", signal: AbortSignal.timeout(UNKNOWN_CONTEXT_TIMEOUT_MS) });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > UNKNOWN_CONTEXT_MAX_BYTES) throw new Error("context too large");
    chunks.push(chunk);
  }
  const document: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  if (!document || typeof document !== "object" || !("@context" in document)) throw new Error("not a JSON-LD context");
  if (valueTooDeep(document)) throw new Error(`the context nests deeper than ${MAX_JSON_DEPTH} levels`);
  return { contextUrl: null, documentUrl: url, document };
}

/**
 * A context loader that serves the contexts of `PEER_CONTEXTS` locally, the
 * ones Fedify ships through Fedify's loader, and fetches any other within
 * bounds (`fetchContext`), kept for a day; one that cannot be had reads as
 * empty, and is not tried again for an hour: a peer's document never fails
 * for its context, and no request waits long on one.
 */
export function withPeerContexts(loader: DocumentLoader, allowPrivateAddress: boolean): DocumentLoader {
  const local = new Map<string, RemoteDocument>();
  const fetched = new Map<string, { at: number; remote: RemoteDocument | null }>();
  return async (url, options) => {
    const known = peerContext(url);
    if (known) {
      let remote = local.get(url);
      if (!remote) local.set(url, (remote = { contextUrl: null, documentUrl: url, document: known }));
      return remote;
    }
    if (url in preloadedContexts) return loader(url, options);
    const kept = fetched.get(url);
    if (kept && Date.now() - kept.at < (kept.remote ? FETCHED_CONTEXT_TTL_MS : FAILED_CONTEXT_RETRY_MS)) return kept.remote ?? { contextUrl: null, documentUrl: url, document: EMPTY_CONTEXT };
    const remote = await fetchContext(url, allowPrivateAddress).catch(() => null);
    if (fetched.size >= CONTEXTS_KEPT) fetched.clear();
    fetched.set(url, { at: Date.now(), remote });
    return remote ?? { contextUrl: null, documentUrl: url, document: EMPTY_CONTEXT };
  };
}
