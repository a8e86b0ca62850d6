import type { Db } from "@/db/client";
import { onNotificationsChanged } from "../events/bus";
import { attemptDelivery, claimDelivery, dueDeliveries, enqueueDeliveries, pruneDeliveries } from "./deliveries";

/** Attempts this process has under way at once; a slow receiver holds one of them up to 10 s. */
const MAX_IN_FLIGHT = 8;
/** How often this process deletes the log's expired deliveries (at its first pass, then hourly). */
const PRUNE_EVERY_MS = 60 * 60_000;

export interface WebhookRunner {
  /** Asks for a pass as soon as possible; passes never overlap, requests during one coalesce. */
  kick(): void;
  stop(): void;
}

export interface WebhookRunnerOptions {
  key: Buffer;
  /** SAM's public URL, for the links in payloads; read at each attempt. */
  publicUrl: () => string;
  pollMs: number;
}

/**
 * Turns notification events into webhook deliveries and sends the due ones. A notification in this
 * process wakes it at once; the poll finds everything else (events from other instances, retries
 * coming due, what was pending when the app last stopped), since every fact is in the database.
 */
export function startWebhookRunner(db: Db, opts: WebhookRunnerOptions): WebhookRunner {
  let running = false;
  let again = false;
  let stopped = false;
  let prunedAt = 0;
  const inFlight = new Set<string>();

  async function sendDue(): Promise<void> {
    const due = await dueDeliveries(db, MAX_IN_FLIGHT - inFlight.size, [...inFlight]);
    for (const candidate of due) {
      const claimed = await claimDelivery(db, candidate);
      if (!claimed) continue;
      inFlight.add(claimed.id);
      void attemptDelivery(db, opts.key, opts.publicUrl(), claimed)
        .catch((err: unknown) => console.error(`sam: a webhook attempt was not recorded: ${(err as Error).message}`))
        .finally(() => {
          inFlight.delete(claimed.id);
          void pass();
        });
    }
  }

  async function pass(): Promise<void> {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        if (Date.now() - prunedAt >= PRUNE_EVERY_MS) {
          prunedAt = Date.now();
          await pruneDeliveries(db);
        }
        await enqueueDeliveries(db);
        await sendDue();
      } while (again && !stopped);
    } catch (err) {
      console.error(`sam: webhook pass failed: ${(err as Error).message}`);
    } finally {
      running = false;
    }
  }

  const interval = setInterval(() => void pass(), opts.pollMs);
  interval.unref();
  const unsubscribe = onNotificationsChanged(() => void pass());
  void pass();
  return {
    kick: () => void pass(),
    stop: () => {
      stopped = true;
      clearInterval(interval);
      unsubscribe();
    },
  };
}
