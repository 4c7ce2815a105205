// The OpenAPI 3.1 description of /api/coopol/v1, served at
// /api/coopol/v1/openapi.json. Tests validate real responses against it.
import { EVENT_AUDIENCES, EVENT_CATEGORIES, EVENT_STATUSES, JOIN_MODES, RSVP_STATUSES } from "../storage/schema.ts";
import { SOFTWARE_VERSION } from "../members/stats.ts";
import { territoryPaths, territorySchemas } from "./openapi-territory.ts";
import { groupsPaths, groupsSchemas } from "./openapi-groups.ts";
import { idParam, json, nullable, ref, security } from "./openapi-parts.ts";

const errors = {
  "401": json(ref("Error"), "No valid access token"),
  "403": json(ref("Error"), "The token lacks the scope, or the member the right"),
  "404": json(ref("Error"), "Not found, or not visible to you"),
  "422": json(ref("Error"), "Invalid input, explained in plain words"),
};

const Place = {
  type: "object",
  additionalProperties: false,
  required: ["name", "street", "postal_code", "locality", "latitude", "longitude"],
  properties: {
    name: nullable({ type: "string" }),
    street: nullable({ type: "string" }),
    postal_code: nullable({ type: "string" }),
    locality: nullable({ type: "string" }),
    latitude: nullable({ type: "number" }),
    longitude: nullable({ type: "number" }),
  },
};

const EventInput = {
  type: "object",
  required: ["title", "start"],
  additionalProperties: false,
  properties: {
    title: { type: "string", maxLength: 200 },
    description: { type: "string", description: "Plain text; links and hashtags are linked." },
    start: { type: "string", format: "date-time" },
    end: nullable({ type: "string", format: "date-time" }),
    timezone: { type: "string", default: "Europe/Paris" },
    place: { ...Place, required: [] },
    online_url: nullable({ type: "string", format: "uri" }),
    category: { enum: [...EVENT_CATEGORIES] },
    capacity: nullable({ type: "integer", minimum: 1 }),
    audience: {
      enum: [...EVENT_AUDIENCES],
      description:
        "public: anyone, federated. section: this instance's card-holders only, never federated. groups: the members of the groups listed in `groups` (on every instance), never public. federation: every section of this section's fédération (relayed by it), never outside; only when the instance has a fédération. An event for groups or the fédération keeps its audience on edits.",
    },
    groups: {
      type: "array",
      maxItems: 20,
      items: { type: "string", pattern: "^\\d+$" },
      description: "With audience groups: ids of this instance's groups the member belongs to (or moderates). On an edit, groups can be added, never taken off.",
    },
    for_group: { type: "string", pattern: "^\\d+$", description: "Organised by this local group (its moderators and owner): the event is attributed to the group's actor. A members-only group's events cannot be public." },
    join_mode: { enum: [...JOIN_MODES] },
    status: { enum: ["tentative", "confirmed"] },
    rrule: nullable({ type: "string", description: "RFC 5545 RRULE value, e.g. FREQ=MONTHLY;BYDAY=1TU" }),
    agenda: { type: "array", items: { type: "string" } },
    attachments: {
      type: "array",
      maxItems: 10,
      description: "The event's files and links, in order; replaces the list. Left out, an edit keeps the attachments. Files are uploaded first with POST /media.",
      items: {
        oneOf: [
          { type: "object", required: ["media_id"], additionalProperties: false, properties: { media_id: { type: "string", pattern: "^\\d+$" } } },
          { type: "object", required: ["url"], additionalProperties: false, properties: { url: { type: "string", format: "uri" }, name: { type: "string", maxLength: 200 } } },
        ],
      },
    },
    for_section: { type: "boolean", description: "Organised by the section (secretaries and admins)." },
  },
};

