CREATE TABLE `hidden_posts` (
	`post_id` integer NOT NULL,
	`group_id` integer NOT NULL,
	`hidden_by` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`post_id`, `group_id`),
	FOREIGN KEY (`post_id`) REFERENCES `posts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`hidden_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `moderation_log` (
	`id` integer PRIMARY KEY NOT NULL,
	`group_id` integer,
	`moderator_id` integer,
	`action` text NOT NULL,
	`target_uri` text NOT NULL,
	`reason` text DEFAULT '' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`moderator_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `moderation_log_group` ON `moderation_log` (`group_id`,`created_at`);--> statement-breakpoint
CREATE TABLE `post_flags` (
	`id` integer PRIMARY KEY NOT NULL,
	`uri` text NOT NULL,
	`post_id` integer,
	`target_uri` text NOT NULL,
	`group_id` integer,
	`reporter_actor_id` integer,
	`comment` text DEFAULT '' NOT NULL,
	`state` text DEFAULT 'open' NOT NULL,
	`resolved_at` integer,
	`resolved_by` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`post_id`) REFERENCES `posts`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`reporter_actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`resolved_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `post_flags_uri` ON `post_flags` (`uri`);--> statement-breakpoint
CREATE INDEX `post_flags_state` ON `post_flags` (`state`,`created_at`);--> statement-breakpoint
CREATE INDEX `post_flags_group` ON `post_flags` (`group_id`,`state`);--> statement-breakpoint
CREATE TABLE `proposal_votes` (
	`proposal_id` integer NOT NULL,
	`actor_id` integer NOT NULL,
	`stance` text NOT NULL,
	`uri` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`proposal_id`, `actor_id`),
	FOREIGN KEY (`proposal_id`) REFERENCES `proposals`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE TABLE `proposals` (
	`id` integer PRIMARY KEY NOT NULL,
	`post_id` integer NOT NULL,
	`group_id` integer NOT NULL,
	`amends_id` integer,
	`state` text DEFAULT 'open' NOT NULL,
	`decided_at` integer,
	`decided_by` integer,
	`remote_support` integer,
	`remote_oppose` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`post_id`) REFERENCES `posts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`amends_id`) REFERENCES `proposals`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`decided_by`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `proposals_post` ON `proposals` (`post_id`);--> statement-breakpoint
CREATE INDEX `proposals_group` ON `proposals` (`group_id`,`state`);--> statement-breakpoint
CREATE INDEX `proposals_amends` ON `proposals` (`amends_id`);