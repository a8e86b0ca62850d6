/**
 * The built-in agent's shell tool: `bash -c <command>` in the workspace, with a timeout, an output
 * cap and an allowlisted environment (no token or key of the daemon's reaches it).
 *
 * A non-zero exit is a result, not an error: the model sees the exit code and output and decides
 * what to do next. `isError` marks it as failed for the event log, the way MCP marks failed tool
 * results.
 */
import { spawn } from "node:child_process";
import { type ToolSet, tool } from "ai";
import { z } from "zod";
import { safeEnv } from "../../safe-env.ts";

const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_TIMEOUT_MS = 600_000;
const OUTPUT_CAP_BYTES = 64 * 1024;
// A command that exits while a background child still holds its stdout would otherwise keep the
// tool waiting for that child; after the shell exits its output is collected for this long only.
const DRAIN_AFTER_EXIT_MS = 500;

/** Keeps the last `cap` bytes of a stream and counts what it dropped. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.cap) {
      const first = this.chunks[0]!;
      const excess = this.size - this.cap;
      if (first.length <= excess) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.size -= excess;
        this.dropped += excess;
      }
    }
  }

  text(): string {
    const tail = Buffer.concat(this.chunks).toString("utf8");
    return this.dropped > 0 ? `[${this.dropped} earlier bytes truncated]\n${tail}` : tail;
  }
}

interface ShellResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** From the spawn to the end of the output, as the agent waited for it. */
  durationMs: number;
  isError: boolean;
}

function runShell(
  command: string,
  options: { cwd: string; timeoutMs: number; signal?: AbortSignal },
): Promise<ShellResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout or cancel kills everything the command started.
    const child = spawn("bash", ["-c", command], {
      cwd: options.cwd,
      env: safeEnv(),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout = new TailBuffer(OUTPUT_CAP_BYTES);
    const stderr = new TailBuffer(OUTPUT_CAP_BYTES);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;

    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = () => {
      killGroup();
      reject(options.signal?.reason ?? new Error("aborted"));
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    };

    child.once("error", (error) => {
      cleanup();
      reject(error);
    });
    child.once("exit", () => {
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, DRAIN_AFTER_EXIT_MS).unref();
    });
    child.once("close", (exitCode, signal) => {
      cleanup();
      resolve({
        exitCode,
        signal,
        timedOut,
        stdout: stdout.text(),
        stderr: stderr.text(),
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        isError: exitCode !== 0,
      });
    });
  });
}

export function shellTool(root: string): ToolSet {
  return {
    shell: tool({
      description: `Run a command with bash -c in the workspace root. Returns exitCode, stdout and stderr (each cut to its last ${OUTPUT_CAP_BYTES / 1024} KB). No stdin. Timeout ${DEFAULT_TIMEOUT_MS / 1000} s unless timeoutMs says otherwise (at most ${MAX_TIMEOUT_MS / 1000} s); on timeout the command and its children are killed.`,
      inputSchema: z.object({
        command: z.string().min(1),
        timeoutMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
      }),
      execute: ({ command, timeoutMs = DEFAULT_TIMEOUT_MS }, { abortSignal }) =>
        runShell(command, { cwd: root, timeoutMs, signal: abortSignal }),
    }),
  };
}
