CREATE TABLE `push_subscriptions` (
	`id` integer PRIMARY KEY NOT NULL,
	`token_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`endpoint` text NOT NULL,
	`p256dh` text NOT NULL,
	`auth` text NOT NULL,
	`access_token` text NOT NULL,
	`standard` integer DEFAULT false NOT NULL,
	`alerts` text DEFAULT '{}' NOT NULL,
	`policy` text DEFAULT 'all' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`token_id`) REFERENCES `oauth_tokens`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `push_subscriptions_token_id_unique` ON `push_subscriptions` (`token_id`);--> statement-breakpoint
ALTER TABLE `notifications` ADD `report_id` integer REFERENCES reports(id);--> statement-breakpoint
ALTER TABLE `notifications` ADD `campaign_id` integer REFERENCES campaigns(id);--> statement-breakpoint
ALTER TABLE `notifications` ADD `action_id` integer REFERENCES field_actions(id);--> statement-breakpoint
ALTER TABLE `users` ADD `email_digest` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `digest_sent_at` integer;