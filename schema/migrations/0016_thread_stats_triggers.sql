-- A group thread's figures on its first post's group_posts row (replies_count,
-- last_activity_at), kept by triggers whatever code path adds a post to a
-- group's discussion, moves it into another thread (a reply that arrived before
-- the post it answers), takes it out, hides it or shows it again
-- (hidden_posts), or deletes it (the cascade from posts). Each trigger recounts
-- the one thread it touches, from the index group_posts_root: hidden replies
-- are not counted and do not make a thread active, so the figures are those a
-- member who is not a moderator sees. Replies keep 0 and null: a non-null
-- last_activity_at marks a thread (the partial index group_posts_threads).
-- Written by hand: drizzle-kit does not generate triggers. Existing threads are
-- counted first.
UPDATE `group_posts` SET
    `replies_count` = (SELECT count(*) FROM `group_posts` AS `r` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id` AND `r`.`post_id` <> `group_posts`.`post_id`
      AND NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)),
    `last_activity_at` = (SELECT max(`p`.`published_at`) FROM `group_posts` AS `r` JOIN `posts` AS `p` ON `p`.`id` = `r`.`post_id` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id`
      AND (`r`.`post_id` = `group_posts`.`post_id` OR NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)))
WHERE `post_id` = `root_id`;
--> statement-breakpoint
CREATE TRIGGER `group_posts_thread_insert` AFTER INSERT ON `group_posts` BEGIN
  UPDATE `group_posts` SET
    `replies_count` = (SELECT count(*) FROM `group_posts` AS `r` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id` AND `r`.`post_id` <> `group_posts`.`post_id`
      AND NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)),
    `last_activity_at` = (SELECT max(`p`.`published_at`) FROM `group_posts` AS `r` JOIN `posts` AS `p` ON `p`.`id` = `r`.`post_id` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id`
      AND (`r`.`post_id` = `group_posts`.`post_id` OR NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)))
  WHERE `group_id` = NEW.`group_id` AND `post_id` = NEW.`root_id` AND `root_id` = NEW.`root_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `group_posts_thread_delete` AFTER DELETE ON `group_posts` WHEN OLD.`post_id` <> OLD.`root_id` BEGIN
  UPDATE `group_posts` SET
    `replies_count` = (SELECT count(*) FROM `group_posts` AS `r` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id` AND `r`.`post_id` <> `group_posts`.`post_id`
      AND NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)),
    `last_activity_at` = (SELECT max(`p`.`published_at`) FROM `group_posts` AS `r` JOIN `posts` AS `p` ON `p`.`id` = `r`.`post_id` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id`
      AND (`r`.`post_id` = `group_posts`.`post_id` OR NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)))
  WHERE `group_id` = OLD.`group_id` AND `post_id` = OLD.`root_id` AND `root_id` = OLD.`root_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `group_posts_thread_moved` AFTER UPDATE OF `root_id` ON `group_posts` BEGIN
  UPDATE `group_posts` SET `replies_count` = 0, `last_activity_at` = NULL WHERE `group_id` = NEW.`group_id` AND `post_id` = NEW.`post_id` AND `root_id` <> `post_id`;
  UPDATE `group_posts` SET
    `replies_count` = (SELECT count(*) FROM `group_posts` AS `r` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id` AND `r`.`post_id` <> `group_posts`.`post_id`
      AND NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)),
    `last_activity_at` = (SELECT max(`p`.`published_at`) FROM `group_posts` AS `r` JOIN `posts` AS `p` ON `p`.`id` = `r`.`post_id` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id`
      AND (`r`.`post_id` = `group_posts`.`post_id` OR NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)))
  WHERE `group_id` = NEW.`group_id` AND `post_id` = NEW.`root_id` AND `root_id` = NEW.`root_id`;
  UPDATE `group_posts` SET
    `replies_count` = (SELECT count(*) FROM `group_posts` AS `r` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id` AND `r`.`post_id` <> `group_posts`.`post_id`
      AND NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)),
    `last_activity_at` = (SELECT max(`p`.`published_at`) FROM `group_posts` AS `r` JOIN `posts` AS `p` ON `p`.`id` = `r`.`post_id` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id`
      AND (`r`.`post_id` = `group_posts`.`post_id` OR NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)))
  WHERE `group_id` = OLD.`group_id` AND `post_id` = OLD.`root_id` AND `root_id` = OLD.`root_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `hidden_posts_thread_insert` AFTER INSERT ON `hidden_posts` BEGIN
  UPDATE `group_posts` SET
    `replies_count` = (SELECT count(*) FROM `group_posts` AS `r` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id` AND `r`.`post_id` <> `group_posts`.`post_id`
      AND NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)),
    `last_activity_at` = (SELECT max(`p`.`published_at`) FROM `group_posts` AS `r` JOIN `posts` AS `p` ON `p`.`id` = `r`.`post_id` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id`
      AND (`r`.`post_id` = `group_posts`.`post_id` OR NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)))
  WHERE `group_id` = NEW.`group_id` AND `post_id` = `root_id`
    AND `post_id` = (SELECT `root_id` FROM `group_posts` AS `x` WHERE `x`.`group_id` = NEW.`group_id` AND `x`.`post_id` = NEW.`post_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `hidden_posts_thread_delete` AFTER DELETE ON `hidden_posts` BEGIN
  UPDATE `group_posts` SET
    `replies_count` = (SELECT count(*) FROM `group_posts` AS `r` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id` AND `r`.`post_id` <> `group_posts`.`post_id`
      AND NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)),
    `last_activity_at` = (SELECT max(`p`.`published_at`) FROM `group_posts` AS `r` JOIN `posts` AS `p` ON `p`.`id` = `r`.`post_id` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id`
      AND (`r`.`post_id` = `group_posts`.`post_id` OR NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)))
  WHERE `group_id` = OLD.`group_id` AND `post_id` = `root_id`
    AND `post_id` = (SELECT `root_id` FROM `group_posts` AS `x` WHERE `x`.`group_id` = OLD.`group_id` AND `x`.`post_id` = OLD.`post_id`);
END;
--> statement-breakpoint
CREATE TRIGGER `posts_thread_published` AFTER UPDATE OF `published_at` ON `posts` BEGIN
  UPDATE `group_posts` SET
    `last_activity_at` = (SELECT max(`p`.`published_at`) FROM `group_posts` AS `r` JOIN `posts` AS `p` ON `p`.`id` = `r`.`post_id` WHERE `r`.`group_id` = `group_posts`.`group_id` AND `r`.`root_id` = `group_posts`.`post_id`
      AND (`r`.`post_id` = `group_posts`.`post_id` OR NOT EXISTS (SELECT 1 FROM `hidden_posts` AS `h` WHERE `h`.`group_id` = `r`.`group_id` AND `h`.`post_id` = `r`.`post_id`)))
  WHERE `post_id` = `root_id` AND (`group_id`, `post_id`) IN (SELECT `group_id`, `root_id` FROM `group_posts` AS `x` WHERE `x`.`post_id` = NEW.`id`);
END;
