/**
 * The built-in agent as a child process (`bin/sam-harness.mjs`) speaking ACP over its stdin and
 * stdout, started plainly or inside the sandbox. Its environment is the allowlisted one: the
 * daemon's secrets are not inherited, and the model key and task token reach it only over ACP.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { ndJsonStream } from "@agentclientprotocol/sdk";
import type { HarnessTransport } from "./acp-client.ts";
import { safeEnv } from "./safe-env.ts";

export const HARNESS_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/sam-harness.mjs");
// Enough of the child's stderr to explain a crash (a stack trace), not so much that a chatty
// harness grows the daemon's memory.
const STDERR_TAIL_CHARS = 4096;
// How long a harness gets to exit by itself once its stdin is closed before it is killed.
const EXIT_GRACE_MS = 2000;

/** Runs the harness as a plain child of the daemon (no sandbox). */
export function plainHarnessProcess(): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [HARNESS_BIN], { env: safeEnv(), stdio: ["pipe", "pipe", "pipe"] });
}

/** Speaks ACP with a harness process; `onEnded` runs once it is gone (to release what it used). */
export function spawnHarnessProcess(
  child: ChildProcessWithoutNullStreams = plainHarnessProcess(),
  onEnded?: () => Promise<void>,
): HarnessTransport {
  let stderrTail = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
  });
  // Writes to a dead child fail with EPIPE; its exit is what reports the failure.
  child.stdin.on("error", () => {});

  let exited = false;
  const ended = new Promise<string>((resolve) => {
    child.once("error", (error) => {
      exited = true;
      resolve(`harness could not be started: ${error.message}`);
    });
    // "close" rather than "exit": it comes after stderr is drained, so the tail is complete.
    child.once("close", (code, signal) => {
      exited = true;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      const stderr = stderrTail.trim();
      resolve(`harness exited with ${how}${stderr ? `; stderr: ${stderr}` : ""}`);
    });
  }).then(async (reason) => {
    await onEnded?.();
    return reason;
  });

  return {
    stream: ndJsonStream(Writable.toWeb(child.stdin), Readable.toWeb(child.stdout)),
    ended,
    terminate: async () => {
      if (exited) return;
      child.stdin.end();
      await Promise.race([ended, delay(EXIT_GRACE_MS)]);
      if (!exited) child.kill("SIGKILL");
      await ended;
    },
  };
}
