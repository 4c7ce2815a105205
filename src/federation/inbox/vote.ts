// Votes on polls, as Mastodon sends them: a Note with the chosen option's
// title as `name`, no content, in reply to the Question.
import { Note, type Question } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import type { ActorRow } from "../actors.ts";
import { receiveRemoteVote } from "../../polls/polls.ts";
import { remoteMayRead } from "../party-audience.ts";

/**
 * True when the object is shaped as a vote: it is then counted if it is a
 * valid vote on one of our polls, and never stored as a post (it would show as
 * an empty reply).
 */
export function receivedVote(services: Services, object: Note | Question, voter: ActorRow): boolean {
  if (!(object instanceof Note) || !object.name || !object.replyTargetId || object.content) return false;
  receiveRemoteVote(services, voter, object.replyTargetId.href, object.name.toString(), object.id?.href ?? null, { mayRead: (post) => remoteMayRead(services, voter, post) });
  return true;
}
