CREATE TABLE `reminder_emails` (
	`user_id` integer NOT NULL,
	`event_id` integer NOT NULL,
	`occurrence_start` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`user_id`, `event_id`, `occurrence_start`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `media` ADD `event_id` integer REFERENCES events(id);--> statement-breakpoint
CREATE INDEX `media_event` ON `media` (`event_id`,`position`);--> statement-breakpoint
ALTER TABLE `users` ADD `email` text;--> statement-breakpoint
ALTER TABLE `users` ADD `email_reminders` integer DEFAULT false NOT NULL;