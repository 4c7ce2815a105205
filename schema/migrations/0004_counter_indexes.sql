DROP INDEX `posts_reblog`;--> statement-breakpoint
CREATE INDEX `posts_actor_published` ON `posts` (`actor_id`,`published_at`);--> statement-breakpoint
CREATE INDEX `posts_reblog` ON `posts` (`reblog_of_id`,`actor_id`);--> statement-breakpoint
CREATE INDEX `follows_accepted` ON `follows` (`following_id`) WHERE "follows"."accepted_at" is not null;