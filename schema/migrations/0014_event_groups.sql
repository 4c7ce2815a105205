CREATE TABLE `event_groups` (
	`event_id` integer NOT NULL,
	`group_id` integer NOT NULL,
	PRIMARY KEY(`event_id`, `group_id`),
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `event_groups_group` ON `event_groups` (`group_id`);