// OpenAPI description of the hierarchy's routes (campaigns, field actions,
// shifts, results, contacts, reports, directives, links, dashboard), merged
// into openapi.ts. Shapes follow src/api/territory-entities.ts.
import { ACTION_TYPES, DIRECTIVE_KINDS, LINK_ROLES, LINK_STATES, METRICS, NODE_KINDS, REPORT_KINDS } from "../storage/schema.ts";

const nullable = (schema: Record<string, unknown>) => ({ anyOf: [schema, { type: "null" }] });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Record<string, unknown>, description = "OK") => ({ description, content: { "application/json": { schema } } });
const body = (schema: Record<string, unknown>) => ({ required: true, content: { "application/json": { schema } } });
const errors = {
  "401": json(ref("Error"), "No valid access token"),
  "403": json(ref("Error"), "The token lacks the scope, or the member the right"),
  "404": json(ref("Error"), "Not found, or not visible to you"),
  "409": json(ref("Error"), "Not possible in this state (e.g. a section sending directives)"),
  "422": json(ref("Error"), "Invalid input, explained in plain words"),
};
const idParam = { name: "id", in: "path", required: true, schema: { type: "string", pattern: "^\\d+$" } };
const read = [{ oauth: ["read"] }];
const write = [{ oauth: ["write"] }];
const object = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({ type: "object", additionalProperties: false, required, properties });
const str = { type: "string" };
const date = { type: "string", format: "date-time" };
const id = { type: "string", pattern: "^\\d+$" };
const count = { type: "integer", minimum: 0 };
const metrics = object(Object.fromEntries(METRICS.map((m) => [m, count])));
const partialMetrics = { type: "object", additionalProperties: false, properties: Object.fromEntries(METRICS.map((m) => [m, count])) };
const totals = object({ results: count, ...Object.fromEntries(METRICS.map((m) => [m, count])) });

export const territorySchemas = {
  Campaign: object({
    id,
    uri: { type: "string", format: "uri" },
    level: { enum: [...NODE_KINDS] },
    own: { type: "boolean", description: "Run by this instance (else received from an upper level)." },
    owner_uri: nullable(str),
    title: str,
    description: str,
    starts_at: date,
    ends_at: nullable(date),
    goals: partialMetrics,
    materials: { type: "array", items: object({ name: str, url: { type: "string", format: "uri" } }) },
    joined: { type: "boolean" },
    cancelled: { type: "boolean" },
    updated_at: date,
  }),
  CampaignInput: {
    type: "object",
    required: ["title", "starts_at"],
    properties: {
      title: { type: "string", maxLength: 200 },
      description: str,
      starts_at: date,
      ends_at: nullable(date),
      goals: partialMetrics,
      materials: { type: "array", items: object({ name: str, url: { type: "string", format: "uri" } }) },
    },
  },
  Shift: object({
    id,
    start: date,
    end: date,
    capacity: nullable({ type: "integer" }),
    label: nullable(str),
    taken: count,
    mine: { type: "boolean" },
    people: { type: "array", items: object({ id, username: str, name: str }) },
  }),
  ShiftInput: { type: "object", required: ["start", "end"], properties: { start: date, end: date, capacity: nullable({ type: "integer", minimum: 1 }), label: nullable(str) } },
  Action: object({
    id,
    campaign_id: id,
    type: { enum: [...ACTION_TYPES] },
    title: str,
    start: date,
    end: nullable(date),
    timezone: str,
    meeting_point: nullable(str),
    area: nullable({ type: "string", description: "Streets, polling-station numbers…" }),
    coordinator_id: nullable(id),
    notes: str,
    cancelled: { type: "boolean" },
    can_edit: { type: "boolean" },
    shifts: { type: "array", items: ref("Shift") },
  }),
  ActionInput: {
    type: "object",
    required: ["campaign_id", "type", "title", "start"],
    properties: {
      campaign_id: id,
      type: { enum: [...ACTION_TYPES] },
      title: { type: "string", maxLength: 200 },
      start: date,
      end: nullable(date),
      timezone: { type: "string", default: "Europe/Paris" },
      meeting_point: nullable(str),
      area: nullable(str),
      coordinator_id: nullable(id),
      notes: str,
      shifts: { type: "array", items: ref("ShiftInput") },
    },
  },
  Result: object({
    id,
    uri: { type: "string", format: "uri" },
    action_id: nullable(id),
    campaign_uri: str,
    action_type: { enum: [...ACTION_TYPES] },
    action_date: date,
    section_uri: str,
    section_name: str,
    figures: metrics,
    comment: str,
    updated_at: date,
  }),
  Contact: object({ id, name: str, email: nullable(str), phone: nullable(str), note: str, consent: str, consent_at: date }),
  Report: object({
    id,
    uri: { type: "string", format: "uri" },
    direction: { enum: ["sent", "received"] },
    kind: { enum: [...REPORT_KINDS] },
    title: str,
    body: str,
    figures: { type: "object", description: "{campaign uri: {action type: figures}}" },
    also_national: { type: "boolean" },
    section_uri: str,
    section_name: str,
    author_name: str,
    created_at: date,
    acknowledged_at: nullable(date),
    read_at: nullable(date),
    read_by: nullable(str),
    opened_at: nullable(date),
  }),
  Directive: object({
    id,
    uri: { type: "string", format: "uri" },
    direction: { enum: ["sent", "received"] },
    kind: { enum: [...DIRECTIVE_KINDS] },
    from_uri: str,
    from_name: str,
    title: str,
    body: str,
    proposal: nullable(object({ type: { enum: [...ACTION_TYPES] }, campaign_uri: nullable(str), start: nullable(date), meeting_point: nullable(str) })),
    action_id: nullable(id),
    created_at: date,
  }),
  Link: object({ role: { enum: [...LINK_ROLES] }, handle: str, uri: nullable(str), name: nullable(str), state: { enum: [...LINK_STATES] }, problem: nullable(str), updated_at: date }),
  Territory: object({
    kind: { enum: [...NODE_KINDS] },
    territory: nullable(str),
    node_uri: str,
    parent: nullable(ref("Link")),
    children: { type: "array", items: ref("Link") },
    refused: { type: "array", items: object({ uri: str, handle: str, at: date }) },
  }),
  DashboardRow: object({
    uri: str,
    name: str,
    handle: nullable(str),
    territory: nullable(str),
    link_state: nullable(str),
    sections: count,
    members: count,
    active_members: count,
    events_held: count,
    events_upcoming: count,
    totals,
    reports: count,
    last_report_at: nullable(date),
  }),
  Dashboard: object({
    kind: { enum: [...NODE_KINDS] },
    rows: { type: "array", items: ref("DashboardRow") },
    total: object({ sections: count, members: count, active_members: count, events_held: count, events_upcoming: count, reports: count, totals }),
    campaigns: {
      type: "array",
      items: object({ campaign: ref("Campaign"), goals: partialMetrics, totals, by_type: { type: "array", items: object({ type: { enum: [...ACTION_TYPES] }, totals }) } }),
    },
  }),
};

