CREATE TABLE `federation_domains` (
	`domain` text PRIMARY KEY NOT NULL,
	`policy` text NOT NULL,
	`reason` text DEFAULT '' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `party_directory` (
	`id` integer PRIMARY KEY NOT NULL,
	`national_uri` text NOT NULL,
	`version` integer NOT NULL,
	`document` text NOT NULL,
	`received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `party_node_edits` (
	`actor_uri` text PRIMARY KEY NOT NULL,
	`action` text NOT NULL,
	`kind` text DEFAULT 'section' NOT NULL,
	`name` text,
	`territory` text,
	`parent_uri` text,
	`reason` text DEFAULT '' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `party_nodes` (
	`actor_uri` text PRIMARY KEY NOT NULL,
	`domain` text NOT NULL,
	`kind` text NOT NULL,
	`name` text,
	`territory` text,
	`parent_uri` text
);
--> statement-breakpoint
CREATE INDEX `party_nodes_domain` ON `party_nodes` (`domain`);--> statement-breakpoint
CREATE TABLE `party_reported_sections` (
	`federation_uri` text NOT NULL,
	`section_uri` text NOT NULL,
	PRIMARY KEY(`federation_uri`, `section_uri`)
);
