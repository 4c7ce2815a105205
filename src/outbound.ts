// Outgoing HTTP to other servers goes to public addresses only, and the
// address checked is the address connected to.
//
// Checking a name with DNS and then fetching it by name resolves it twice: a
// hostile server's DNS can answer a public address to the check and 127.0.0.1
// (or the cloud's metadata address) to the fetch ("DNS rebinding"). Here the
// check is inside the resolution the connection itself uses (undici's
// `connect.lookup`): what is refused is never connected to, and what is
// connected to was checked. Addresses written literally in a URL are not
// resolved, so `checkTarget` checks them before any request.
//
// `app.ts` makes this the process's global dispatcher unless private addresses
// are allowed (COOPOL_ALLOW_PRIVATE_ADDRESS): Fedify's loaders and deliveries
// (whose own check of private addresses resolves once more before fetching),
// WebFinger and group discovery all go through it.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { Agent, fetch, setGlobalDispatcher, type Dispatcher } from "undici";

// Addresses no server of the party can be on. Two lists: Node checks an IPv4
// address against IPv6 rules as if IPv4-mapped (::ffff:0:0/96 would match
// them all), and checks IPv4-mapped IPv6 addresses against IPv4 rules.
const PRIVATE_V4 = new BlockList();
for (const [net, bits] of [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.0.0.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15], ["224.0.0.0", 3]] as const) {
  PRIVATE_V4.addSubnet(net, bits, "ipv4");
}
const PRIVATE_V6 = new BlockList();
for (const [net, bits] of [["::", 127], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8], ["64:ff9b::", 96], ["2002::", 16]] as const) PRIVATE_V6.addSubnet(net, bits, "ipv6");

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE_V4.check(address, "ipv4");
  if (family === 6) return PRIVATE_V4.check(address, "ipv6") || PRIVATE_V6.check(address, "ipv6");
  return true;
}

/** A name's addresses, as `dns.lookup` gives them (tests pass their own). */
export type Resolver = (hostname: string, family: number) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (hostname, family) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, family }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

function refused(message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code: "EPRIVATEADDRESS" });
}

/** A `lookup` for sockets that fails when any address of the name is private, and hands over the checked ones. */
export function publicLookup(resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options.family === 4 || options.family === 6 ? options.family : 0).then(
      (addresses) => {
        const bad = addresses.find((a) => isPrivateAddress(a.address));
        if (bad || addresses.length === 0) return callback(refused(`${hostname}: private or no address (${bad?.address ?? "none"})`), "", 4);
        if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 4),
    );
  };
}

/** An undici dispatcher that connects to public addresses only. */
export function publicDispatcher(resolve?: Resolver): Dispatcher {
  return new Agent({ connect: { lookup: publicLookup(resolve) } });
}

/** Refuses a URL that names a private address literally, or is not http(s). */
export function checkTarget(url: URL, allowPrivateAddress: boolean): void {
  if (url.protocol !== "https:" && url.protocol !== "http:") throw refused(`${url.protocol} is not fetched`);
  if (allowPrivateAddress) return;
  if (url.protocol !== "https:") throw refused("not https");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost") || (isIP(host) && isPrivateAddress(host))) throw refused(`private address ${host}`);
}

let shared: Dispatcher | undefined;

/** The dispatcher for outgoing requests: the pinned one, or undici's default where private addresses are allowed. */
export function outboundDispatcher(allowPrivateAddress: boolean): Dispatcher | undefined {
  if (allowPrivateAddress) return undefined;
  shared ??= publicDispatcher();
  return shared;
}

/** Makes every `fetch` of the process (Fedify's included) connect to public addresses only. */
export function pinOutboundConnections(allowPrivateAddress: boolean): void {
  const dispatcher = outboundDispatcher(allowPrivateAddress);
  if (dispatcher) setGlobalDispatcher(dispatcher);
}

/**
 * GETs a document of another server with a time and size limit: its text, or
 * an error. `headers` may ask for a conditional answer; a 304 gives null.
 */
export async function fetchBoundedText(
  url: URL,
  limits: { bytes: number; timeoutMs: number; accept: string; headers?: Record<string, string> },
  allowPrivateAddress: boolean,
  dispatcher = outboundDispatcher(allowPrivateAddress),
): Promise<{ text: string; headers: Headers } | null> {
  checkTarget(url, allowPrivateAddress);
  const response = await fetch(url, { headers: { accept: limits.accept, ...limits.headers }, redirect: "error", signal: AbortSignal.timeout(limits.timeoutMs), dispatcher });
  if (response.status === 304) {
    await response.body?.cancel();
    return null;
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    // The status travels with the error: a 404 or 410 means "gone" to some callers.
    throw Object.assign(new Error(`HTTP ${response.status}`), { status: response.status });
  }
  const declared = Number(response.headers.get("content-length") ?? 0);
  if (declared > limits.bytes) {
    await response.body.cancel();
    throw new Error("too large");
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > limits.bytes) throw new Error("too large");
    chunks.push(chunk);
  }
  return { text: Buffer.concat(chunks).toString("utf8"), headers: response.headers };
}
