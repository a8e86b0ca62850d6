import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startHarness } from "../../src/harness/start.ts";
import { makeTempDir } from "../temp-dir.ts";
import { NO_WEB_APP, openHarness, results, script, stdoutOf, TASK_TOKEN, type TestHarness, trace } from "./helpers.ts";

describe("built-in harness (in-process) with the scripted model", () => {
  let temp: ReturnType<typeof makeTempDir>;
  let workspace: string;
  let h: TestHarness;

  beforeEach(async () => {
    temp = makeTempDir("sam-harness-");
    workspace = path.join(temp.dir, "workspace");
    fs.mkdirSync(workspace);
    h = await openHarness({ kind: "builtin", cwd: workspace });
  });
  afterEach(async () => {
    await h.harness.close();
    temp.cleanup();
  });

  it("plays a script through the real tools: the file is written, the shell runs, events come in order", async () => {
    const stop = await h.harness.prompt(
      script([
        { say: "Writing the file." },
        { tool: "write_file", args: { path: "notes/hello.txt", content: "hello from the agent\n" } },
        { tool: "shell", args: { command: "wc -c < notes/hello.txt && git --version > /dev/null && echo ok" } },
        { tool: "read_file", args: { path: "notes/hello.txt" } },
        { say: "All done." },
      ]),
    );

    expect(stop).toBe("end_turn");
    expect(fs.readFileSync(path.join(workspace, "notes/hello.txt"), "utf8")).toBe("hello from the agent\n");
    expect(trace(h.events)).toEqual([
      "text: Writing the file.",
      "call write_file",
      "completed write_file",
      "call shell",
      "completed shell",
      "call read_file",
      "completed read_file",
      "text: All done.",
    ]);
    const [write, shell, read] = results(h.events);
    expect(write?.output).toMatchObject({ path: "notes/hello.txt", bytes: 21 });
    expect(shell?.output).toMatchObject({ exitCode: 0, stdout: "21\nok\n" });
    expect(read?.output).toMatchObject({ content: "hello from the agent\n" });
    const call = h.events.find((event) => event.type === "tool_call" && event.name === "shell");
    expect(call).toMatchObject({ input: { command: expect.stringContaining("wc -c") } });
  });

  it("reports a failing shell command as a failed tool result, and the agent goes on", async () => {
    const stop = await h.harness.prompt(
      script([
        { tool: "shell", args: { command: "echo partial; echo broken >&2; exit 3" } },
        { tool: "shell", args: { command: "echo next" } },
        { say: "Carried on." },
      ]),
    );

    expect(stop).toBe("end_turn");
    const [failed, next] = results(h.events);
    expect(failed).toMatchObject({
      status: "failed",
      output: { exitCode: 3, stdout: "partial\n", stderr: "broken\n", isError: true },
    });
    expect(next).toMatchObject({ status: "completed", output: { stdout: "next\n" } });
    expect(trace(h.events).at(-1)).toBe("text: Carried on.");
  });

  it("refuses paths outside the workspace (relative, absolute, through a symlink) as failed results, and goes on", async () => {
    const outside = path.join(temp.dir, "outside.txt");
    fs.writeFileSync(outside, "secret\n");
    fs.symlinkSync(temp.dir, path.join(workspace, "escape"));
    fs.symlinkSync(path.join(temp.dir, "planted.txt"), path.join(workspace, "dangling"));

    const stop = await h.harness.prompt(
      script([
        { tool: "read_file", args: { path: "../outside.txt" } },
        { tool: "read_file", args: { path: outside } },
        { tool: "read_file", args: { path: "escape/outside.txt" } },
        { tool: "write_file", args: { path: "escape/planted.txt", content: "x" } },
        { tool: "write_file", args: { path: "dangling", content: "x" } },
        { tool: "list_files", args: { path: ".." } },
        { tool: "read_file", args: { path: path.join(workspace, "inside.txt") } },
        { say: "Still here." },
      ]),
    );

    expect(stop).toBe("end_turn");
    const outcomes = results(h.events).map((result) => [result.status, result.output]);
    expect(outcomes.slice(0, 6)).toEqual([
      ["failed", { error: "path ../outside.txt is outside the workspace" }],
      ["failed", { error: `path ${outside} is outside the workspace` }],
      ["failed", { error: "path escape/outside.txt is outside the workspace" }],
      ["failed", { error: "path escape/planted.txt is outside the workspace" }],
      ["failed", { error: "path dangling is outside the workspace" }],
      ["failed", { error: "path .. is outside the workspace" }],
    ]);
    // An absolute path inside the workspace is fine; the file just does not exist.
    expect(outcomes[6]?.[0]).toBe("failed");
    expect(JSON.stringify(outcomes[6]?.[1])).toContain("ENOENT");
    expect(fs.existsSync(path.join(temp.dir, "planted.txt"))).toBe(false);
    expect(trace(h.events).at(-1)).toBe("text: Still here.");
  });

  it("edits a file only where the old text occurs exactly once", async () => {
    fs.writeFileSync(path.join(workspace, "app.txt"), "alpha\nbeta\nbeta\n");
    await h.harness.prompt(
      script([
        { tool: "edit_file", args: { path: "app.txt", old: "alpha", new: "ALPHA" } },
        { tool: "edit_file", args: { path: "app.txt", old: "beta", new: "BETA" } },
        { tool: "edit_file", args: { path: "app.txt", old: "gamma", new: "GAMMA" } },
      ]),
    );

    const [once, twice, never] = results(h.events);
    expect(once?.status).toBe("completed");
    expect(twice).toMatchObject({ status: "failed", output: { error: expect.stringContaining("occurs 2 times") } });
    expect(never).toMatchObject({ status: "failed", output: { error: expect.stringContaining("not found") } });
    expect(fs.readFileSync(path.join(workspace, "app.txt"), "utf8")).toBe("ALPHA\nbeta\nbeta\n");
  });

  it("lists and searches the workspace without descending into .git", async () => {
    fs.mkdirSync(path.join(workspace, "src"));
    fs.writeFileSync(path.join(workspace, "src/main.ts"), "const answer = 42;\nexport { answer };\n");
    fs.mkdirSync(path.join(workspace, ".git"));
    fs.writeFileSync(path.join(workspace, ".git/config"), "answer = 42\n");

    await h.harness.prompt(
      script([
        { tool: "list_files", args: { recursive: true } },
        { tool: "search_files", args: { pattern: "answer" } },
        { tool: "search_files", args: { pattern: "answer\\s*=\\s*\\d+", regex: true } },
      ]),
    );

    const [list, plain, regex] = results(h.events);
    expect(list?.output).toEqual({ path: ".", entries: [".git/", "src/", "src/main.ts"] });
    expect(plain?.output).toEqual({
      matches: [
        { path: "src/main.ts", line: 1, text: "const answer = 42;" },
        { path: "src/main.ts", line: 2, text: "export { answer };" },
      ],
    });
    expect(regex?.output).toEqual({ matches: [{ path: "src/main.ts", line: 1, text: "const answer = 42;" }] });
  });

  it("kills a shell command at its timeout, does not wait for its background children, and keeps only the tail of a large output", async () => {
    const started = Date.now();
    await h.harness.prompt(
      script([
        { tool: "shell", args: { command: "sleep 20", timeoutMs: 300 } },
        { tool: "shell", args: { command: "sleep 3 & echo started" } },
        { tool: "shell", args: { command: "seq 1 100000" } },
      ]),
    );

    expect(Date.now() - started).toBeLessThan(5000);
    const [slow, background, loud] = results(h.events);
    expect(slow).toMatchObject({ status: "failed", output: { timedOut: true, signal: "SIGKILL" } });
    expect(background).toMatchObject({ status: "completed", output: { exitCode: 0, stdout: "started\n" } });
    const stdout = stdoutOf(loud);
    expect(stdout).toMatch(/^\[\d+ earlier bytes truncated\]\n/);
    expect(stdout.endsWith("99999\n100000\n")).toBe(true);
    expect(Buffer.byteLength(stdout)).toBeLessThan(65 * 1024);
  });

  it("runs the tool calls of a parallel step concurrently", async () => {
    // Each call records when it started and ended; concurrent calls overlap.
    const timed = (name: string) => ({
      tool: "shell",
      args: { command: `date +%s%N > ${name}.start; sleep 1; date +%s%N > ${name}.end` },
    });
    const stop = await h.harness.prompt(script([{ parallel: [timed("a"), timed("b")] }, { say: "Both done." }]));

    expect(stop).toBe("end_turn");
    expect(results(h.events).map((result) => result.status)).toEqual(["completed", "completed"]);
    const read = (file: string) => BigInt(fs.readFileSync(path.join(workspace, file), "utf8").trim());
    expect(read("a.start")).toBeLessThan(read("b.end"));
    expect(read("b.start")).toBeLessThan(read("a.end"));
    expect(trace(h.events).slice(0, 2)).toEqual(["call shell", "call shell"]);
  });

  it("ends a turn still calling tools after 50 model steps with max_turn_requests", async () => {
    const steps = Array.from({ length: 51 }, () => ({ tool: "list_files", args: {} }));
    expect(await h.harness.prompt(script(steps))).toBe("max_turn_requests");
    expect(results(h.events)).toHaveLength(50);
  });

  it("reports a malformed script as an agent error naming the problem, and stays usable", async () => {
    expect(await h.harness.prompt('```sam-script\n[{"say": "hi"},\n```')).toBe("error");
    expect(await h.harness.prompt(script([{ say: "fine" }, { sleep: 120_000 }]))).toBe("error");
    expect(await h.harness.prompt(script([{ say: "fine" }, { tool: "shell", args: {} }, { jump: 1 }]))).toBe("error");
    expect(trace(h.events)).toEqual([
      expect.stringMatching(/^error: sam-script: invalid JSON: /),
      expect.stringMatching(/^error: sam-script: step 2: sleep: .*60000/),
      expect.stringMatching(
        /^error: sam-script: step 3: expected an object with one of "say", "sleep", "tool", "parallel"/,
      ),
    ]);

    h.events.length = 0;
    expect(await h.harness.prompt(script([{ say: "Working again." }]))).toBe("end_turn");
    expect(trace(h.events)).toEqual(["text: Working again."]);
  });

  it("answers a message without a script with the offline demo message", async () => {
    expect(await h.harness.prompt("Add a dark mode to the settings page.")).toBe("end_turn");
    expect(h.events).toHaveLength(1);
    const [answer] = h.events;
    expect(answer?.type).toBe("agent_text");
    const text = answer?.type === "agent_text" ? answer.text : "";
    expect(text).toContain("offline demo model");
    expect(text).toMatch(/anthropic:.*openai:.*openai-compatible:/);
    expect(text).toContain("project secret");
  });

  it("keeps the conversation across turns: a later script runs, with tool call ids new to the session", async () => {
    expect(await h.harness.prompt(script([{ tool: "shell", args: { command: "echo first > turn.txt" } }]))).toBe(
      "end_turn",
    );
    expect(await h.harness.prompt(script([{ tool: "shell", args: { command: "echo second >> turn.txt" } }]))).toBe(
      "end_turn",
    );

    expect(fs.readFileSync(path.join(workspace, "turn.txt"), "utf8")).toBe("first\nsecond\n");
    // The scripted model numbers its calls by the user messages it sees: distinct ids in the second
    // turn mean the second model call was given the first turn too.
    const ids = results(h.events).map((result) => result.toolCallId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it("cancels a busy turn promptly: the prompt resolves cancelled and the session stays usable", async () => {
    const turn = h.harness.prompt(script([{ say: "Thinking..." }, { sleep: 30_000 }, { say: "never said" }]));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cancelledAt = Date.now();
    await h.harness.cancel();
    expect(await turn).toBe("cancelled");
    expect(Date.now() - cancelledAt).toBeLessThan(2000);
    expect(trace(h.events)).toEqual(["text: Thinking..."]);

    h.events.length = 0;
    const shellTurn = h.harness.prompt(script([{ tool: "shell", args: { command: "sleep 30" } }]));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await h.harness.cancel();
    expect(await shellTurn).toBe("cancelled");
    expect(trace(h.events)).toEqual(["call shell", "failed shell"]);

    expect(await h.harness.prompt(script([{ say: "Back." }]))).toBe("end_turn");
  });
});

describe("the shell's environment", () => {
  it("holds neither the task token, the model API key nor the daemon's own secrets", async () => {
    const temp = makeTempDir("sam-harness-env-");
    const daemonSecret = "node-token-that-must-not-leak-0123456789";
    process.env.SAM_NODE_TOKEN = daemonSecret;
    try {
      const h = await openHarness({ kind: "builtin", cwd: temp.dir, modelApiKey: "sk-model-key-must-not-leak" });
      await h.harness.prompt(script([{ tool: "shell", args: { command: "env" } }]));
      await h.harness.close();

      const [result] = results(h.events);
      const env = stdoutOf(result);
      expect(env).toContain("PATH=");
      expect(env).not.toContain(TASK_TOKEN);
      expect(env).not.toContain("sk-model-key-must-not-leak");
      expect(env).not.toContain(daemonSecret);
    } finally {
      delete process.env.SAM_NODE_TOKEN;
      temp.cleanup();
    }
  });
});

describe("starting a harness", () => {
  const options = {
    kind: "builtin" as const,
    mode: "task" as const,
    mcpUrl: NO_WEB_APP,
    taskToken: TASK_TOKEN,
    onEvent: () => {},
    onCrash: () => {},
  };

  it("fails with a clear reason for an unknown provider, a missing API key or a missing workspace", async () => {
    const temp = makeTempDir("sam-harness-start-");
    try {
      await expect(startHarness({ ...options, cwd: temp.dir, model: "mystery:model-1" })).rejects.toThrow(
        'unknown model provider "mystery"',
      );
      await expect(startHarness({ ...options, cwd: temp.dir, model: "anthropic:claude-sonnet-4-5" })).rejects.toThrow(
        "needs an API key",
      );
      await expect(startHarness({ ...options, cwd: temp.dir, model: "openai-compatible:llama3.1:8b" })).rejects.toThrow(
        "needs a base URL",
      );
      await expect(startHarness({ ...options, cwd: path.join(temp.dir, "gone"), model: "scripted" })).rejects.toThrow(
        "no such file or directory",
      );
    } finally {
      temp.cleanup();
    }
  });

  it("reports an unreachable MCP server as an agent error and keeps the local tools working", async () => {
    const temp = makeTempDir("sam-harness-start-");
    try {
      const h = await openHarness({ kind: "builtin", cwd: temp.dir });
      expect(trace(h.startEvents)).toEqual([expect.stringMatching(/^error: MCP server "sam" at .* cannot be used/)]);
      expect(await h.harness.prompt(script([{ tool: "shell", args: { command: "true" } }]))).toBe("end_turn");
      expect(results(h.events).map((result) => result.status)).toEqual(["completed"]);
      await h.harness.close();
    } finally {
      temp.cleanup();
    }
  });
});
