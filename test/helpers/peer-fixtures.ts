// The real payloads of test/fixtures/activitypub/ and the fake servers that
// send them: one per project (helpers/fake-peer.ts), serving the actors its
// payloads name, plus one for any other server named ("third", all 404).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { startFakePeer, type FakePeer } from "./fake-peer.ts";

export const FIXTURES = new URL("../fixtures/activitypub/", import.meta.url).pathname;
/** Projects in the order they are replayed (a later payload may refer to an earlier one's effect). */
export const PROJECTS = ["mastodon", "pleroma", "friendica", "lemmy", "peertube", "wordpress", "gnusocial", "mitra", "smithereen", "lotide", "mobilizon", "gancio"];

export type Json = Record<string, unknown>;

export interface PeerFixtures {
  peers: Map<string, FakePeer>;
  /** A fixture's text with its placeholder hosts pointed at the test's servers. */
  adapt(text: string): string;
  load(project: string, file: string): Json;
  /** The payload files of a project, in order. */
  files(project: string): string[];
  /** The fake server a payload comes from (its actor's origin). */
  peerOf(activity: Json): FakePeer | undefined;
  close(): Promise<void>;
}

/** Every actor a payload names on its own server (actor, attributedTo). */
function actorsOf(value: unknown, origin: string, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) actorsOf(v, origin, found);
  else if (value && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      if ((key === "actor" || key === "attributedTo") && typeof v === "string" && v.startsWith(origin)) found.add(v);
      actorsOf(v, origin, found);
    }
  }
  return found;
}

/**
 * Starts the fake servers. `coopolOrigin` replaces `https://coopol.example`,
 * `postUri` the post the payloads answer, like or report (alice's).
 */
export async function startPeerFixtures(coopolOrigin: string, postUri: string): Promise<PeerFixtures> {
  const third = await startFakePeer();
  const peers = new Map<string, FakePeer>();
  for (const project of PROJECTS) peers.set(project, await startFakePeer());
  const adapt = (text: string) => {
    let out = text.replaceAll("https://coopol.example/users/alice/posts/POST", postUri).replaceAll("https://coopol.example", coopolOrigin).replaceAll("https://third.example", third.origin);
    for (const [project, peer] of peers) out = out.replaceAll(`https://${project}.example`, peer.origin);
    return out;
  };
  const files = (project: string) => readdirSync(join(FIXTURES, project)).filter((f) => f.endsWith(".json") && f !== "expected.json").sort();
  const load = (project: string, file: string) => JSON.parse(adapt(readFileSync(join(FIXTURES, project, file), "utf8"))) as Json;
  for (const [project, peer] of peers) {
    for (const file of files(project)) {
      for (const actor of actorsOf(load(project, file), peer.origin)) peer.addActor(actor, /\/(c|communities|video-channels)\//.test(actor) ? "Group" : "Person");
    }
  }
  return {
    peers,
    adapt,
    load,
    files,
    peerOf: (activity) => [...peers.values()].find((p) => typeof activity.actor === "string" && activity.actor.startsWith(`${p.origin}/`)),
    close: async () => {
      await Promise.all([...peers.values(), third].map((p) => p.close()));
    },
  };
}
