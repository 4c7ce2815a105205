// What happens when a link of the hierarchy is made, and the periodic work
// that keeps the hierarchy up to date.
import type { Services } from "../services.ts";
import type { ActorRow } from "../federation/actors.ts";
import { repeat } from "../jobs.ts";
import { sendCampaignsTo } from "../campaigns/campaigns.ts";
import { resendResults } from "../campaigns/results.ts";
import { resendReports } from "../reports/reports.ts";
import { sendStatus } from "../reports/stats.ts";
import { linkedChildren, linkedParent, requestOversight } from "./links.ts";
import { record } from "../outbox/outbox.ts";
import { heldDirectory, publishDirectory, pullDirectory } from "../party/directory.ts";

/** Our parent accepted us as its child: it gets our figures, and what was waiting for the link. */
export async function afterParentLinked(services: Services): Promise<void> {
  const parent = linkedParent(services.db);
  if (parent) await pullDirectory(services, parent);
  // National learns a fédération's sections (for the party directory) once the fédération is linked to it.
  if (services.config.kind === "federation" && linkedChildren(services.db).length) sectionsChanged(services);
  await sendStatus(services);
  await resendResults(services);
  await resendReports(services);
}

/** A child accepted our oversight: it gets the campaigns under way, and every section the new list of its siblings. */
export async function afterChildLinked(services: Services, child: ActorRow): Promise<void> {
  await sendCampaignsTo(services, child);
  if (services.config.kind === "federation") sectionsChanged(services);
  // National lists its new fédération in the directory; a fédération passes its copy to the new section.
  if (!(await publishDirectory(services)) && heldDirectory(services.db)) record(services.db, { kind: "party.directory.changed" });
}

/** The sections linked to a fédération are told the new list (federation/send-territory.ts). */
function sectionsChanged(services: Services): void {
  record(services.db, { kind: "territory.sections.changed" });
}

const STATUS_EVERY_MS = 6 * 3_600_000;
const OVERSIGHT_EVERY_MS = 5 * 60_000;
const DIRECTORY_EVERY_MS = 10 * 60_000;

/** Asks declared children for the link until they answer; sends our figures up every few hours. */
export function startTerritoryJobs(services: Services): () => void {
  const stops: Array<() => void> = [];
  if (services.config.children.length) {
    stops.push(repeat(services.log, "territory links", OVERSIGHT_EVERY_MS, () => requestOversight(services)));
  }
  // A fédération's sections learn their siblings again after a restart (a section may have been dropped meanwhile).
  if (services.config.kind === "federation" && linkedChildren(services.db).length) sectionsChanged(services);
  if (services.config.kind !== "national") {
    stops.push(repeat(services.log, "territory status", STATUS_EVERY_MS, () => (linkedParent(services.db) ? sendStatus(services) : undefined)));
  }
  // The party directory: national publishes what changed (an unlinked fédération, say); the others
  // ask their parent for a newer copy now and then, in case a notice was lost (a 304 when there is none).
  stops.push(
    repeat(services.log, "party directory", DIRECTORY_EVERY_MS, () => {
      if (services.config.kind === "national") return publishDirectory(services);
      const parent = linkedParent(services.db);
      return parent ? pullDirectory(services, parent) : undefined;
    }),
  );
  return () => stops.forEach((stop) => stop());
}
