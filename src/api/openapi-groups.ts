// OpenAPI description of the thematic groups' routes (directory, membership,
// settings, members and bans, threads, reports and moderation, proposals and
// amendments, contributors), merged into openapi.ts. Shapes follow the
// renderers of src/api/groups.ts.
import { FLAG_STATES, GROUP_POLICIES, GROUP_ROLES, GROUP_VISIBILITIES, MODERATION_ACTIONS, PROPOSAL_STATES, STANCES } from "../storage/schema.ts";
import { WINDOWS } from "../groups/contributions.ts";
import { body, date, id, json, many, nullable, object, pathId, read, ref, str, uri, write } from "./openapi-parts.ts";

const errors = {
  "400": json(ref("Error"), "A parameter is malformed"),
  "401": json(ref("Error"), "No valid access token"),
  "403": json(ref("Error"), "The token lacks the scope, or the member the right (not a moderator, not accepted by the group's policy…)"),
  "404": json(ref("Error"), "Not found, or not visible to you"),
  "409": json(ref("Error"), "Already taken (a group's address), or the proposal is no longer under debate"),
  "422": json(ref("Error"), "Invalid input, explained in plain words"),
};
const done = { "204": { description: "Done" } };
const reason = body({ type: "object", properties: { reason: { type: "string", maxLength: 1000, description: "Written to the moderation log" } } }, false);

const proposalProperties = {
  id: { ...id, description: "The proposal's post (its thread's first post; an amendment's reply)" },
  group_id: id,
  title: nullable({ type: "string", description: "null for an amendment" }),
  state: { enum: [...PROPOSAL_STATES] },
  support: { type: "integer", minimum: 0 },
  oppose: { type: "integer", minimum: 0 },
  tally_kept_by: nullable({ type: "string", description: "The group's instance: it counts the stances and decides; others show the tally it last sent" }),
  decided_at: nullable(date),
  amends_id: nullable({ ...id, description: "The amended proposal, for an amendment" }),
  my_stance: nullable({ enum: [...STANCES] }),
  can_take_stance: { type: "boolean", description: "Open, and the token's member may support or oppose (a member of the group, not banned)" },
  can_withdraw: { type: "boolean", description: "Open, and the token's member wrote it" },
  can_decide: { type: "boolean", description: "Open, and the token's member moderates the group (local groups only)" },
  post: ref("GroupPost"),
};

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
    poll_id: nullable({ ...id, description: "The post's poll, if it has one: read it with GET /api/v1/polls/{poll_id} and vote with POST /api/v1/polls/{poll_id}/votes (Mastodon API, same token)" }),
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
  GroupSettings: {
    type: "object",
    description: "What is left out stays as it is",
    properties: {
      name: { type: "string", maxLength: 100 },
      description: { type: "string", maxLength: 2000 },
      rules: { type: "string", maxLength: 4000 },
      themes: { anyOf: [str, { type: "array", items: str, maxItems: 10 }] },
      policy: { enum: [...GROUP_POLICIES], description: "Who may join: party_only (card-holders here and on the party's instances), approval (a moderator accepts each request), sympathisants (sympathisants too), fediverse (anyone)" },
      visibility: { enum: [...GROUP_VISIBILITIES] },
    },
  },
  GroupMember: object({ account: ref("GroupAuthor"), role: nullable({ enum: [...GROUP_ROLES] }) }),
  GroupBan: object({ id, account: nullable(ref("GroupAuthor")), domain: nullable({ type: "string", description: "A whole instance" }) }),
  Proposal: object(proposalProperties),
  ProposalDetail: object({
    ...proposalProperties,
    amends: nullable(ref("Proposal")),
    amendments: { type: "array", items: ref("Proposal"), description: "Newest first" },
  }),
  ContributionFigures: object({
    threads: { type: "integer", minimum: 0, description: "Threads started" },
    answered_replies: { type: "integer", minimum: 0, description: "Replies someone else liked or replied to" },
    endorsement: { type: "number", minimum: 0, description: "Likes and replies of others, weighted against multiple accounts (docs/contributions.md)" },
    adopted: { type: "integer", minimum: 0, description: "Proposals and amendments adopted in the window" },
    events: { type: "integer", minimum: 0, description: "Events organised (created in the window, not cancelled)" },
    score: { type: "number", description: "threads + answered_replies + endorsement + 5 × adopted + 3 × events" },
  }),
  ContributorRanking: object({
    days: { enum: [...WINDOWS] },
    contributors: { type: "array", items: object({ account: ref("GroupAuthor"), figures: ref("ContributionFigures") }), description: "Best score first" },
  }),
  MemberContributions: object({
    days: { enum: [...WINDOWS] },
    account: ref("GroupAuthor"),
    score: { type: "number", description: "Over every group, events counted once" },
    events: { type: "integer", minimum: 0 },
    groups: {
      type: "array",
      description: "Best score first; members-only groups are listed to the member themselves only",
      items: object({ group: object({ id, name: str, handle: nullable(str), local: { type: "boolean" } }), figures: ref("ContributionFigures") }),
    },
  }),
};

