// The wire format of the party's hierarchy: campaigns and directives going
// down, field results, reports and node statistics going up. ActivityStreams
// has no such types: each payload is typed ["Object", "<Coopol type>"] and
// travels inside a plain Object (toWire below).
// Everything is written and read here, in one place (docs/federation.md).
// The payload is plain JSON (not JSON-LD): Coopol's own format, versioned by
// the names below.
import { PropertyValue } from "@fedify/vocab";
import { ACTION_TYPES, DIRECTIVE_KINDS, METRICS, NODE_KINDS, REPORT_KINDS, type ActionType, type DirectiveKind, type Metric, type NodeKind, type ReportKind } from "../storage/schema.ts";
import { safeUrl } from "../safe-url.ts";
import { inDateRange, jsonTooDeep, MAX_FIGURE } from "../bounds.ts";

export const COOPOL_NS = "https://coopol.example/ns#";

type Json = Record<string, unknown>;


/**
 * Fedify writes every outgoing activity in its own compacted form, which
 * keeps only the vocabulary it knows. So on the wire a Coopol object is a
 * plain Object (id, attributedTo, to, name, updated) carrying the whole
 * Coopol object as JSON text in one schema:PropertyValue attachment named
 * "coopol:payload", the way Mastodon carries profile fields. Other servers
 * see a harmless Object; Coopol reads the payload back with readPayload().
 */
export const PAYLOAD_NAME = "coopol:payload";

export const WIRE_CONTEXT = ["https://www.w3.org/ns/activitystreams", { schema: "http://schema.org#", PropertyValue: "schema:PropertyValue", value: "schema:value" }];

/** The object as it travels. */
export function toWire(payload: Json): Json {
  return {
    id: payload.id,
    type: "Object",
    attributedTo: payload.attributedTo,
    ...(payload.to ? { to: payload.to } : {}),
    ...(typeof payload.name === "string" ? { name: payload.name } : {}),
    ...(typeof payload.updated === "string" ? { updated: payload.updated } : {}),
    ...(typeof payload.published === "string" ? { published: payload.published } : {}),
    attachment: [{ type: "PropertyValue", name: PAYLOAD_NAME, value: JSON.stringify(payload) }],
  };
}

/** A marker or payload attached to an activity that is not an object of ours (the oversight Follow). */
export function payloadAttachment(payload: Json): Json {
  return { attachment: [{ type: "PropertyValue", name: PAYLOAD_NAME, value: JSON.stringify(payload) }] };
}

/** The Coopol payload a received object or activity carries, if any (and if it names the same id). */
export async function readPayload(object: { id: URL | null; getAttachments(): AsyncIterable<unknown> } | null | undefined, sameId = true): Promise<Json | null> {
  if (!object) return null;
  for await (const attachment of object.getAttachments()) {
    if (!(attachment instanceof PropertyValue) || attachment.name?.toString() !== PAYLOAD_NAME) continue;
    try {
      const text = String(attachment.value);
      if (jsonTooDeep(text)) return null;
      const payload = JSON.parse(text) as unknown;
      if (!payload || typeof payload !== "object" || Array.isArray(payload)) return null;
      if (sameId && (payload as Json).id !== object.id?.href) return null;
      return payload as Json;
    } catch {
      return null;
    }
  }
  return null;
}

export const TERRITORY_TYPES = ["Campaign", "ActionResult", "Report", "NodeStatus", "Directive", "Sections", "CampaignJoin", "PartyDirectory"] as const;
export type TerritoryType = (typeof TERRITORY_TYPES)[number];

