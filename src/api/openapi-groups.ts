// OpenAPI description of the thematic groups' routes (directory, membership,
// threads, reports and moderation), merged into openapi.ts. Shapes follow the
// renderers of src/api/groups.ts. Proposals and contributions will add their
// own file next to this one.
import { FLAG_STATES, GROUP_POLICIES, GROUP_VISIBILITIES, MODERATION_ACTIONS } from "../storage/schema.ts";
import { body, date, id, json, many, nullable, object, pathId, read, ref, str, uri, write } from "./openapi-parts.ts";

const errors = {
  "400": json(ref("Error"), "A parameter is malformed"),
  "401": json(ref("Error"), "No valid access token"),
  "403": json(ref("Error"), "The token lacks the scope, or the member the right (not a moderator, not accepted by the group's policy…)"),
  "404": json(ref("Error"), "Not found, or not visible to you"),
  "409": json(ref("Error"), "Already taken (a group's address)"),
  "422": json(ref("Error"), "Invalid input, explained in plain words"),
};
const done = { "204": { description: "Done" } };
const reason = body({ type: "object", properties: { reason: { type: "string", maxLength: 1000, description: "Written to the moderation log" } } }, false);

export const groupsSchemas = {
  Group: object({
    id,
    uri,
    url: uri,
    handle: { type: "string", description: "@g_<slug>@host" },
    local: { type: "boolean", description: "Hosted (and moderated) by this instance" },
    name: str,
    description: str,
    rules: str,
    themes: { type: "array", items: str },
    policy: { enum: [...GROUP_POLICIES] },
    visibility: { enum: [...GROUP_VISIBILITIES] },
    members_count: { type: "integer", minimum: 0 },
    last_activity_at: nullable(date),
    membership: { enum: ["none", "pending", "member"], description: "The token's member's" },
    can_moderate: { type: "boolean" },
  }),
  GroupProposal: object({ id, state: { enum: ["proposed", "refused"] }, name: str }),
  GroupInput: {
    type: "object",
    required: ["name"],
    properties: {
      name: { type: "string", maxLength: 100 },
      slug: { type: "string", pattern: "^[a-z0-9_]{2,27}$" },
      description: { type: "string", maxLength: 2000 },
      rules: { type: "string", maxLength: 4000 },
      themes: { anyOf: [str, { type: "array", items: str, maxItems: 10 }] },
      policy: { enum: [...GROUP_POLICIES] },
      visibility: { enum: [...GROUP_VISIBILITIES] },
    },
  },
  GroupAuthor: object({ id, uri, handle: str, name: str }),
  GroupPost: object({
    id,
    uri,
    url: uri,
    author: nullable(ref("GroupAuthor")),
    title: nullable(str),
    content: { type: "string", description: "HTML" },
    summary: nullable(str),
    in_reply_to_id: nullable(id),
    published_at: date,
    hidden: { type: "boolean", description: "Hidden by a moderator (only moderators see such posts)" },
  }),
  GroupThread: object({ title: nullable(str), replies_count: { type: "integer", minimum: 0 }, last_activity_at: date, root: ref("GroupPost") }),
  GroupThreadDetail: object({ title: nullable(str), root: ref("GroupPost"), replies: { type: "array", items: ref("GroupPost") } }),
  Flag: object({
    id,
    uri,
    state: { enum: [...FLAG_STATES] },
    group_id: nullable(id),
    target_uri: str,
    post: nullable(ref("GroupPost")),
    comment: str,
    reporter: nullable({ type: "string", description: "Handle; null for a local member when the viewer moderates the group only" }),
    reporter_domain: nullable(str),
    created_at: date,
    resolved_at: nullable(date),
  }),
  ModerationLogEntry: object({
    id,
    group_id: nullable(id),
    action: { enum: [...MODERATION_ACTIONS] },
    target_uri: str,
    reason: str,
    moderator: nullable(object({ username: str, name: str })),
    created_at: date,
  }),
};

const flagStateParam = { name: "state", in: "query", schema: { enum: [...FLAG_STATES, "all"], default: "open" } };

