// A party's hierarchy of real instances for tests: nodes started leaves first
// (each node asks the nodes below it for the link as it starts), links waited
// for — a node not linked in time is restarted, which asks again at once (a
// busy machine) — and, with a national node, its directory waited for on
// every node.
import { eventually, freePort, startInstance, type TestInstance } from "./instances.ts";

export interface NodeSpec {
  kind: "national" | "federation" | "section";
  /** The name of the node above it, if any. */
  parent?: string;
}

const host = (port: number) => `127.0.0.1:${port}`;

/** Starts the nodes of `spec` (by name; in any order: they are started leaves first) and waits until they are linked. */
export async function startParty<N extends string>(spec: Record<N, NodeSpec>, options: { directoryMs?: number } = {}): Promise<Record<N, TestInstance>> {
  const names = Object.keys(spec) as N[];
  const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, await freePort()] as const))) as Record<N, number>;
  const handle = (n: N) => `${spec[n].kind === "section" ? "section" : spec[n].kind}_${n}`;
  const full = (n: N) => `${handle(n)}@${host(ports[n])}`;
  const childrenOf = (n: N) => names.filter((c) => spec[c].parent === n);
  const depth = (n: N): number => (spec[n].parent ? 1 + depth(spec[n].parent as N) : 0);
  const out = {} as Record<N, TestInstance>;
  for (const n of [...names].sort((a, b) => depth(b) - depth(a))) {
    const children = childrenOf(n);
    out[n] = await startInstance(n, {
      PORT: String(ports[n]),
      COOPOL_HANDLE: handle(n),
      ...(spec[n].kind !== "section" ? { COOPOL_KIND: spec[n].kind } : {}),
      ...(spec[n].parent ? { COOPOL_PARENT: full(spec[n].parent as N) } : {}),
      ...(children.length ? { COOPOL_CHILDREN: children.map(full).join(",") } : {}),
    });
  }
  const linked = (parent: N) =>
    childrenOf(parent).every(
      (child) => out[parent].query("select 1 from territory_links join actors on actors.id = territory_links.actor_id where role = 'child' and state = 'linked' and actors.domain = ?", host(ports[child])).length > 0,
    );
  for (const parent of names.filter((n) => childrenOf(n).length).sort((a, b) => depth(b) - depth(a))) {
    if (await eventually(() => linked(parent), 25_000, `${parent} linked`).catch(() => false)) continue;
    await out[parent].stop();
    await out[parent].start();
    await eventually(() => linked(parent), 60_000, `${parent} linked`);
  }
  if (names.some((n) => spec[n].kind === "national")) {
    const count = names.length;
    await eventually(
      () => names.every((n) => (out[n].query<{ n: number }>("select count(*) as n from party_nodes")[0]?.n ?? 0) >= count),
      options.directoryMs ?? 180_000,
      "every node holds the whole directory",
    );
  }
  return out;
}
