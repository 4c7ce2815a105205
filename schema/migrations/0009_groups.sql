CREATE TABLE `group_bans` (
	`id` integer PRIMARY KEY NOT NULL,
	`group_id` integer NOT NULL,
	`actor_id` integer,
	`domain` text,
	`created_by` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `group_bans_group` ON `group_bans` (`group_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `group_bans_actor` ON `group_bans` (`group_id`,`actor_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `group_bans_domain` ON `group_bans` (`group_id`,`domain`);--> statement-breakpoint
CREATE TABLE `group_posts` (
	`group_id` integer NOT NULL,
	`post_id` integer NOT NULL,
	`title` text,
	`root_id` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`group_id`, `post_id`),
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`post_id`) REFERENCES `posts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `group_posts_post` ON `group_posts` (`post_id`);--> statement-breakpoint
CREATE INDEX `group_posts_root` ON `group_posts` (`group_id`,`root_id`);--> statement-breakpoint
CREATE TABLE `group_roles` (
	`group_id` integer NOT NULL,
	`actor_id` integer NOT NULL,
	`role` text NOT NULL,
	PRIMARY KEY(`group_id`, `actor_id`),
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `groups` (
	`id` integer PRIMARY KEY NOT NULL,
	`actor_id` integer,
	`local` integer NOT NULL,
	`slug` text,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`rules` text DEFAULT '' NOT NULL,
	`themes` text DEFAULT '[]' NOT NULL,
	`policy` text DEFAULT 'fediverse' NOT NULL,
	`visibility` text DEFAULT 'public' NOT NULL,
	`state` text DEFAULT 'active' NOT NULL,
	`created_by` integer,
	`reviewed_by` integer,
	`last_activity_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`reviewed_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `groups_actor` ON `groups` (`actor_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `groups_slug` ON `groups` (`slug`);--> statement-breakpoint
CREATE INDEX `groups_activity` ON `groups` (`state`,`last_activity_at`);