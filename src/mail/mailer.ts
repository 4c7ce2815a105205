// Outgoing e-mail through the operator's SMTP server (COOPOL_SMTP_URL), with
// nodemailer. Without that variable nothing is ever sent: callers ask
// mailEnabled() first and skip their e-mail work altogether.
import type { Transporter } from "nodemailer";
import type { Config, SmtpConfig } from "../config.ts";

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  attachments?: Array<{ filename: string; content: string; contentType: string }>;
}

// One transport per configuration: it keeps nothing open between messages
// (no pool), so there is nothing to close when the instance stops.
const transports = new WeakMap<SmtpConfig, Transporter>();

async function transportFor(smtp: SmtpConfig): Promise<Transporter> {
  let transport = transports.get(smtp);
  if (!transport) {
    // Loaded on first use: most instances send no e-mail, and nodemailer costs memory.
    const { default: nodemailer } = await import("nodemailer");
    // Short timeouts: a dead mail server must not hold the reminder job for minutes.
    transport = nodemailer.createTransport({ url: smtp.url, connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000 }, { from: smtp.from });
    transports.set(smtp, transport);
  }
  return transport;
}

export function mailEnabled(config: Config): boolean {
  return config.smtp !== null;
}

/** Sends one message; throws what the SMTP server answered if it refuses. */
export async function sendMail(config: Config, mail: Mail): Promise<void> {
  if (!config.smtp) throw new Error("SMTP is not configured");
  await (await transportFor(config.smtp)).sendMail(mail);
}
