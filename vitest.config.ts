import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import SlowestFirst from "./test/slowest-first";

const alias = { "@": path.dirname(fileURLToPath(import.meta.url)) };

export default defineConfig({
  resolve: { alias },
  test: {
    // Once per run, whichever projects run: a temp dir for the run, and no process left behind.
    globalSetup: ["test/leftover-processes.ts"],
    sequence: { sequencer: SlowestFirst },
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          sequence: { groupOrder: 0 },
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts", "agent-daemon/test/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Most of these wait on git, sqld and child processes: two at a time keep both cores busy.
          maxWorkers: 2,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "e2e",
          // After the unit group: browser tests get the machine's two cores to themselves.
          sequence: { groupOrder: 1 },
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/e2e/global-setup.ts"],
          setupFiles: ["test/e2e/failure-pages.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // A page's answer under two busy workers can take seconds; vitest's 1 s default made a
          // poll give up on a form that was still being sent.
          expect: { poll: { timeout: 15_000, interval: 100 } },
          // Each file starts its own server and browser; two cores allow two at a time.
          maxWorkers: 2,
        },
      },
    ],
  },
});
