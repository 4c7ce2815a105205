// The welcome box of a new member's home page (fewer than FEW_FOLLOWS people
// followed): what to do next — complete the profile, join groups, look at the
// agenda, install a Mastodon app with this instance's address — and whom to
// follow. The posts below it are the section's (posts.ts `welcomeTimeline`).
import type { User } from "../../members/members.ts";
import { actorOf } from "../../members/members.ts";
import { groupsToJoin, peopleToFollow } from "../../social/suggestions.ts";
import { html, type Html } from "../html.ts";
import { actorName, handleOf, profileUrl } from "../format.ts";
import { csrfField, type PageContext } from "../layout.ts";
import { groupPath } from "./groups.ts";

export function welcomeBox(page: PageContext, user: User): Html {
  const { t, services } = page;
  const { db, config } = services;
  const actor = actorOf(db, user);
  const people = peopleToFollow(db, user);
  const groups = groupsToJoin(db, user);
  const host = new URL(config.origin).host;
  return html`<section class="welcome" aria-labelledby="welcome-title">
<h2 id="welcome-title">${t("welcome.title", { instance: config.name })}</h2>
<p>${t("welcome.intro")}</p>
<ol>
  ${!actor.name || !actor.summary ? html`<li><a href="/settings">${t("welcome.profile")}</a></li>` : ""}
  <li><a href="/groups">${t("welcome.groups")}</a></li>
  <li><a href="/agenda">${t("welcome.agenda")}</a></li>
  <li>${t("welcome.app")} <strong>${host}</strong>. ${t("welcome.app_push")}</li>
</ol>
${people.length ? html`<h3>${t("welcome.people")}</h3>
<ul class="suggestions">${people.map((p) => html`<li>
  <a href="${profileUrl(p)}">${actorName(p)}</a> <span class="meta">${handleOf(p)}</span>
  <form method="post" action="/@${p.username}/follow" class="inline">${csrfField(page)}<input type="hidden" name="back" value="/"><button type="submit" class="secondary" aria-label="${t("welcome.follow_label", { who: actorName(p) })}">${t("profile.follow")}</button></form>
</li>`)}</ul>` : ""}
${groups.length ? html`<h3>${t("welcome.groups_title")}</h3>
<ul class="suggestions">${groups.map((e) => html`<li>
  <a href="${groupPath(e.group)}">${e.group.name}</a> <span class="meta">${t("group.members", { n: e.actor.followersCount })}</span>
  <form method="post" action="${groupPath(e.group)}/join" class="inline">${csrfField(page)}<button type="submit" class="secondary" aria-label="${t("group.join")} : ${e.group.name}">${t("group.join")}</button></form>
</li>`)}</ul>` : ""}
<p class="help">${t("welcome.posts")}</p>
</section>`;
}
