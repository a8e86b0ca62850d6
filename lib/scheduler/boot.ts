import { getDb } from "@/db/client";
import { loadConfig } from "../config";
import { openMissingPullRequests } from "../pulls/open";
import { startWebhooks } from "../webhooks/boot";
import { type SchedulerRunner, startSchedulerRunner } from "./runner";

const globalForScheduler = globalThis as unknown as { __samScheduler?: SchedulerRunner };

/** Starts this process's scheduler once (SAM_SCHEDULER=off leaves it to the cron route). */
export function startSchedulerFromEnv(): void {
  const config = loadConfig();
  if (!config.scheduler.enabled || globalForScheduler.__samScheduler) return;
  // A task that completed just before a restart may not have its pull request yet.
  void openMissingPullRequests(getDb()).catch((err: unknown) =>
    console.error(`sam: opening missing pull requests failed: ${(err as Error).message}`),
  );
  const scheduler = startSchedulerRunner(getDb(), config, () => loadConfig().internalUrl ?? config.publicUrl);
  // Webhook deliveries run beside the scheduler and stop with it.
  const webhooks = startWebhooks(getDb(), config);
  globalForScheduler.__samScheduler = {
    kick: scheduler.kick,
    stop: () => {
      scheduler.stop();
      webhooks.stop();
    },
  };
}
