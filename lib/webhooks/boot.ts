import type { Db } from "@/db/client";
import type { SamConfig } from "../config";
import { loadConfig } from "../config";
import { instanceSecretKey } from "../secrets/instance-key";
import { startWebhookRunner, type WebhookRunner } from "./runner";

const globalForWebhooks = globalThis as unknown as { __samWebhooks?: WebhookRunner };

/** Starts this process's webhook runner once, beside the scheduler (and stopped with it). */
export function startWebhooks(db: Db, config: SamConfig): WebhookRunner {
  globalForWebhooks.__samWebhooks ??= startWebhookRunner(db, {
    key: instanceSecretKey(),
    // Set by `npm start` once the server listens, so read when a payload is made.
    publicUrl: () => loadConfig().publicUrl,
    pollMs: config.scheduler.tickMs,
  });
  return globalForWebhooks.__samWebhooks;
}

/** Sends what is due now (a replay) instead of at the next poll; nothing when no runner runs here. */
export function kickWebhooks(): void {
  globalForWebhooks.__samWebhooks?.kick();
}
