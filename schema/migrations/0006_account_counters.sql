ALTER TABLE `actors` ADD `followers_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `actors` ADD `following_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `actors` ADD `statuses_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `actors` ADD `last_status_at` integer;