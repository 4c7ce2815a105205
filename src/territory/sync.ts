// What happens when a link of the hierarchy is made, and the periodic work
// that keeps the hierarchy up to date.
import type { Services } from "../services.ts";
import type { ActorRow } from "../federation/actors.ts";
import { repeat } from "../jobs.ts";
import { sendCampaignsTo } from "../campaigns/campaigns.ts";
import { resendResults } from "../campaigns/results.ts";
import { resendReports } from "../reports/reports.ts";
import { sendStatus } from "../reports/stats.ts";
import { linkedChildren, linkedParent, linksOf, requestOversight } from "./links.ts";
import { record, recordOnce } from "../outbox/outbox.ts";
import { holdsDirectory, publishDirectory, pullDirectory } from "../party/directory.ts";

/** Our parent accepted us as its child: it gets our figures, and what was waiting for the link. */
export async function afterParentLinked(services: Services): Promise<void> {
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
  // National lists its new fédération in the directory; a fédération tells the new section it holds a copy
  // (the child fetches it then, not while it answers the link).
  // Only the new child: the others hold the copy already (telling them all at each link is quadratic).
  if (!(await publishDirectory(services)) && holdsDirectory(services.db)) record(services.db, { kind: "party.directory.changed", only: [child.id] });
}

/**
 * Sections linking one after the other make one list, sent 15 s after the
 * last of them (at most 150 s after the first: a host linking 500 sections
 * slowly sends a few lists, not one every few seconds to hundreds of sections).
 */
const SECTIONS_DELAY_MS = 15_000;

/**
 * The sections linked to a fédération are told the new list, and its parent
 * too (federation/send-territory.ts), once a burst of changes is over.
 */
export function sectionsChanged(services: Services): void {
  recordOnce(services.db, { kind: "territory.sections.changed" }, SECTIONS_DELAY_MS);
}

const STATUS_EVERY_MS = 6 * 3_600_000;
const OVERSIGHT_EVERY_MS = 5 * 60_000;
const DIRECTORY_EVERY_MS = 10 * 60_000;

/** Asks declared children for the link until they answer; sends our figures up every few hours. */
export function startTerritoryJobs(services: Services): () => void {
  const stops: Array<() => void> = [];
  if (services.config.children.length) {
    // Host mode: an unloaded instance is woken for this only while a child is not linked yet.
    stops.push(repeat(services.log, "territory links", OVERSIGHT_EVERY_MS, () => requestOversight(services), services.jobs, () => linksOf(services.db, "child").some((link) => link.state !== "linked")));
  }
  // A fédération's sections learn their siblings again after a restart (a section may have been dropped meanwhile).
  // Host mode loads an instance many times a day: there it is told every STATUS_EVERY_MS at most (job clock).
  if (services.config.kind === "federation" && linkedChildren(services.db).length) {
    if (services.jobs) stops.push(repeat(services.log, "territory siblings", STATUS_EVERY_MS, () => sectionsChanged(services), services.jobs, false));
    else sectionsChanged(services);
  }
  if (services.config.kind !== "national") {
    stops.push(repeat(services.log, "territory status", STATUS_EVERY_MS, () => (linkedParent(services.db) ? sendStatus(services) : undefined), services.jobs));
  }
  if (services.config.children.length) stops.push(askAgainSoon(services));
  // The party directory: national publishes what changed (an unlinked fédération, say); the others
  // ask their parent for a newer copy now and then, in case a notice was lost (a 304 when there is none).
  // Host mode: not a reason to load an unloaded instance (a notice loads it, and so does any request).
  stops.push(
    repeat(services.log, "party directory", DIRECTORY_EVERY_MS, () => {
      if (services.config.kind === "national") return publishDirectory(services);
      const parent = linkedParent(services.db);
      return parent ? pullDirectory(services, parent) : undefined;
    }, services.jobs, false),
  );
  return () => stops.forEach((stop) => stop());
}

/**
 * Right after a start, a child (or, on its side, our lookup of it as its
 * parent) may not answer yet: it is starting too, or the machine is busy.
 * Rather than wait five minutes, children not linked yet are asked again
 * after 15 s, 30 s, 1 min and 2 min (each after the previous round is
 * over); an unanswered request counts as lost after a minute then. The usual rhythm takes over afterwards.
 */
const SOON_MS = [15_000, 30_000, 60_000, 120_000];
/**
 * A request sent is not asked again before a minute: on a host linking 500
 * sections, its Follow may still be waiting in the queue, and asking again
 * would make each section answer twice.
 */
const PENDING_SOON_MS = 60_000;

function askAgainSoon(services: Services): () => void {
  let timer: NodeJS.Timeout | undefined;
  const next = (round: number) => {
    if (round >= SOON_MS.length) return;
    timer = setTimeout(async () => {
      if (!linksOf(services.db, "child").some((link) => link.state === "declared" || link.state === "pending")) return;
      await requestOversight(services, { retryPendingMs: PENDING_SOON_MS }).catch((error) => services.log.warn({ err: error }, "territory: asking children again failed"));
      next(round + 1);
    }, SOON_MS[round]);
    timer.unref();
  };
  next(0);
  return () => clearTimeout(timer);
}
