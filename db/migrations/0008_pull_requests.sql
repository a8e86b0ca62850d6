CREATE TABLE `pull_request_comments` (
	`id` text PRIMARY KEY NOT NULL,
	`pull_request_id` text NOT NULL,
	`author_user_id` text,
	`author_name` text NOT NULL,
	`body` text NOT NULL,
	`path` text,
	`line` integer,
	`github_id` text,
	`sent_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`pull_request_id`) REFERENCES `pull_requests`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`author_user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `pull_request_comments_pr_idx` ON `pull_request_comments` (`pull_request_id`,`created_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `pull_request_comments_github_idx` ON `pull_request_comments` (`pull_request_id`,`github_id`);--> statement-breakpoint
CREATE TABLE `pull_requests` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`number` integer NOT NULL,
	`task_id` text NOT NULL,
	`title` text NOT NULL,
	`body` text DEFAULT '' NOT NULL,
	`state` text DEFAULT 'open' NOT NULL,
	`head_branch` text NOT NULL,
	`base_branch` text NOT NULL,
	`head_commit` text,
	`comparison_commit` text,
	`additions` integer DEFAULT 0 NOT NULL,
	`deletions` integer DEFAULT 0 NOT NULL,
	`changed_files` integer DEFAULT 0 NOT NULL,
	`merge_commit` text,
	`merge_strategy` text,
	`merged_at` integer,
	`merged_by_user_id` text,
	`closed_at` integer,
	`closed_by_user_id` text,
	`url` text,
	`github_number` integer,
	`github_synced_at` integer,
	`github_error` text,
	`lock_token` text,
	`locked_until` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`task_id`) REFERENCES `tasks`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `pull_requests_project_number_idx` ON `pull_requests` (`project_id`,`number`);--> statement-breakpoint
CREATE UNIQUE INDEX `pull_requests_task_idx` ON `pull_requests` (`task_id`);--> statement-breakpoint
CREATE INDEX `pull_requests_project_state_idx` ON `pull_requests` (`project_id`,`state`,`number`);--> statement-breakpoint
ALTER TABLE `projects` ADD `delete_branches` integer DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE `projects` ADD `github_url` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `pull_request_id` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `merges_base` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `tasks_pull_request_idx` ON `tasks` (`pull_request_id`,`created_at`);