const iso = (ms: number) => new Date(ms).toISOString();
const str = (v: unknown, max = 10_000): string | null => (typeof v === "string" && v.trim() ? v.trim().slice(0, max) : null);
/** A date of a peer's object; one outside 1900–2200 counts as missing (the object is then refused). */
const time = (v: unknown): number | null => {
  const t = typeof v === "string" ? Date.parse(v) : NaN;
  return inDateRange(t) ? t : null;
};
const count = (v: unknown): number => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? Math.min(v, 1e9) : 0);
const oneOf = <T extends string>(v: unknown, allowed: readonly T[]): T | null => (typeof v === "string" && (allowed as readonly string[]).includes(v) ? (v as T) : null);
const idOf = (v: unknown): string | null => (typeof v === "string" ? v : v && typeof v === "object" ? str((v as Json).id) : null);

/** Which Coopol type a received object is, if any. */
export function territoryTypeOf(object: unknown): TerritoryType | null {
  if (!object || typeof object !== "object") return null;
  const types = ([] as unknown[]).concat((object as Json).type);
  for (const type of types) {
    const name = typeof type === "string" ? type.replace(/^coopol:/, "").replace(COOPOL_NS, "") : null;
    const found = TERRITORY_TYPES.find((t) => t === name);
    if (found) return found;
  }
  return null;
}

/** A result's figure: as a member may type it (whole, 0 to 1,000,000). */
const figure = (v: unknown): number => Math.min(count(v), MAX_FIGURE);

/** Metric counts as sent: only known names (others are dropped), whole non-negative numbers, capped. */
export function metricsOf(v: unknown): Record<Metric, number> {
  const source = v && typeof v === "object" ? (v as Json) : {};
  return Object.fromEntries(METRICS.map((m) => [m, figure(source[m])])) as Record<Metric, number>;
}

/** Goals: only the metrics that have one. */
export function goalsOf(v: unknown): Partial<Record<Metric, number>> {
  const source = v && typeof v === "object" ? (v as Json) : {};
  return Object.fromEntries(METRICS.filter((m) => figure(source[m]) > 0).map((m) => [m, figure(source[m])]));
}

