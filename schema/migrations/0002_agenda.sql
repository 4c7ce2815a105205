CREATE TABLE `calendar_tokens` (
	`user_id` integer PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `calendar_tokens_token_hash_unique` ON `calendar_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY NOT NULL,
	`uri` text NOT NULL,
	`url` text,
	`actor_id` integer NOT NULL,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`source` text,
	`start_at` integer NOT NULL,
	`end_at` integer,
	`timezone` text DEFAULT 'Europe/Paris' NOT NULL,
	`place_name` text,
	`street` text,
	`postal_code` text,
	`locality` text,
	`latitude` real,
	`longitude` real,
	`online_url` text,
	`category` text DEFAULT 'other' NOT NULL,
	`capacity` integer,
	`audience` text DEFAULT 'public' NOT NULL,
	`join_mode` text DEFAULT 'open' NOT NULL,
	`status` text DEFAULT 'confirmed' NOT NULL,
	`rrule` text,
	`exdates` text DEFAULT '[]' NOT NULL,
	`agenda` text DEFAULT '[]' NOT NULL,
	`minutes` text,
	`sequence` integer DEFAULT 0 NOT NULL,
	`remote_participants` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_uri` ON `events` (`uri`);--> statement-breakpoint
CREATE INDEX `events_start` ON `events` (`start_at`);--> statement-breakpoint
CREATE INDEX `events_actor` ON `events` (`actor_id`,`start_at`);--> statement-breakpoint
CREATE TABLE `rsvps` (
	`id` integer PRIMARY KEY NOT NULL,
	`event_id` integer NOT NULL,
	`actor_id` integer NOT NULL,
	`status` text NOT NULL,
	`uri` text,
	`attended` integer DEFAULT false NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`event_id`) REFERENCES `events`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `rsvps_pair` ON `rsvps` (`event_id`,`actor_id`);--> statement-breakpoint
CREATE INDEX `rsvps_event` ON `rsvps` (`event_id`,`status`,`created_at`);