-- Account counters (actors.followers_count, following_count, statuses_count,
-- last_status_at) are kept by these triggers, whatever code path changes a
-- follow or a post. Written by hand: drizzle-kit does not generate triggers.
UPDATE `actors` SET
  `followers_count` = (SELECT count(*) FROM `follows` WHERE `follows`.`following_id` = `actors`.`id` AND `follows`.`accepted_at` IS NOT NULL),
  `following_count` = (SELECT count(*) FROM `follows` WHERE `follows`.`follower_id` = `actors`.`id` AND `follows`.`accepted_at` IS NOT NULL),
  `statuses_count` = (SELECT count(*) FROM `posts` WHERE `posts`.`actor_id` = `actors`.`id`),
  `last_status_at` = (SELECT max(`published_at`) FROM `posts` WHERE `posts`.`actor_id` = `actors`.`id`);
--> statement-breakpoint
CREATE TRIGGER `follows_counted_insert` AFTER INSERT ON `follows` WHEN NEW.`accepted_at` IS NOT NULL BEGIN
  UPDATE `actors` SET `followers_count` = `followers_count` + 1 WHERE `id` = NEW.`following_id`;
  UPDATE `actors` SET `following_count` = `following_count` + 1 WHERE `id` = NEW.`follower_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `follows_counted_delete` AFTER DELETE ON `follows` WHEN OLD.`accepted_at` IS NOT NULL BEGIN
  UPDATE `actors` SET `followers_count` = max(`followers_count` - 1, 0) WHERE `id` = OLD.`following_id`;
  UPDATE `actors` SET `following_count` = max(`following_count` - 1, 0) WHERE `id` = OLD.`follower_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `follows_counted_update` AFTER UPDATE OF `accepted_at`, `follower_id`, `following_id` ON `follows`
  WHEN (OLD.`accepted_at` IS NULL) <> (NEW.`accepted_at` IS NULL) OR OLD.`follower_id` <> NEW.`follower_id` OR OLD.`following_id` <> NEW.`following_id` BEGIN
  UPDATE `actors` SET `followers_count` = max(`followers_count` - 1, 0) WHERE OLD.`accepted_at` IS NOT NULL AND `id` = OLD.`following_id`;
  UPDATE `actors` SET `following_count` = max(`following_count` - 1, 0) WHERE OLD.`accepted_at` IS NOT NULL AND `id` = OLD.`follower_id`;
  UPDATE `actors` SET `followers_count` = `followers_count` + 1 WHERE NEW.`accepted_at` IS NOT NULL AND `id` = NEW.`following_id`;
  UPDATE `actors` SET `following_count` = `following_count` + 1 WHERE NEW.`accepted_at` IS NOT NULL AND `id` = NEW.`follower_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `posts_counted_insert` AFTER INSERT ON `posts` BEGIN
  UPDATE `actors` SET `statuses_count` = `statuses_count` + 1,
    `last_status_at` = max(coalesce(`last_status_at`, 0), NEW.`published_at`)
  WHERE `id` = NEW.`actor_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `posts_counted_delete` AFTER DELETE ON `posts` BEGIN
  UPDATE `actors` SET `statuses_count` = max(`statuses_count` - 1, 0),
    `last_status_at` = (SELECT max(`published_at`) FROM `posts` WHERE `posts`.`actor_id` = OLD.`actor_id`)
  WHERE `id` = OLD.`actor_id`;
END;
