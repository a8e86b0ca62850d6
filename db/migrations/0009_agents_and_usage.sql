CREATE TABLE `model_prices` (
	`model` text PRIMARY KEY NOT NULL,
	`input_per_million` real NOT NULL,
	`output_per_million` real NOT NULL,
	`cached_input_per_million` real,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `task_usage` (
	`session_id` text NOT NULL,
	`seq` integer NOT NULL,
	`task_id` text NOT NULL,
	`model` text NOT NULL,
	`input_tokens` integer NOT NULL,
	`output_tokens` integer NOT NULL,
	`cached_tokens` integer DEFAULT 0 NOT NULL,
	`reported_cost_usd` real,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	PRIMARY KEY(`session_id`, `seq`),
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `task_usage_task_idx` ON `task_usage` (`task_id`);--> statement-breakpoint
ALTER TABLE `projects` ADD `model_base_url` text;--> statement-breakpoint
ALTER TABLE `projects` ADD `agent_command` text;--> statement-breakpoint
ALTER TABLE `projects` ADD `permission_policy` text DEFAULT 'allow' NOT NULL;--> statement-breakpoint
UPDATE `projects` SET `harness` = 'gemini' WHERE `harness` = 'gemini-cli';--> statement-breakpoint
UPDATE `tasks` SET `harness` = 'gemini' WHERE `harness` = 'gemini-cli';