/** A report's figures, {campaign URI: {action type: metrics}}: 100 campaigns at most, known types and metrics only. */
function reportFiguresOf(v: unknown): Json {
  const source = v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
  return Object.fromEntries(
    Object.entries(source)
      .filter(([uri, byType]) => uri.length <= 500 && /^https?:\/\//.test(uri) && byType && typeof byType === "object")
      .slice(0, 100)
      .map(([uri, byType]) => [uri, Object.fromEntries(ACTION_TYPES.filter((t) => (byType as Json)[t] && typeof (byType as Json)[t] === "object").map((t) => [t, metricsOf((byType as Json)[t])]))]),
  );
}

// ---- Campaigns -----------------------------------------------------------------

export interface CampaignWire {
  uri: string;
  ownerUri: string;
  level: NodeKind;
  title: string;
  description: string;
  startsAt: number;
  endsAt: number | null;
  goals: Partial<Record<Metric, number>>;
  materials: Array<{ name: string; url: string }>;
  cancelled: boolean;
  version: number;
}

export function campaignObject(c: CampaignWire, to: string[]): Json {
  return {
    id: c.uri,
    type: ["Object", "Campaign"],
    attributedTo: c.ownerUri,
    to,
    name: c.title,
    content: c.description,
    mediaType: "text/plain",
    startTime: iso(c.startsAt),
    ...(c.endsAt != null ? { endTime: iso(c.endsAt) } : {}),
    level: c.level,
    goals: c.goals,
    materials: c.materials,
    cancelled: c.cancelled,
    updated: iso(c.version),
  };
}

export function readCampaign(o: Json): CampaignWire | null {
  const uri = idOf(o.id);
  const ownerUri = idOf(o.attributedTo);
  const title = str(o.name, 200);
  const startsAt = time(o.startTime);
  const level = oneOf(o.level, NODE_KINDS);
  if (!uri || !ownerUri || !title || startsAt == null || !level) return null;
  const materials = (Array.isArray(o.materials) ? o.materials : [])
    .map((m) => ({ name: str((m as Json)?.name, 200) ?? "", url: safeUrl((m as Json)?.url) ?? "" }))
    .filter((m) => m.url)
    .slice(0, 50);
  return {
    uri,
    ownerUri,
    level,
    title,
    description: str(o.content, 20_000) ?? "",
    startsAt,
    endsAt: time(o.endTime),
    goals: goalsOf(o.goals),
    materials,
    cancelled: o.cancelled === true,
    version: time(o.updated) ?? startsAt,
  };
}

// ---- Field results ----------------------------------------------------------------

export interface ResultWire {
  uri: string;
  sectionUri: string;
  sectionName: string;
  federationUri: string | null;
  campaignUri: string;
  campaignName: string;
  actionType: ActionType;
  actionDate: number;
  metrics: Record<Metric, number>;
  comment: string;
  deleted: boolean;
  version: number;
}

export function resultObject(r: ResultWire, to: string[]): Json {
  return {
    id: r.uri,
    type: ["Object", "ActionResult"],
    attributedTo: r.sectionUri,
    name: r.sectionName,
    to,
    campaign: r.campaignUri,
    campaignName: r.campaignName,
    actionType: r.actionType,
    startTime: iso(r.actionDate),
    figures: r.metrics,
    content: r.comment,
    mediaType: "text/plain",
    ...(r.federationUri ? { federation: r.federationUri } : {}),
    deleted: r.deleted,
    updated: iso(r.version),
  };
}

export function readResult(o: Json): ResultWire | null {
  const uri = idOf(o.id);
  const sectionUri = idOf(o.attributedTo);
  const campaignUri = idOf(o.campaign);
  const actionType = oneOf(o.actionType, ACTION_TYPES);
  const actionDate = time(o.startTime);
  const version = time(o.updated);
  if (!uri || !sectionUri || !campaignUri || !actionType || actionDate == null || version == null) return null;
  return {
    uri,
    sectionUri,
    sectionName: str(o.name, 200) ?? "",
    federationUri: idOf(o.federation),
    campaignUri,
    campaignName: str(o.campaignName, 200) ?? "",
    actionType,
    actionDate,
    metrics: metricsOf(o.figures),
    comment: str(o.content, 5000) ?? "",
    deleted: o.deleted === true,
    version,
  };
}

// ---- Reports ----------------------------------------------------------------------

export interface ReportWire {
  uri: string;
  sectionUri: string;
  sectionName: string;
  federationUri: string | null;
  kind: ReportKind;
  title: string;
  body: string;
  figures: Json;
  alsoNational: boolean;
  authorName: string;
  version: number;
}

export function reportObject(r: ReportWire, to: string[]): Json {
  return {
    id: r.uri,
    type: ["Object", "Report"],
    attributedTo: r.sectionUri,
    to,
    name: r.title,
    summary: r.sectionName,
    content: r.body,
    mediaType: "text/plain",
    reportKind: r.kind,
    figures: r.figures,
    alsoNational: r.alsoNational,
    authorName: r.authorName,
    ...(r.federationUri ? { federation: r.federationUri } : {}),
    updated: iso(r.version),
  };
}

export function readReport(o: Json): ReportWire | null {
  const uri = idOf(o.id);
  const sectionUri = idOf(o.attributedTo);
  const title = str(o.name, 200);
  const kind = oneOf(o.reportKind, REPORT_KINDS);
  const version = time(o.updated);
  if (!uri || !sectionUri || !title || !kind || version == null) return null;
  return {
    uri,
    sectionUri,
    sectionName: str(o.summary, 200) ?? "",
    federationUri: idOf(o.federation),
    kind,
    title,
    body: str(o.content, 50_000) ?? "",
    figures: reportFiguresOf(o.figures),
    alsoNational: o.alsoNational === true,
    authorName: str(o.authorName, 200) ?? "",
    version,
  };
}

// ---- Node statistics -----------------------------------------------------------------

export interface StatusWire {
  nodeUri: string;
  name: string;
  kind: NodeKind;
  territory: string | null;
  federationUri: string | null;
  members: number;
  activeMembers: number;
  eventsHeld: number;
  eventsUpcoming: number;
  version: number;
}

export function statusObject(s: StatusWire, to: string[]): Json {
  return {
    id: `${s.nodeUri}#status`,
    type: ["Object", "NodeStatus"],
    attributedTo: s.nodeUri,
    to,
    name: s.name,
    nodeKind: s.kind,
    ...(s.territory ? { territory: s.territory } : {}),
    ...(s.federationUri ? { federation: s.federationUri } : {}),
    figures: { members: s.members, activeMembers: s.activeMembers, eventsHeld: s.eventsHeld, eventsUpcoming: s.eventsUpcoming },
    updated: iso(s.version),
  };
}

export function readStatus(o: Json): StatusWire | null {
  const nodeUri = idOf(o.attributedTo);
  const kind = oneOf(o.nodeKind, NODE_KINDS);
  const version = time(o.updated);
  if (!nodeUri || !kind || version == null || idOf(o.id) !== `${nodeUri}#status`) return null;
  const figures = o.figures && typeof o.figures === "object" ? (o.figures as Json) : {};
  const territory = str(o.territory, 10);
  return {
    nodeUri,
    name: str(o.name, 200) ?? "",
    kind,
    territory: territory && /^[0-9AB]{2,5}$/.test(territory) ? territory : null,
    federationUri: idOf(o.federation),
    members: count(figures.members),
    activeMembers: count(figures.activeMembers),
    eventsHeld: count(figures.eventsHeld),
    eventsUpcoming: count(figures.eventsUpcoming),
    version,
  };
}

// ---- Directives ----------------------------------------------------------------------

export interface ProposalWire {
  type: ActionType;
  campaignUri: string | null;
  startAt: number | null;
  meetingPoint: string | null;
}

export interface DirectiveWire {
  uri: string;
  fromUri: string;
  fromName: string;
  kind: DirectiveKind;
  title: string;
  body: string;
  proposal: ProposalWire | null;
  published: number;
}

export function directiveObject(d: DirectiveWire, to: string[]): Json {
  return {
    id: d.uri,
    type: ["Object", "Directive"],
    attributedTo: d.fromUri,
    summary: d.fromName,
    to,
    directiveKind: d.kind,
    name: d.title,
    content: d.body,
    mediaType: "text/plain",
    ...(d.proposal
      ? {
          proposal: {
            actionType: d.proposal.type,
            ...(d.proposal.campaignUri ? { campaign: d.proposal.campaignUri } : {}),
            ...(d.proposal.startAt != null ? { startTime: iso(d.proposal.startAt) } : {}),
            ...(d.proposal.meetingPoint ? { meetingPoint: d.proposal.meetingPoint } : {}),
          },
        }
      : {}),
    published: iso(d.published),
  };
}

export function readDirective(o: Json): DirectiveWire | null {
  const uri = idOf(o.id);
  const fromUri = idOf(o.attributedTo);
  const kind = oneOf(o.directiveKind, DIRECTIVE_KINDS);
  const title = str(o.name, 200);
  if (!uri || !fromUri || !kind || !title) return null;
  const p = o.proposal && typeof o.proposal === "object" ? (o.proposal as Json) : null;
  const type = p ? oneOf(p.actionType, ACTION_TYPES) : null;
  return {
    uri,
    fromUri,
    fromName: str(o.summary, 200) ?? "",
    kind,
    title,
    body: str(o.content, 20_000) ?? "",
    proposal: kind === "action_proposal" && type ? { type, campaignUri: idOf(p?.campaign), startAt: time(p?.startTime), meetingPoint: str(p?.meetingPoint, 300) } : null,
    published: time(o.published) ?? Date.now(),
  };
}

// ---- A fédération's sections ------------------------------------------------------------

/**
 * The sections a fédération oversees, told to each of them: every section
 * stores the others as its siblings (territory_links, role "sibling"), whose
 * members may answer its fédération-wide events.
 */
export interface SectionsWire {
  federationUri: string;
  sections: string[];
  version: number;
  /** Each section's name and territory, as the fédération knows them (for the party directory). */
  details?: Array<{ id: string; name: string | null; territory: string | null }>;
}

export function sectionsObject(s: SectionsWire, to: string[]): Json {
  return {
    id: `${s.federationUri}#sections`,
    type: ["Object", "Sections"],
    attributedTo: s.federationUri,
    to,
    sections: s.sections,
    ...(s.details ? { nodes: s.details } : {}),
    updated: iso(s.version),
  };
}

/** Sections of one fédération a received list may name (a section keeps one row for each). */
export const MAX_SECTIONS = 1000;

export function readSections(o: Json): SectionsWire | null {
  const federationUri = idOf(o.attributedTo);
  const version = time(o.updated);
  if (!federationUri || version == null || idOf(o.id) !== `${federationUri}#sections` || !Array.isArray(o.sections)) return null;
  // A hostile parent may list 100,000: the work stays bounded, the list is cut.
  const sections = o.sections.slice(0, MAX_SECTIONS).map(idOf).filter((u): u is string => !!u && safeUrl(u) !== null);
  const listed = new Set(sections);
  const details = Array.isArray(o.nodes)
    ? o.nodes
        .slice(0, MAX_SECTIONS)
        .map((d) => (d && typeof d === "object" ? (d as Json) : {}))
        .filter((d) => typeof d.id === "string" && listed.has(d.id))
        .map((d) => ({ id: d.id as string, name: str(d.name, 200), territory: str(d.territory, 10) }))
    : undefined;
  return { federationUri, sections, version, ...(details ? { details } : {}) };
}

// ---- A node joins a campaign of an upper level ----------------------------------------

/** A node took part in a campaign of an upper level (or no longer does): told to its parent. */
export interface CampaignJoinWire {
  nodeUri: string;
  campaignUri: string;
  joined: boolean;
  version: number;
}

const joinId = (nodeUri: string, campaignUri: string) => `${nodeUri}#joins-${encodeURIComponent(campaignUri)}`;

export function campaignJoinObject(j: CampaignJoinWire, to: string[]): Json {
  return { id: joinId(j.nodeUri, j.campaignUri), type: ["Object", "CampaignJoin"], attributedTo: j.nodeUri, to, campaign: j.campaignUri, joined: j.joined, updated: iso(j.version) };
}

export function readCampaignJoin(o: Json): CampaignJoinWire | null {
  const nodeUri = idOf(o.attributedTo);
  const campaignUri = idOf(o.campaign);
  const version = time(o.updated);
  if (!nodeUri || !campaignUri || version == null || typeof o.joined !== "boolean" || idOf(o.id) !== joinId(nodeUri, campaignUri)) return null;
  return { nodeUri, campaignUri, joined: o.joined, version };
}

// ---- The party directory: a notice that a new version is held --------------------------

/**
 * Sent down the links when a node holds a new directory: the document itself
 * (up to megabytes) is not pushed through inboxes; the child fetches it from
 * the sender's `id`, on the sender's own server (src/party/directory.ts).
 */
export interface DirectoryNoticeWire {
  id: string;
  nodeUri: string;
  nationalUri: string;
  version: number;
}

export function directoryNoticeObject(n: DirectoryNoticeWire, to: string[]): Json {
  return { id: n.id, type: ["Object", "PartyDirectory"], attributedTo: n.nodeUri, to, national: n.nationalUri, version: n.version };
}

export function readDirectoryNotice(o: Json): DirectoryNoticeWire | null {
  const id = typeof o.id === "string" ? safeUrl(o.id) : null;
  const nodeUri = idOf(o.attributedTo);
  const nationalUri = typeof o.national === "string" ? safeUrl(o.national) : null;
  if (!id || !nodeUri || !nationalUri || !Number.isSafeInteger(o.version) || (o.version as number) <= 0) return null;
  if (new URL(id).origin !== new URL(nodeUri).origin) return null;
  return { id, nodeUri, nationalUri, version: o.version as number };
}
