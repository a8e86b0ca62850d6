ALTER TABLE `nodes` ADD `token_ciphertext` text;--> statement-breakpoint
ALTER TABLE `tasks` ADD `progress` text;