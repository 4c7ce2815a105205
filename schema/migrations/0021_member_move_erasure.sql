CREATE TABLE `member_transfers` (
	`id` integer PRIMARY KEY NOT NULL,
	`direction` text NOT NULL,
	`actor_id` integer NOT NULL,
	`other_actor_id` integer NOT NULL,
	`status` text NOT NULL,
	`decided_by` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`decided_at` integer,
	FOREIGN KEY (`actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`other_actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`decided_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `member_transfers_actor` ON `member_transfers` (`actor_id`);--> statement-breakpoint
CREATE INDEX `member_transfers_status` ON `member_transfers` (`direction`,`status`);--> statement-breakpoint
ALTER TABLE `actors` ADD `moved_to_id` integer REFERENCES actors(id);--> statement-breakpoint
ALTER TABLE `actors` ADD `also_known_as` text;--> statement-breakpoint
ALTER TABLE `actors` ADD `deleted_at` integer;