ALTER TABLE `users` ADD `chat_mode` text DEFAULT 'conversation' NOT NULL;--> statement-breakpoint
CREATE INDEX `tasks_project_depth_created_idx` ON `tasks` (`project_id`,`depth`,`created_at`);--> statement-breakpoint
CREATE INDEX `tasks_project_updated_idx` ON `tasks` (`project_id`,`updated_at`);