const many = (name: string) => json({ type: "array", items: ref(name) });

export const territoryPaths = {
  "/territory": { get: { summary: "This node's place in the hierarchy: parent, children, refused oversight", security: read, responses: { "200": json(ref("Territory")), ...errors } } },
  "/campaigns": {
    get: { summary: "Campaigns: this node's and its upper levels'", security: read, parameters: [{ name: "current", in: "query", schema: { type: "boolean" } }], responses: { "200": many("Campaign"), ...errors } },
    post: { summary: "Start a campaign (secretaries, admins); sent down to the nodes overseen", security: write, requestBody: body(ref("CampaignInput")), responses: { "200": json(ref("Campaign")), ...errors } },
  },
  "/campaigns/by-uri": { get: { summary: "A campaign by its URI (results name campaigns by URI)", security: read, parameters: [{ name: "uri", in: "query", required: true, schema: str }], responses: { "200": json(ref("Campaign")), ...errors } } },
  "/campaigns/{id}": {
    parameters: [idParam],
    get: { summary: "One campaign", security: read, responses: { "200": json(ref("Campaign")), ...errors } },
    put: { summary: "Change one of our campaigns", security: write, requestBody: body(ref("CampaignInput")), responses: { "200": json(ref("Campaign")), ...errors } },
  },
  "/campaigns/{id}/cancel": { parameters: [idParam], post: { summary: "Cancel one of our campaigns", security: write, responses: { "200": json(ref("Campaign")), ...errors } } },
  "/campaigns/{id}/join": {
    parameters: [idParam],
    post: { summary: "Take part in (or leave, join=false) an upper level's campaign", security: write, requestBody: { content: { "application/json": { schema: { type: "object", properties: { join: { type: "boolean", default: true } } } } } }, responses: { "200": json(ref("Campaign")), ...errors } },
  },
  "/actions": {
    get: { summary: "Field actions", security: read, parameters: [{ name: "campaign_id", in: "query", schema: id }, { name: "upcoming", in: "query", schema: { type: "boolean" } }], responses: { "200": many("Action"), ...errors } },
    post: { summary: "Organise a field action, with its shifts", security: write, requestBody: body(ref("ActionInput")), responses: { "200": json(ref("Action")), ...errors } },
  },
  "/actions/{id}": {
    parameters: [idParam],
    get: { summary: "One action with its shifts and who signed up", security: read, responses: { "200": json(ref("Action")), ...errors } },
    put: { summary: "Change an action (coordinator, organiser, managers)", security: write, requestBody: body(ref("ActionInput")), responses: { "200": json(ref("Action")), ...errors } },
  },
  "/actions/{id}/cancel": { parameters: [idParam], post: { summary: "Cancel an action", security: write, responses: { "200": json(ref("Action")), ...errors } } },
  "/actions/{id}/shifts": { parameters: [idParam], post: { summary: "Add a shift", security: write, requestBody: body(ref("ShiftInput")), responses: { "200": json(ref("Action")), ...errors } } },
  "/shifts/{id}/signup": {
    parameters: [idParam],
    post: { summary: "Sign up for a shift (refused when full)", security: write, responses: { "200": json(ref("Action")), ...errors } },
    delete: { summary: "Withdraw from a shift", security: write, responses: { "200": json(ref("Action")), ...errors } },
  },
  "/actions/{id}/results": {
    parameters: [idParam],
    get: { summary: "Results recorded for an action", security: read, responses: { "200": many("Result"), ...errors } },
    post: {
      summary: "Record (or correct) my result for an action; sent up to the fédération",
      security: write,
      requestBody: body({ type: "object", required: ["figures"], properties: { figures: partialMetrics, comment: str } }),
      responses: { "200": json(ref("Result")), ...errors },
    },
  },
  "/results/{id}": { parameters: [idParam], delete: { summary: "Withdraw a result (the fédération is told)", security: write, responses: { "204": { description: "Withdrawn" }, ...errors } } },
  "/actions/{id}/contacts": {
    parameters: [idParam],
    get: { summary: "Contacts collected (coordinator, organiser, managers); they never leave the section", security: read, responses: { "200": many("Contact"), ...errors } },
    post: {
      summary: "Record a contact who gave explicit consent",
      security: write,
      requestBody: body({ type: "object", required: ["name", "consent"], properties: { name: str, email: str, phone: str, note: str, consent: { const: true } } }),
      responses: { "200": json(ref("Contact")), ...errors },
    },
  },
  "/reports": {
    get: { summary: "Reports sent up, or (managers of a fédération or national) received", security: read, parameters: [{ name: "direction", in: "query", schema: { enum: ["sent", "received"] } }], responses: { "200": many("Report"), ...errors } },
    post: {
      summary: "Write a report to the fédération (and national if asked)",
      security: write,
      requestBody: body({ type: "object", required: ["kind", "title"], properties: { kind: { enum: [...REPORT_KINDS] }, title: { type: "string", maxLength: 200 }, body: str, also_national: { type: "boolean" }, with_figures: { type: "boolean", default: true } } }),
      responses: { "200": json(ref("Report")), ...errors },
    },
  },
  "/reports/{id}": { parameters: [idParam], get: { summary: "Open a report (a received one is marked read, and its section told)", security: read, responses: { "200": json(ref("Report")), ...errors } } },
  "/directives": {
    get: { summary: "Directives sent or received", security: read, responses: { "200": many("Directive"), ...errors } },
    post: {
      summary: "Send an announcement or propose an action to every node overseen (fédération, national)",
      security: write,
      requestBody: body({
        type: "object",
        required: ["kind", "title"],
        properties: {
          kind: { enum: [...DIRECTIVE_KINDS] },
          title: { type: "string", maxLength: 200 },
          body: str,
          proposal: { type: "object", properties: { type: { enum: [...ACTION_TYPES] }, campaign_uri: str, start: date, meeting_point: str } },
        },
      }),
      responses: { "200": json(ref("Directive")), ...errors },
    },
  },
  "/directives/{id}/adopt": {
    parameters: [idParam],
    post: { summary: "Turn a proposed action into one of ours", security: write, requestBody: { content: { "application/json": { schema: { type: "object", properties: { start: date, meeting_point: str } } } } }, responses: { "200": json(ref("Action")), ...errors } },
  },
  "/dashboard": { get: { summary: "Per section (fédération) or per fédération (national): members, activity, results, reports", security: read, responses: { "200": json(ref("Dashboard")), ...errors } } },
  "/dashboard.csv": { get: { summary: "The dashboard's rows as CSV (semicolons, UTF-8 with BOM)", security: read, responses: { "200": { description: "CSV", content: { "text/csv": { schema: str } } }, ...errors } } },
  "/results.csv": { get: { summary: "Every result known here, one row each, as CSV", security: read, responses: { "200": { description: "CSV", content: { "text/csv": { schema: str } } }, ...errors } } },
};
