// Flag: another server reports one of our posts, a post in one of our groups,
// or one of our members. Mastodon sends it from its instance actor with
// `object` = [account, posts…] and the comment in `content`; Lemmy puts the
// comment in `summary`. What we do not moderate is dropped (moderation.ts).
import type { InboxContext } from "@fedify/fedify";
import type { Flag } from "@fedify/vocab";
import type { Services } from "../../services.ts";
import { receiveFlag } from "../../groups/moderation.ts";
import { senderOf } from "./common.ts";

export async function onFlag(ctx: InboxContext<Services>, flag: Flag): Promise<void> {
  if (!flag.id) return;
  const reporter = await senderOf(ctx, flag);
  if (!reporter || reporter.local) return;
  const comment = (flag.content ?? flag.summary ?? "").toString().replace(/<[^>]*>/g, " ");
  const stored = receiveFlag(ctx.data, { uri: flag.id.href, reporter, objectUris: flag.objectIds.map((u) => u.href), comment });
  ctx.data.log.info({ flag: flag.id.href, from: reporter.uri, stored: stored.length }, "flag received");
}
