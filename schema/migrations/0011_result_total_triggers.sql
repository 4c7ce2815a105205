-- Running sums of live results (result_totals), kept by triggers on
-- action_results whatever code path stores, replaces or withdraws a result.
-- Written by hand: drizzle-kit does not generate triggers.
INSERT INTO `result_totals` (`section_uri`, `campaign_uri`, `action_type`, `section_name`, `federation_uri`, `results`, `doors`, `conversations`, `leaflets`, `calls`, `posters`, `contacts`)
SELECT `section_uri`, `campaign_uri`, `action_type`, max(`section_name`), max(`federation_uri`), count(*), sum(`doors`), sum(`conversations`), sum(`leaflets`), sum(`calls`), sum(`posters`), sum(`contacts`)
FROM `action_results` WHERE `deleted_at` IS NULL GROUP BY `section_uri`, `campaign_uri`, `action_type`;
--> statement-breakpoint
CREATE TRIGGER `action_results_totals_insert` AFTER INSERT ON `action_results` WHEN NEW.`deleted_at` IS NULL BEGIN
  INSERT INTO `result_totals` (`section_uri`, `campaign_uri`, `action_type`, `section_name`, `federation_uri`, `results`, `doors`, `conversations`, `leaflets`, `calls`, `posters`, `contacts`)
  VALUES (NEW.`section_uri`, NEW.`campaign_uri`, NEW.`action_type`, NEW.`section_name`, NEW.`federation_uri`, 1, NEW.`doors`, NEW.`conversations`, NEW.`leaflets`, NEW.`calls`, NEW.`posters`, NEW.`contacts`)
  ON CONFLICT (`section_uri`, `campaign_uri`, `action_type`) DO UPDATE SET `section_name` = excluded.`section_name`, `federation_uri` = excluded.`federation_uri`, `results` = `results` + 1, `doors` = `doors` + excluded.`doors`, `conversations` = `conversations` + excluded.`conversations`, `leaflets` = `leaflets` + excluded.`leaflets`, `calls` = `calls` + excluded.`calls`, `posters` = `posters` + excluded.`posters`, `contacts` = `contacts` + excluded.`contacts`;
END;
--> statement-breakpoint
CREATE TRIGGER `action_results_totals_delete` AFTER DELETE ON `action_results` WHEN OLD.`deleted_at` IS NULL BEGIN
  UPDATE `result_totals` SET `results` = `results` - 1, `doors` = `doors` - OLD.`doors`, `conversations` = `conversations` - OLD.`conversations`, `leaflets` = `leaflets` - OLD.`leaflets`, `calls` = `calls` - OLD.`calls`, `posters` = `posters` - OLD.`posters`, `contacts` = `contacts` - OLD.`contacts`
  WHERE `section_uri` = OLD.`section_uri` AND `campaign_uri` = OLD.`campaign_uri` AND `action_type` = OLD.`action_type`;
END;
--> statement-breakpoint
CREATE TRIGGER `action_results_totals_update` AFTER UPDATE ON `action_results` BEGIN
  UPDATE `result_totals` SET `results` = `results` - 1, `doors` = `doors` - OLD.`doors`, `conversations` = `conversations` - OLD.`conversations`, `leaflets` = `leaflets` - OLD.`leaflets`, `calls` = `calls` - OLD.`calls`, `posters` = `posters` - OLD.`posters`, `contacts` = `contacts` - OLD.`contacts`
  WHERE OLD.`deleted_at` IS NULL AND `section_uri` = OLD.`section_uri` AND `campaign_uri` = OLD.`campaign_uri` AND `action_type` = OLD.`action_type`;
  INSERT INTO `result_totals` (`section_uri`, `campaign_uri`, `action_type`, `section_name`, `federation_uri`, `results`, `doors`, `conversations`, `leaflets`, `calls`, `posters`, `contacts`)
  SELECT NEW.`section_uri`, NEW.`campaign_uri`, NEW.`action_type`, NEW.`section_name`, NEW.`federation_uri`, 1, NEW.`doors`, NEW.`conversations`, NEW.`leaflets`, NEW.`calls`, NEW.`posters`, NEW.`contacts`
  WHERE NEW.`deleted_at` IS NULL
  ON CONFLICT (`section_uri`, `campaign_uri`, `action_type`) DO UPDATE SET `section_name` = excluded.`section_name`, `federation_uri` = excluded.`federation_uri`, `results` = `results` + 1, `doors` = `doors` + excluded.`doors`, `conversations` = `conversations` + excluded.`conversations`, `leaflets` = `leaflets` + excluded.`leaflets`, `calls` = `calls` + excluded.`calls`, `posters` = `posters` + excluded.`posters`, `contacts` = `contacts` + excluded.`contacts`;
END;
