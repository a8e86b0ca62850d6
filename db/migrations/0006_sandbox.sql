ALTER TABLE `nodes` ADD `sandbox` text;--> statement-breakpoint
ALTER TABLE `nodes` ADD `sandbox_error` text;--> statement-breakpoint
ALTER TABLE `projects` ADD `network` text DEFAULT 'open' NOT NULL;