export const openapi = {
  openapi: "3.1.0",
  info: {
    title: "Coopol API",
    version: SOFTWARE_VERSION,
    description: "What Coopol's web pages do that Mastodon apps cannot: the agenda, campaigns and field actions, reports up and directives down the party's hierarchy, dashboards. Authorised by the same OAuth tokens as the Mastodon API (scopes read and write).",
    license: { name: "AGPL-3.0-or-later", identifier: "AGPL-3.0-or-later" },
  },
  servers: [{ url: "/api/coopol/v1" }],
  components: {
    securitySchemes: {
      oauth: { type: "oauth2", flows: { authorizationCode: { authorizationUrl: "/oauth/authorize", tokenUrl: "/oauth/token", scopes: { read: "Read", write: "Write" } } } },
    },
    schemas: {
      Error: { type: "object", required: ["error"], properties: { error: { type: "string" } } },
      Account: {
        type: "object",
        description: "Mastodon's Account entity.",
        required: ["id", "username", "acct", "display_name", "url", "group"],
        properties: { id: { type: "string" }, username: { type: "string" }, acct: { type: "string" }, display_name: { type: "string" }, url: { type: "string" }, group: { type: "boolean" } },
      },
      EventInput,
      Event: {
        type: "object",
        additionalProperties: false,
        required: ["id", "uri", "url", "title", "description", "start", "end", "timezone", "place", "online_url", "category", "capacity", "remaining", "audience", "groups", "join_mode", "status", "rrule", "agenda", "attachments", "minutes", "organiser", "local", "counts", "my_rsvp", "sequence", "ics_url"],
        properties: {
          id: { type: "string" },
          uri: { type: "string", format: "uri" },
          url: { type: "string", format: "uri" },
          title: { type: "string" },
          description: { type: "string", description: "Sanitised HTML." },
          start: { type: "string", format: "date-time" },
          end: nullable({ type: "string", format: "date-time" }),
          timezone: { type: "string" },
          place: Place,
          online_url: nullable({ type: "string" }),
          category: { enum: [...EVENT_CATEGORIES] },
          capacity: nullable({ type: "integer" }),
          remaining: nullable({ type: "integer" }),
          audience: { enum: [...EVENT_AUDIENCES] },
          groups: { type: "array", items: { type: "string" }, description: "With audience groups: the ids of the groups (GET /groups/{id}) the event is for" },
          join_mode: { enum: [...JOIN_MODES] },
          status: { enum: [...EVENT_STATUSES] },
          rrule: nullable({ type: "string" }),
          agenda: { type: "array", items: { type: "string" } },
          attachments: { type: "array", items: ref("EventAttachment") },
          minutes: nullable({ type: "string" }),
          organiser: ref("Account"),
          local: { type: "boolean" },
          counts: {
            type: "object",
            additionalProperties: false,
            required: ["going", "maybe", "waiting", "pending"],
            properties: { going: { type: "integer" }, maybe: { type: "integer" }, waiting: { type: "integer" }, pending: { type: "integer" } },
          },
          my_rsvp: nullable({ enum: [...RSVP_STATUSES] }),
          sequence: { type: "integer" },
          ics_url: { type: "string", format: "uri" },
        },
      },
      EventAttachment: {
        type: "object",
        additionalProperties: false,
        required: ["id", "kind", "url", "name", "media_type"],
        properties: {
          id: { type: "string" },
          kind: { enum: ["file", "link"], description: "file: a document or image (here or on the organiser's server); link: a web page." },
          url: { type: "string", format: "uri" },
          name: { type: "string" },
          media_type: { type: "string", description: "text/html for links" },
        },
      },
      Occurrence: {
        type: "object",
        additionalProperties: false,
        required: ["start", "end", "event"],
        properties: { start: { type: "string", format: "date-time" }, end: nullable({ type: "string", format: "date-time" }), event: ref("Event") },
      },
      ...territorySchemas,
      ...groupsSchemas,
      Rsvp: {
        type: "object",
        additionalProperties: false,
        required: ["account", "status", "attended", "created_at"],
        properties: { account: ref("Account"), status: { enum: [...RSVP_STATUSES] }, attended: { type: "boolean" }, created_at: { type: "string", format: "date-time" } },
      },
    },
  },
  paths: {
    ...territoryPaths,
    ...groupsPaths,
    "/events": {
      get: {
        summary: "The agenda: occurrences in a period, recurrences expanded",
        security: security("read"),
        parameters: [
          { name: "from", in: "query", schema: { type: "string", format: "date-time" }, description: "Default: now" },
          { name: "to", in: "query", schema: { type: "string", format: "date-time" }, description: "Default: one year after from; at most two years" },
          { name: "category", in: "query", schema: { enum: [...EVENT_CATEGORIES] } },
          { name: "locality", in: "query", schema: { type: "string" } },
          { name: "mine", in: "query", schema: { type: "boolean" }, description: "Only events I organise or answered" },
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 500, default: 100 }, description: "Occurrences per page. When there are more, a `Link` header with `rel=\"next\"` gives the next page (the same query from just after the last start time; occurrences starting at the same time are never split)." },
        ],
        responses: { "200": json({ type: "array", items: ref("Occurrence") }), ...errors },
      },
      post: {
        summary: "Create an event",
        security: security("write"),
        requestBody: { required: true, content: { "application/json": { schema: ref("EventInput") } } },
        responses: { "200": json(ref("Event")), ...errors },
      },
    },
    "/groups/{id}/events": {
      parameters: [idParam],
      get: {
        summary: "A group's agenda: events it organises or that are addressed to it, as you may see them (events for its members only to members)",
        security: security("read"),
        parameters: [
          { name: "from", in: "query", schema: { type: "string", format: "date-time" }, description: "Default: now" },
          { name: "to", in: "query", schema: { type: "string", format: "date-time" }, description: "Default: one year after from; at most two years" },
        ],
        responses: { "200": json({ type: "array", items: ref("Occurrence") }), ...errors },
      },
    },
    "/media": {
      post: {
        summary: "Upload a file to attach to an event (PDF or image, 10 MB at most)",
        security: security("write"),
        requestBody: {
          required: true,
          content: { "multipart/form-data": { schema: { type: "object", required: ["file"], properties: { file: { type: "string", format: "binary" }, name: { type: "string", description: "Shown to people; default: empty" } } } } },
        },
        responses: { "200": json(ref("EventAttachment")), ...errors },
      },
    },
    "/events/{id}": {
      parameters: [idParam],
      get: { summary: "One event", security: security("read"), responses: { "200": json(ref("Event")), ...errors } },
      put: { summary: "Change an event (organiser)", security: security("write"), requestBody: { required: true, content: { "application/json": { schema: ref("EventInput") } } }, responses: { "200": json(ref("Event")), ...errors } },
    },
    "/events/{id}/cancel": { parameters: [idParam], post: { summary: "Cancel an event (organiser)", security: security("write"), responses: { "200": json(ref("Event")), ...errors } } },
    "/events/{id}/rsvp": {
      parameters: [idParam],
      post: {
        summary: "Answer an event, here or on another instance",
        security: security("write"),
        requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["answer"], properties: { answer: { enum: ["going", "maybe", "not_going"] } } } } } },
        responses: { "200": json(ref("Event")), ...errors },
      },
    },
    "/events/{id}/attendees": { parameters: [idParam], get: { summary: "Who answered (organiser)", security: security("read"), responses: { "200": json({ type: "array", items: ref("Rsvp") }), ...errors } } },
    "/events/{id}/attendees/{account_id}": {
      parameters: [idParam, { name: "account_id", in: "path", required: true, schema: { type: "string", pattern: "^\\d+$" } }],
      post: {
        summary: "Accept or refuse a request (approval mode, organiser)",
        security: security("write"),
        requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["accept"], properties: { accept: { type: "boolean" } } } } } },
        responses: { "200": json(ref("Rsvp")), ...errors },
      },
    },
    "/events/{id}/minutes": {
      parameters: [idParam],
      put: {
        summary: "Write the minutes and who was present (organiser)",
        security: security("write"),
        requestBody: { required: true, content: { "application/json": { schema: { type: "object", required: ["minutes"], properties: { minutes: { type: "string" }, present: { type: "array", items: { type: "string" }, description: "Account ids" } } } } } },
        responses: { "200": json(ref("Event")), ...errors },
      },
    },
  },
} as const;
