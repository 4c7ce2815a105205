CREATE TABLE `result_totals` (
	`section_uri` text NOT NULL,
	`campaign_uri` text NOT NULL,
	`action_type` text NOT NULL,
	`section_name` text DEFAULT '' NOT NULL,
	`federation_uri` text,
	`results` integer DEFAULT 0 NOT NULL,
	`doors` integer DEFAULT 0 NOT NULL,
	`conversations` integer DEFAULT 0 NOT NULL,
	`leaflets` integer DEFAULT 0 NOT NULL,
	`calls` integer DEFAULT 0 NOT NULL,
	`posters` integer DEFAULT 0 NOT NULL,
	`contacts` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`section_uri`, `campaign_uri`, `action_type`)
);
--> statement-breakpoint
CREATE INDEX `result_totals_campaign` ON `result_totals` (`campaign_uri`);