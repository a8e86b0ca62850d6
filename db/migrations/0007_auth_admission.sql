CREATE TABLE `project_invitations` (
	`id` text PRIMARY KEY NOT NULL,
	`project_id` text NOT NULL,
	`invitee_kind` text NOT NULL,
	`invitee` text NOT NULL,
	`role` text NOT NULL,
	`invited_by_user_id` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`expires_at` integer NOT NULL,
	`accepted_at` integer,
	`accepted_by_user_id` text,
	FOREIGN KEY (`project_id`) REFERENCES `projects`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`invited_by_user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`accepted_by_user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE UNIQUE INDEX `project_invitations_invitee_idx` ON `project_invitations` (`project_id`,`invitee_kind`,`invitee`);--> statement-breakpoint
CREATE INDEX `project_invitations_lookup_idx` ON `project_invitations` (`invitee_kind`,`invitee`);--> statement-breakpoint
CREATE INDEX `project_invitations_accepted_by_idx` ON `project_invitations` (`accepted_by_user_id`,`accepted_at`);--> statement-breakpoint
ALTER TABLE `users` ADD `github_login` text;--> statement-breakpoint
CREATE INDEX `users_github_login_idx` ON `users` (`github_login`);--> statement-breakpoint
-- Personal tokens now always expire: one minted without an expiry gets the default 90 days from its creation.
UPDATE `tokens` SET `expires_at` = `created_at` + 7776000000 WHERE `kind` = 'personal' AND `expires_at` IS NULL;
