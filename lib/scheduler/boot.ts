import { getDb } from "@/db/client";
import { loadConfig } from "../config";
import { type SchedulerRunner, startSchedulerRunner } from "./runner";

const globalForScheduler = globalThis as unknown as { __samScheduler?: SchedulerRunner };

/** Starts this process's scheduler once (SAM_SCHEDULER=off leaves it to the cron route). */
export function startSchedulerFromEnv(): void {
  const config = loadConfig();
  if (!config.scheduler.enabled || globalForScheduler.__samScheduler) return;
  globalForScheduler.__samScheduler = startSchedulerRunner(
    getDb(),
    config,
    () => loadConfig().internalUrl ?? config.publicUrl,
  );
}
