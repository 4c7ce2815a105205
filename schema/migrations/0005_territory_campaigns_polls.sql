CREATE TABLE `action_results` (
	`id` integer PRIMARY KEY NOT NULL,
	`uri` text NOT NULL,
	`action_id` integer,
	`campaign_uri` text NOT NULL,
	`action_type` text NOT NULL,
	`action_date` integer NOT NULL,
	`section_uri` text NOT NULL,
	`section_name` text DEFAULT '' NOT NULL,
	`federation_uri` text,
	`doors` integer DEFAULT 0 NOT NULL,
	`conversations` integer DEFAULT 0 NOT NULL,
	`leaflets` integer DEFAULT 0 NOT NULL,
	`calls` integer DEFAULT 0 NOT NULL,
	`posters` integer DEFAULT 0 NOT NULL,
	`contacts` integer DEFAULT 0 NOT NULL,
	`comment` text DEFAULT '' NOT NULL,
	`recorded_by` integer,
	`version` integer NOT NULL,
	`deleted_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`action_id`) REFERENCES `field_actions`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`recorded_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `action_results_uri` ON `action_results` (`uri`);--> statement-breakpoint
CREATE INDEX `action_results_campaign` ON `action_results` (`campaign_uri`,`action_type`);--> statement-breakpoint
CREATE INDEX `action_results_section` ON `action_results` (`section_uri`);--> statement-breakpoint
CREATE INDEX `action_results_action` ON `action_results` (`action_id`);--> statement-breakpoint
CREATE TABLE `campaigns` (
	`id` integer PRIMARY KEY NOT NULL,
	`uri` text NOT NULL,
	`owner_actor_id` integer NOT NULL,
	`level` text NOT NULL,
	`title` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`starts_at` integer NOT NULL,
	`ends_at` integer,
	`goals` text DEFAULT '{}' NOT NULL,
	`materials` text DEFAULT '[]' NOT NULL,
	`joined_at` integer,
	`created_by` integer,
	`cancelled_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`owner_actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `campaigns_uri` ON `campaigns` (`uri`);--> statement-breakpoint
CREATE INDEX `campaigns_starts` ON `campaigns` (`starts_at`);--> statement-breakpoint
CREATE TABLE `directives` (
	`id` integer PRIMARY KEY NOT NULL,
	`uri` text NOT NULL,
	`outgoing` integer NOT NULL,
	`kind` text NOT NULL,
	`from_uri` text NOT NULL,
	`from_name` text DEFAULT '' NOT NULL,
	`title` text NOT NULL,
	`body` text DEFAULT '' NOT NULL,
	`proposal` text,
	`post_id` integer,
	`action_id` integer,
	`created_by` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`post_id`) REFERENCES `posts`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`action_id`) REFERENCES `field_actions`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `directives_uri` ON `directives` (`uri`);--> statement-breakpoint
CREATE INDEX `directives_created` ON `directives` (`created_at`);--> statement-breakpoint
CREATE TABLE `field_actions` (
	`id` integer PRIMARY KEY NOT NULL,
	`uri` text NOT NULL,
	`campaign_id` integer NOT NULL,
	`type` text NOT NULL,
	`title` text NOT NULL,
	`start_at` integer NOT NULL,
	`end_at` integer,
	`timezone` text DEFAULT 'Europe/Paris' NOT NULL,
	`meeting_point` text,
	`area` text,
	`coordinator_id` integer,
	`notes` text DEFAULT '' NOT NULL,
	`directive_id` integer,
	`created_by` integer,
	`cancelled_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`coordinator_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `field_actions_uri` ON `field_actions` (`uri`);--> statement-breakpoint
CREATE INDEX `field_actions_campaign` ON `field_actions` (`campaign_id`,`start_at`);--> statement-breakpoint
CREATE INDEX `field_actions_start` ON `field_actions` (`start_at`);--> statement-breakpoint
CREATE TABLE `field_contacts` (
	`id` integer PRIMARY KEY NOT NULL,
	`action_id` integer NOT NULL,
	`name` text NOT NULL,
	`email` text,
	`phone` text,
	`note` text DEFAULT '' NOT NULL,
	`consent` text NOT NULL,
	`consent_at` integer NOT NULL,
	`recorded_by` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`action_id`) REFERENCES `field_actions`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`recorded_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `field_contacts_action` ON `field_contacts` (`action_id`);--> statement-breakpoint
CREATE TABLE `node_stats` (
	`node_uri` text PRIMARY KEY NOT NULL,
	`name` text DEFAULT '' NOT NULL,
	`kind` text NOT NULL,
	`territory` text,
	`federation_uri` text,
	`members` integer DEFAULT 0 NOT NULL,
	`active_members` integer DEFAULT 0 NOT NULL,
	`events_held` integer DEFAULT 0 NOT NULL,
	`events_upcoming` integer DEFAULT 0 NOT NULL,
	`version` integer NOT NULL,
	`received_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `poll_votes` (
	`id` integer PRIMARY KEY NOT NULL,
	`poll_id` integer NOT NULL,
	`actor_id` integer NOT NULL,
	`choice` integer NOT NULL,
	`uri` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`poll_id`) REFERENCES `polls`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `poll_votes_choice` ON `poll_votes` (`poll_id`,`actor_id`,`choice`);--> statement-breakpoint
CREATE INDEX `poll_votes_actor` ON `poll_votes` (`actor_id`);--> statement-breakpoint
CREATE TABLE `polls` (
	`id` integer PRIMARY KEY NOT NULL,
	`post_id` integer NOT NULL,
	`options` text NOT NULL,
	`multiple` integer DEFAULT false NOT NULL,
	`hide_totals` integer DEFAULT false NOT NULL,
	`expires_at` integer,
	`remote_counts` text,
	`remote_voters` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`post_id`) REFERENCES `posts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `polls_post` ON `polls` (`post_id`);--> statement-breakpoint
CREATE TABLE `reports` (
	`id` integer PRIMARY KEY NOT NULL,
	`uri` text NOT NULL,
	`outgoing` integer NOT NULL,
	`kind` text NOT NULL,
	`title` text NOT NULL,
	`body` text DEFAULT '' NOT NULL,
	`figures` text DEFAULT '{}' NOT NULL,
	`also_national` integer DEFAULT false NOT NULL,
	`section_uri` text NOT NULL,
	`section_name` text DEFAULT '' NOT NULL,
	`federation_uri` text,
	`author_id` integer,
	`author_name` text DEFAULT '' NOT NULL,
	`acknowledged_at` integer,
	`read_at` integer,
	`read_by` text,
	`opened_at` integer,
	`opened_by` integer,
	`version` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`author_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`opened_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `reports_uri` ON `reports` (`uri`);--> statement-breakpoint
CREATE INDEX `reports_section` ON `reports` (`section_uri`,`created_at`);--> statement-breakpoint
CREATE INDEX `reports_created` ON `reports` (`created_at`);--> statement-breakpoint
CREATE TABLE `shift_signups` (
	`shift_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`shift_id`, `user_id`),
	FOREIGN KEY (`shift_id`) REFERENCES `shifts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `shift_signups_user` ON `shift_signups` (`user_id`);--> statement-breakpoint
CREATE TABLE `shifts` (
	`id` integer PRIMARY KEY NOT NULL,
	`action_id` integer NOT NULL,
	`start_at` integer NOT NULL,
	`end_at` integer NOT NULL,
	`capacity` integer,
	`label` text,
	FOREIGN KEY (`action_id`) REFERENCES `field_actions`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `shifts_action` ON `shifts` (`action_id`,`start_at`);--> statement-breakpoint
CREATE TABLE `territory_links` (
	`id` integer PRIMARY KEY NOT NULL,
	`role` text NOT NULL,
	`handle` text NOT NULL,
	`actor_id` integer,
	`state` text DEFAULT 'declared' NOT NULL,
	`follow_uri` text,
	`kind` text,
	`territory` text,
	`problem` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`actor_id`) REFERENCES `actors`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `territory_links_handle` ON `territory_links` (`role`,`handle`);--> statement-breakpoint
CREATE INDEX `territory_links_actor` ON `territory_links` (`actor_id`);