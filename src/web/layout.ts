// The page frame shared by every web page: header, navigation, main content.
import type { Services } from "../services.ts";
import { canManageMembers, isCardHolder, type User } from "../members/members.ts";
import { unreadNotificationCount } from "../notifications/notifications.ts";
import { html, raw, type Html } from "./html.ts";
import { kindKey, type Locale, type Translate } from "./i18n.ts";

export interface PageContext {
  services: Services;
  user: User | null;
  locale: Locale;
  t: Translate;
  csrf: string;
}

/**
 * A wide table in its own scrolling box, so the page itself never scrolls
 * sideways; the box takes the keyboard focus (arrow keys scroll it) and is
 * named for screen readers.
 */
export function scrollBox(label: string, table: Html): Html {
  return html`<div class="table-wrap" role="region" aria-label="${label}" tabindex="0">${table}</div>`;
}

export function csrfField(page: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${page.csrf}">`;
}

/** `wide`: pages of tables and charts (dashboards) use the screen's width, text pages keep a readable column. */
export function layout(page: PageContext, title: string, body: Html, options: { notice?: string; error?: string; wide?: boolean } = {}): string {
  const { t, user, services } = page;
  // Unread as the apps count them (the "notifications" marker); 99+ beyond.
  const unread = user ? unreadNotificationCount(services.db, user, 100) : 0;
  const kind = services.config.kind;
  // [link, primary]: primary links stay in sight on a phone, the others go under "Menu".
  const links: Array<[Html, boolean]> = user
    ? [
        [html`<a href="/">${t("nav.home")}</a>`, true],
        [html`<a href="/notifications">${unread ? t("nav.notifications_unread", { n: unread > 99 ? "99+" : unread }) : t("nav.notifications")}</a>`, true],
        [html`<a href="/agenda">${t("nav.agenda")}</a>`, true],
        [html`<a href="/section">${t(kindKey("nav.section", kind))}</a>`, false],
        [html`<a href="/groups">${t("group.nav")}</a>`, false],
        [html`<a href="/members">${t("nav.members")}</a>`, false],
        ...(isCardHolder(user.role) ? [[html`<a href="/campaigns">${t("campaign.nav")}</a>`, false] as [Html, boolean]] : []),
        ...(kind !== "section" && canManageMembers(user.role) ? [[html`<a href="/dashboard">${t("dashboard.nav")}</a>`, false] as [Html, boolean]] : []),
        ...(canManageMembers(user.role) ? [[html`<a href="/invitations">${t("nav.invite")}</a>`, false] as [Html, boolean]] : []),
        [html`<a href="/@${user.username}">${t("nav.profile")}</a>`, false],
        [html`<a href="/settings">${t("nav.settings")}</a>`, false],
        [html`<form method="post" action="/logout" class="inline">${csrfField(page)}<button type="submit">${t("nav.logout")}</button></form>`, false],
      ]
    : [
        [html`<a href="/">${t(kindKey("nav.section", kind))}</a>`, true],
        [html`<a href="/agenda">${t("nav.agenda")}</a>`, true],
        [html`<a href="/login">${t("nav.login")}</a>`, true],
      ];
  const secondary = links.filter(([, primary]) => !primary).map(([link]) => link);
  // Two renderings of one list, one of them display:none (so out of the accessibility tree):
  // every link in a row on a wide screen; on a phone, the primary ones and a menu without JavaScript.
  const nav = html`<div class="nav-wide">${links.map(([link]) => link)}</div>
  <div class="nav-narrow">${links.filter(([, primary]) => primary).map(([link]) => link)}${secondary.length ? html`<details class="nav-more"><summary>${t("nav.menu")}</summary><div>${secondary}</div></details>` : ""}</div>`;
  return html`<!doctype html>
<html lang="${page.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${services.config.name}</title>
<link rel="stylesheet" href="/static/coopol.css">
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
</head>
<body>
<a class="skip" href="#main">${t("skip")}</a>
<header>
  <p class="brand"><a href="/">${services.config.name}</a> <span>${t(kindKey("app.tagline", services.config.kind))}</span></p>
  <nav aria-label="Navigation">${nav}</nav>
</header>
<main id="main"${options.wide ? raw(' class="wide"') : ""}>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ""}
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ""}
${body}
</main>
<footer><p>Coopol · <a href="/about">AGPL-3.0-or-later</a></p></footer>
</body>
</html>`.value;
}
