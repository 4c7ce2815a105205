CREATE TABLE `membership_checks` (
	`actor_id` integer PRIMARY KEY NOT NULL,
	`issuer` text NOT NULL,
	`status` text NOT NULL,
	`seq` integer NOT NULL,
	`since` integer,
	`expires_at` integer NOT NULL,
	`checked_at` integer NOT NULL,
	FOREIGN KEY (`actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `users` ADD `membership_seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `status_since` integer;