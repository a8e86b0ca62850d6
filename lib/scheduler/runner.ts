import type { Db } from "@/db/client";
import type { SamConfig } from "../config";
import { onTaskChanged } from "../events/bus";
import { tick } from "./tick";

export interface SchedulerRunner {
  /** Asks for a pass as soon as possible; passes never overlap, requests during one coalesce. */
  kick(): void;
  stop(): void;
}

/**
 * Runs `tick` on an interval and whenever a task changes in this process, so a new task starts
 * without waiting for the interval. `webUrl` is read at each pass: it is known only once the server
 * listens.
 */
export function startSchedulerRunner(db: Db, config: SamConfig, webUrl: () => string | undefined): SchedulerRunner {
  let running = false;
  let again = false;
  let stopped = false;

  async function pass(): Promise<void> {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    const url = webUrl();
    if (!url) return;
    running = true;
    try {
      do {
        again = false;
        await tick(db, config, url);
      } while (again && !stopped);
    } catch (err) {
      console.error(`sam: scheduler pass failed: ${(err as Error).message}`);
    } finally {
      running = false;
    }
  }

  const interval = setInterval(() => void pass(), config.scheduler.tickMs);
  interval.unref();
  const unsubscribe = onTaskChanged(() => void pass());
  return {
    kick: () => void pass(),
    stop: () => {
      stopped = true;
      clearInterval(interval);
      unsubscribe();
    },
  };
}