const daysParam = { name: "days", in: "query", schema: { type: "integer", enum: [...WINDOWS], default: WINDOWS[0] } };
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
      responses: {
        "200": json(ref("Group")),
        ...errors,
        "422": json(ref("Error"), "The handle names an account that is not a group"),
        "502": json(ref("Error"), "The group's server did not answer (down, wrong address or too slow): try again later"),
      },
    },
  },
  "/groups/proposed": {
    get: { summary: "Groups proposed here and waiting for approval (the instance's secretaries and admins)", security: read, responses: { "200": many("GroupProposal"), ...errors } },
  },
  "/groups/{id}/review": {
    parameters: [pathId("id")],
    post: {
      summary: "Approve (the group becomes active, its proposer its owner) or refuse a proposed group (secretaries and admins)",
      security: write,
      requestBody: body({ type: "object", required: ["decision"], properties: { decision: { enum: ["approve", "refuse"] } } }),
      responses: { "200": json({ anyOf: [ref("Group"), ref("GroupProposal")] }), ...errors },
    },
  },
  "/groups/{id}": {
    parameters: [pathId("id")],
    get: { summary: "One group", responses: { "200": json(ref("Group")), ...errors } },
    patch: {
      summary: "Change the group's name, description, rules, themes, membership policy or visibility (its moderators; a policy or visibility change is written to the moderation log, and the group's actor Update goes out)",
      security: write,
      requestBody: body(ref("GroupSettings")),
      responses: { "200": json(ref("Group")), ...errors },
    },
  },
  "/groups/{id}/members": {
    parameters: [pathId("id")],
    get: { summary: "The group's members, with their role (its moderators)", security: read, responses: { "200": many("GroupMember"), ...errors } },
  },
  "/groups/{id}/members/{account_id}": {
    parameters: [pathId("id"), pathId("account_id")],
    delete: { summary: "Remove a member (moderators; not the owner): the follow goes, a remote member's server gets a Reject", security: write, responses: { ...done, ...errors } },
  },
  "/groups/{id}/moderators/{account_id}": {
    parameters: [pathId("id"), pathId("account_id")],
    put: { summary: "Make a member a moderator (the owner, or a secretary or admin)", security: write, responses: { ...done, ...errors } },
    delete: { summary: "Take the moderator role back (the owner, or a secretary or admin)", security: write, responses: { ...done, ...errors } },
  },
  "/groups/{id}/requests": {
    parameters: [pathId("id")],
    get: { summary: "Pending requests to join (a group whose policy is approval), oldest first (moderators)", security: read, responses: { "200": many("GroupAuthor"), ...errors } },
  },
  "/groups/{id}/requests/{account_id}/accept": {
    parameters: [pathId("id"), pathId("account_id")],
    post: { summary: "Accept a request to join (moderators); a remote member's server gets the Accept", security: write, responses: { ...done, ...errors } },
  },
  "/groups/{id}/requests/{account_id}/reject": {
    parameters: [pathId("id"), pathId("account_id")],
    post: { summary: "Refuse a request to join (moderators); a remote member's server gets the Reject", security: write, responses: { ...done, ...errors } },
  },
  "/groups/{id}/bans": {
    parameters: [pathId("id")],
    get: { summary: "The group's bans (moderators)", security: read, responses: { "200": many("GroupBan"), ...errors } },
    post: {
      summary: "Ban an account or a whole instance (moderators): its members are removed, its requests and posts refused; answers the group's bans",
      security: write,
      requestBody: body({
        type: "object",
        description: "One of the three",
        properties: {
          account_id: { ...id, description: "An account known here" },
          handle: { type: "string", description: "@name@host, or the account's URL" },
          domain: { type: "string", description: "A whole instance (not this one)" },
        },
      }),
      responses: { "200": many("GroupBan"), ...errors },
    },
  },
  "/groups/{id}/bans/{ban_id}": {
    parameters: [pathId("id"), pathId("ban_id")],
    delete: { summary: "Lift a ban (moderators)", security: write, responses: { ...done, ...errors } },
  },
  "/groups/{id}/proposals": {
    parameters: [pathId("id")],
    get: { summary: "The group's proposals I may read (amendments are listed under each proposal), newest first", responses: { "200": many("Proposal"), ...errors } },
    post: {
      summary: "Post a proposal (a new thread with a title) or, with amends_id, an amendment (a reply in the amended proposal's thread) — members of the group; it goes to the group's instance as any group post",
      security: write,
      requestBody: body({
        type: "object",
        required: ["text"],
        properties: {
          title: { type: "string", maxLength: 200, description: "Required for a proposal, ignored for an amendment" },
          text: { type: "string", maxLength: 5000 },
          amends_id: { ...id, description: "The proposal amended (still open, same group)" },
        },
      }),
      responses: { "200": json(ref("ProposalDetail")), ...errors },
    },
  },
  "/proposals/{id}": {
    parameters: [pathId("id")],
    get: { summary: "A proposal with its tally, the proposal it amends and its amendments", responses: { "200": json(ref("ProposalDetail")), ...errors } },
  },
  "/proposals/{id}/act": {
    parameters: [pathId("id")],
    post: {
      summary: "Support or oppose an open proposal (members of the group; one stance each, which can be changed), or withdraw one's own proposal. For a group of another instance, the act goes to it and its tally comes back",
      security: write,
      requestBody: body({ type: "object", required: ["act"], properties: { act: { enum: ["support", "oppose", "withdraw"] } } }),
      responses: { "200": json(ref("ProposalDetail")), ...errors },
    },
  },
  "/proposals/{id}/decide": {
    parameters: [pathId("id")],
    post: {
      summary: "Adopt or reject an open proposal (moderators of the group, on its instance); the state and tally go to the members' servers",
      security: write,
      requestBody: body({ type: "object", required: ["state"], properties: { state: { enum: ["adopted", "rejected"] } } }),
      responses: { "200": json(ref("ProposalDetail")), ...errors },
    },
  },
  "/groups/{id}/contributors": {
    parameters: [pathId("id")],
    get: {
      summary: "Who keeps the discussion going: each contributor's figures and score over the last 30 or 365 days (a members-only group's: its members only)",
      parameters: [daysParam],
      responses: { "200": json(ref("ContributorRanking")), ...errors },
    },
  },
  "/accounts/{id}/contributions": {
    parameters: [pathId("id")],
    get: {
      summary: "One account's contributions across groups over the last 30 or 365 days (public groups, and the member's own members-only groups when they ask)",
      parameters: [daysParam],
      responses: { "200": json(ref("MemberContributions")), ...errors },
    },
  },
  "/groups/{id}/join": { parameters: [pathId("id")], post: { summary: "Join (membership may stay pending)", security: write, responses: { "200": json(ref("Group")), ...errors } } },
  "/groups/{id}/leave": { parameters: [pathId("id")], post: { summary: "Leave, or withdraw a request", security: write, responses: { "200": json(ref("Group")), ...errors } } },
  "/groups/{id}/threads": {
    parameters: [pathId("id")],
    get: {
      summary: "The group's threads I may read, most recently active first (hidden posts left out), a page at a time",
      description:
        "Paged as Mastodon's lists: when there are older threads, a `Link` header with `rel=\"next\"` gives the next page's address (the same query with `max_id`).",
      parameters: [
        { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 50, default: 50 } },
        { name: "max_id", in: "query", schema: id, description: "A thread's id (its first post's): the threads less recently active than that thread is now" },
      ],
      responses: { "200": many("GroupThread"), ...errors },
    },
    post: {
      summary: "Start a thread (members), with a poll if `poll` is given; polls are voted on with the Mastodon API, POST /api/v1/polls/{id}/votes",
      security: write,
      requestBody: body({
        type: "object",
        required: ["title", "text"],
        properties: {
          title: { type: "string", maxLength: 200 },
          text: { type: "string", maxLength: 5000 },
          poll: {
            type: "object",
            description: "As in Mastodon's POST /api/v1/statuses",
            required: ["options", "expires_in"],
            properties: {
              options: { type: "array", items: { type: "string" }, minItems: 2 },
              expires_in: { type: "integer", description: "Seconds until the poll closes" },
              multiple: { type: "boolean" },
              hide_totals: { type: "boolean" },
            },
          },
        },
      }),
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
