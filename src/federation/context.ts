// Fedify's context for work outside a request (sending, resolving remote
// actors), shared by the senders and the domain code that looks actors up.
import type { Context } from "@fedify/fedify";
import type { Services } from "../services.ts";

export function context(services: Services): Context<Services> {
  return services.federation.createContext(new URL(services.config.origin), services);
}
