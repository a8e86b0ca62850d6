import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir } from "../temp-dir.ts";
import { openHarness, results, script, stdoutOf, TASK_TOKEN, type TestHarness, trace } from "./helpers.ts";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe("built-in harness as a subprocess over stdio", () => {
  let temp: ReturnType<typeof makeTempDir>;
  let h: TestHarness;
  const modelApiKey = "sk-subprocess-key-must-not-leak";
  const daemonSecret = "node-token-of-the-daemon-must-not-leak-42";

  beforeEach(async () => {
    temp = makeTempDir("sam-harness-proc-");
    // The harness process must not inherit the daemon's environment.
    process.env.SAM_NODE_TOKEN = daemonSecret;
    try {
      h = await openHarness({ kind: "builtin-subprocess", cwd: temp.dir, modelApiKey });
    } finally {
      delete process.env.SAM_NODE_TOKEN;
    }
  });
  afterEach(async () => {
    await h.harness.close();
    temp.cleanup();
  });

  it("plays a scripted turn the same way as in-process", async () => {
    const stop = await h.harness.prompt(
      script([
        { say: "Over stdio." },
        { tool: "write_file", args: { path: "out.txt", content: "from the subprocess\n" } },
        { tool: "shell", args: { command: "cat out.txt" } },
        { say: "Done." },
      ]),
    );

    expect(stop).toBe("end_turn");
    expect(fs.readFileSync(path.join(temp.dir, "out.txt"), "utf8")).toBe("from the subprocess\n");
    expect(trace(h.events)).toEqual([
      "text: Over stdio.",
      "call write_file",
      "completed write_file",
      "call shell",
      "completed shell",
      "text: Done.",
    ]);
    expect(results(h.events)[1]?.output).toMatchObject({ stdout: "from the subprocess\n" });
    expect(h.crashes).toEqual([]);
  });

  it("gives the harness process no secret in its environment", async () => {
    // The shell's parent is the harness process; its initial environment is readable by the agent.
    await h.harness.prompt(script([{ tool: "shell", args: { command: "tr '\\0' '\\n' < /proc/$PPID/environ" } }]));

    const env = stdoutOf(results(h.events)[0]);
    expect(env).toContain("PATH=");
    expect(env).not.toContain(daemonSecret);
    expect(env).not.toContain(modelApiKey);
    expect(env).not.toContain(TASK_TOKEN);
  });

  it("reports a killed harness process as a crash, once, and settles the pending prompt", async () => {
    // The shell's parent is the harness process.
    const stop = await h.harness.prompt(script([{ tool: "shell", args: { command: "kill -9 $PPID" } }]));

    expect(stop).toBe("error");
    expect(h.crashes).toHaveLength(1);
    expect(h.crashes[0]).toMatch(/^harness exited with signal SIGKILL/);
    await expect(h.harness.prompt("anyone there?")).rejects.toThrow("the harness is closed");
  });

  it("ends the harness process on close without reporting a crash", async () => {
    await h.harness.prompt(script([{ tool: "shell", args: { command: "echo $PPID" } }]));
    const pid = Number(stdoutOf(results(h.events)[0]).trim());
    expect(isAlive(pid)).toBe(true);

    await h.harness.close();

    expect(await waitFor(() => !isAlive(pid), 5000)).toBe(true);
    expect(h.crashes).toEqual([]);
  });
});
