ALTER TABLE `group_posts` ADD `replies_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `group_posts` ADD `last_activity_at` integer;--> statement-breakpoint
CREATE INDEX `group_posts_threads` ON `group_posts` (`group_id`,`last_activity_at`,`post_id`) WHERE "group_posts"."last_activity_at" is not null;--> statement-breakpoint
CREATE INDEX `posts_reply_uri` ON `posts` (`in_reply_to_uri`) WHERE "posts"."in_reply_to_id" is null and "posts"."in_reply_to_uri" is not null;