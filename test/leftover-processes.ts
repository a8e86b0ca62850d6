/**
 * Global setup for every test run: the run gets a temp dir of its own (TMPDIR, which the test
 * workers and everything they start inherit, so every data dir, repository and workspace of the run
 * lives under it), and at the end the run fails if a daemon, harness, sandbox or app server started
 * by its tests is still running — the tests stop every process they start.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isRunning, listProcesses, mentions, type ProcessInfo } from "../agent-daemon/test/processes";

/** The processes the tests start and must stop, by their command line. */
const KINDS = [
  { name: "sam-daemon", pattern: /sam-daemon\.mjs/ },
  { name: "sam-harness", pattern: /sam-harness\.mjs/ },
  { name: "bwrap", pattern: /(^|\/)bwrap(\s|$)/ },
  { name: "app server", pattern: /scripts\/start\.ts/ },
];
// Processes being stopped when the run ends (a SIGTERM in flight) get this long to go.
const GRACE_MS = 5_000;

function leftovers(runDir: string): (ProcessInfo & { kind: string })[] {
  const found: (ProcessInfo & { kind: string })[] = [];
  for (const p of listProcesses()) {
    const kind = KINDS.find((k) => k.pattern.test(p.cmdline));
    if (kind && p.pid !== process.pid && mentions(p.pid, runDir)) found.push({ ...p, kind: kind.name });
  }
  return found;
}

export function setup(): () => Promise<void> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "sam-test-run-"));
  process.env.TMPDIR = runDir;
  return async () => {
    const deadline = Date.now() + GRACE_MS;
    let left = leftovers(runDir);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = left.filter((p) => isRunning(p.pid));
    }
    for (const p of left) {
      try {
        // Reported, then stopped: a failed run must not leave them running either.
        process.kill(p.pid, "SIGKILL");
      } catch {
        // Gone in the meantime.
      }
    }
    fs.rmSync(runDir, { recursive: true, force: true });
    if (left.length > 0) {
      process.exitCode = 1;
      throw new Error(
        `The tests left ${left.length} process${left.length === 1 ? "" : "es"} running:\n${left
          .map((p) => `  ${p.kind} (pid ${p.pid}): ${p.cmdline.slice(0, 200)}`)
          .join("\n")}`,
      );
    }
  };
}