export const groupsPaths = {
  "/groups": {
    get: {
      summary: "The directory: active groups here and on the instances we know",
      parameters: [
        { name: "q", in: "query", schema: str, description: "A theme (with or without #) or words of the name or description" },
        { name: "sort", in: "query", schema: { enum: ["activity", "members", "name"], default: "activity" } },
        { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 200, default: 100 } },
      ],
      responses: { "200": many("Group"), ...errors },
    },
    post: {
      summary: "Propose a group (card-holders); it waits for a secretary or admin when the instance requires approval",
      security: write,
      requestBody: body(ref("GroupInput")),
      responses: { "200": json({ anyOf: [ref("Group"), ref("GroupProposal")] }), ...errors },
    },
  },
  "/groups/mine": { get: { summary: "Groups I belong to or asked to join", security: read, responses: { "200": many("Group"), ...errors } } },
  "/groups/join": {
    post: {
      summary: "Join a group by its handle (here or on another instance): a Follow of the group, answered by its policy",
      security: write,
      requestBody: body({ type: "object", required: ["handle"], properties: { handle: { type: "string", description: "@g_logement@host, or the actor's URL" } } }),
      responses: { "200": json(ref("Group")), ...errors },
    },
  },
  "/groups/{id}": { parameters: [pathId("id")], get: { summary: "One group", responses: { "200": json(ref("Group")), ...errors } } },
  "/groups/{id}/join": { parameters: [pathId("id")], post: { summary: "Join (membership may stay pending)", security: write, responses: { "200": json(ref("Group")), ...errors } } },
  "/groups/{id}/leave": { parameters: [pathId("id")], post: { summary: "Leave, or withdraw a request", security: write, responses: { "200": json(ref("Group")), ...errors } } },
  "/groups/{id}/threads": {
    parameters: [pathId("id")],
    get: { summary: "The group's threads I may read, most recently active first (hidden posts left out)", responses: { "200": many("GroupThread"), ...errors } },
    post: {
      summary: "Start a thread (members)",
      security: write,
      requestBody: body({ type: "object", required: ["title", "text"], properties: { title: { type: "string", maxLength: 200 }, text: { type: "string", maxLength: 5000 } } }),
      responses: { "200": json(ref("GroupPost")), ...errors },
    },
  },
  "/groups/{id}/threads/{thread_id}": {
    parameters: [pathId("id"), pathId("thread_id")],
    get: { summary: "A thread: its first post and the replies, oldest first (moderators also get hidden posts, marked)", responses: { "200": json(ref("GroupThreadDetail")), ...errors } },
  },
  "/groups/{id}/threads/{thread_id}/replies": {
    parameters: [pathId("id"), pathId("thread_id")],
    post: {
      summary: "Reply in a thread (members)",
      security: write,
      requestBody: body({ type: "object", required: ["text"], properties: { text: { type: "string", maxLength: 5000 }, in_reply_to_id: { ...id, description: "A post of the thread; default: its latest" } } }),
      responses: { "200": json(ref("GroupPost")), ...errors },
    },
  },
  "/posts/{id}/flag": {
    parameters: [pathId("id")],
    post: {
      summary: "Report a post I can read: to its group's moderators (a Flag to the group's server if it is remote) and to its author's server",
      security: write,
      requestBody: body({ type: "object", properties: { comment: { type: "string", maxLength: 1000 } } }, false),
      responses: { "200": json(ref("Flag")), ...errors },
    },
  },
  "/groups/{id}/flags": { parameters: [pathId("id")], get: { summary: "The group's moderation queue (its moderators)", security: read, parameters: [flagStateParam], responses: { "200": many("Flag"), ...errors } } },
  "/groups/{id}/log": { parameters: [pathId("id")], get: { summary: "The group's moderation log (its moderators)", security: read, responses: { "200": many("ModerationLogEntry"), ...errors } } },
  "/groups/{id}/posts/{post_id}/hide": {
    parameters: [pathId("id"), pathId("post_id")],
    post: { summary: "Hide a post in the group's discussion (moderators); its open reports are resolved", security: write, requestBody: reason, responses: { ...done, ...errors } },
    delete: { summary: "Show a hidden post again (moderators)", security: write, requestBody: reason, responses: { ...done, ...errors } },
  },
  "/groups/{id}/posts/{post_id}/remove": {
    parameters: [pathId("id"), pathId("post_id")],
    post: { summary: "Take a post (a thread's first post: the thread) out of the group; the group sends Undo of its Announce (moderators)", security: write, requestBody: reason, responses: { ...done, ...errors } },
  },
  "/flags/{id}/close": {
    parameters: [pathId("id")],
    post: {
      summary: "Close a report: resolved (handled) or dismissed (moderators of its queue)",
      security: write,
      requestBody: body({ type: "object", required: ["state"], properties: { state: { enum: ["resolved", "dismissed"] }, reason: { type: "string", maxLength: 1000 } } }),
      responses: { "200": json(ref("Flag")), ...errors },
    },
  },
  "/moderation/flags": { get: { summary: "The instance's queue: reports of posts outside our groups (admins, moderators)", security: read, parameters: [flagStateParam], responses: { "200": many("Flag"), ...errors } } },
  "/moderation/log": { get: { summary: "The instance's moderation log (admins, moderators)", security: read, responses: { "200": many("ModerationLogEntry"), ...errors } } },
  "/moderation/posts/{id}": {
    parameters: [pathId("id")],
    delete: { summary: "Delete a reported post (admins, moderators): ours everywhere (a Delete goes out), a remote one from this instance only", security: write, requestBody: reason, responses: { ...done, ...errors } },
  },
};
