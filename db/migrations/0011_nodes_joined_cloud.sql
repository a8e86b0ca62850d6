CREATE TABLE `cloud_settings` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text,
	`provider` text NOT NULL,
	`token_secret_name` text,
	`token_ciphertext` text,
	`server_type` text NOT NULL,
	`location` text NOT NULL,
	`image` text NOT NULL,
	`labels` text DEFAULT '[]' NOT NULL,
	`capacity` integer DEFAULT 4 NOT NULL,
	`max_vms` integer DEFAULT 3 NOT NULL,
	`warm_minutes` integer DEFAULT 30 NOT NULL,
	`warm_pool` integer DEFAULT 0 NOT NULL,
	`enabled` integer DEFAULT true NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`backoff_until` integer,
	`last_error` text,
	`last_error_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cloud_settings_project_idx` ON `cloud_settings` (`project_id`);--> statement-breakpoint
CREATE TABLE `node_commands` (
	`id` text PRIMARY KEY NOT NULL,
	`node_id` text NOT NULL,
	`method` text NOT NULL,
	`route` text NOT NULL,
	`body` text,
	`status` text DEFAULT 'pending' NOT NULL,
	`result_status` integer,
	`result_body` text,
	`expires_at` integer NOT NULL,
	`sent_at` integer,
	`done_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `node_commands_node_status_idx` ON `node_commands` (`node_id`,`status`);--> statement-breakpoint
CREATE TABLE `node_join_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`labels` text DEFAULT '[]' NOT NULL,
	`created_by` text,
	`cloud_settings_id` text,
	`expires_at` integer NOT NULL,
	`used_at` integer,
	`node_id` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`created_by`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`node_id`) REFERENCES `nodes`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `node_join_tokens_token_hash_unique` ON `node_join_tokens` (`token_hash`);--> statement-breakpoint
ALTER TABLE `nodes` ADD `labels` text DEFAULT '[]' NOT NULL;--> statement-breakpoint
ALTER TABLE `nodes` ADD `version` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `web_url` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `channel_connected_at` integer;--> statement-breakpoint
ALTER TABLE `nodes` ADD `channel_open` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `nodes` ADD `price_per_hour` real;--> statement-breakpoint
ALTER TABLE `nodes` ADD `currency` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `cloud_settings_id` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `status_reason` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `destroyed_at` integer;--> statement-breakpoint
ALTER TABLE `projects` ADD `node_labels` text DEFAULT '[]' NOT NULL;