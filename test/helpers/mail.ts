// A real SMTP server for tests (the smtp-server package), and a small reader
// of the MIME messages it receives: headers, parts, base64 and
// quoted-printable bodies, encoded words in the subject.
import { SMTPServer } from "smtp-server";
import { freePort } from "./instances.ts";

export interface Received {
  from: string;
  to: string[];
  raw: string;
}

export interface TestSmtp {
  url: string;
  messages: Received[];
  /** Recipients refused at RCPT TO (addresses starting with "refuse"). */
  refused: string[];
  stop(): Promise<void>;
}

/** Listens on a free port; accepts user "coopol", password "s3cret" without TLS (loopback only). */
export async function startSmtp(): Promise<TestSmtp> {
  const port = await freePort();
  const messages: Received[] = [];
  const refused: string[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === "coopol" && auth.password === "s3cret") callback(null, { user: "coopol" });
      else callback(new Error("Invalid username or password"));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith("refuse")) {
        refused.push(address.address);
        callback(Object.assign(new Error("Mailbox unavailable"), { responseCode: 550 }));
      } else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString("latin1") });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return { url: `smtp://coopol:s3cret@127.0.0.1:${port}`, messages, refused, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface MimePart {
  headers: Record<string, string>;
  type: string;
  params: Record<string, string>;
  body: Buffer;
  parts: MimePart[];
}

function decodeWords(text: string): string {
  return text.replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=\s*(?==\?)?/g, (_, _charset: string, enc: string, data: string) =>
    enc.toUpperCase() === "B" ? Buffer.from(data, "base64").toString("utf8") : Buffer.from(data.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8"),
  );
}

function decodeQuotedPrintable(text: string): Buffer {
  return Buffer.from(text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1");
}

/** Parses a message (as latin1 text, so bytes survive) into its parts. */
export function parseMime(raw: string): MimePart {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const rest = split < 0 ? "" : raw.slice(split).replace(/^\r?\n\r?\n/, "");
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const at = line.indexOf(":");
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = decodeWords(line.slice(at + 1).trim());
  }
  const [type = "text/plain", ...rawParams] = (headers["content-type"] ?? "text/plain").split(";");
  const params = Object.fromEntries(rawParams.map((p) => p.trim().split("=")).map(([k, ...v]) => [k!.toLowerCase(), v.join("=").replace(/^"|"$/g, "")]));
  if (type.toLowerCase().startsWith("multipart/")) {
    const boundary = `--${params.boundary}`;
    const parts = rest.split(boundary).slice(1).filter((p) => !p.startsWith("--")).map((p) => parseMime(p.replace(/^\r?\n/, "")));
    return { headers, type: type.toLowerCase(), params, body: Buffer.alloc(0), parts };
  }
  const encoding = (headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  const body = encoding === "base64" ? Buffer.from(rest.replace(/\s+/g, ""), "base64") : encoding === "quoted-printable" ? decodeQuotedPrintable(rest) : Buffer.from(rest, "latin1");
  return { headers, type: type.toLowerCase(), params, body, parts: [] };
}

/** Every leaf part, depth first. */
export function leaves(part: MimePart): MimePart[] {
  return part.parts.length ? part.parts.flatMap(leaves) : [part];
}
