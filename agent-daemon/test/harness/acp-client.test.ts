import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { CANCEL_GRACE_MS, connectHarness } from "../../src/harness/acp-client.ts";
import { spawnHarnessProcess } from "../../src/harness/subprocess.ts";
import type { HarnessEvent, HarnessOptions, HarnessSession } from "../../src/harness/types.ts";
import { makeTempDir } from "../temp-dir.ts";
import { NO_WEB_APP, TASK_TOKEN, trace } from "./helpers.ts";

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/scripted-acp-agent.mjs");
const MODEL_KEY = "sk-external-agent-must-not-see-this";

interface Opened {
  harness: HarnessSession;
  events: HarnessEvent[];
  crashes: string[];
}

const open: Opened[] = [];
const temps: Array<ReturnType<typeof makeTempDir>> = [];

/** The scripted ACP agent as a real child process, connected through the daemon's ACP client. */
async function openAgent(extra: Partial<HarnessOptions> = {}, args: string[] = []): Promise<Opened> {
  const temp = makeTempDir("sam-acp-client-");
  temps.push(temp);
  const events: HarnessEvent[] = [];
  const crashes: string[] = [];
  const child = spawn(process.execPath, [FIXTURE, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const harness = await connectHarness(spawnHarnessProcess(child), {
    kind: "acp",
    cwd: temp.dir,
    mode: "task",
    model: "openai-compatible:some-model",
    modelApiKey: MODEL_KEY,
    mcpUrl: NO_WEB_APP,
    taskToken: TASK_TOKEN,
    onEvent: (event) => events.push(event),
    onCrash: (reason) => crashes.push(reason),
    ...extra,
  });
  const opened = { harness, events, crashes };
  open.push(opened);
  return opened;
}

const steps = (...list: unknown[]) => JSON.stringify(list);
const update = (u: Record<string, unknown>) => ({ update: u });
const text = (t: string) => ({ type: "content", content: { type: "text", text: t } });

function ofType<T extends HarnessEvent["type"]>(events: HarnessEvent[], type: T) {
  return events.filter((e): e is Extract<HarnessEvent, { type: T }> => e.type === type);
}

afterEach(async () => {
  for (const o of open.splice(0)) await o.harness.close();
  for (const t of temps.splice(0)) t.cleanup();
});

describe("the daemon's ACP client with a third-party agent", () => {
  it("reports tools by their real names, with input sent later, output from content and rawOutput, plans and usage", async () => {
    const { harness, events, crashes } = await openAgent();

    const stop = await harness.prompt(
      steps(
        // Claude Code: the name in _meta, the input in a later update, the output in content.
        update({
          sessionUpdate: "tool_call",
          toolCallId: "bash-1",
          title: "Terminal",
          kind: "execute",
          status: "pending",
          _meta: { claudeCode: { toolName: "Bash" } },
        }),
        update({ sessionUpdate: "tool_call_update", toolCallId: "bash-1", title: "ls -la" }),
        update({ sessionUpdate: "tool_call_update", toolCallId: "bash-1", rawInput: { command: "ls -la" } }),
        update({
          sessionUpdate: "tool_call_update",
          toolCallId: "bash-1",
          status: "completed",
          content: [text("a.ts\nb.ts")],
        }),
        // SAM's own MCP tool through the agent's MCP client.
        update({
          sessionUpdate: "tool_call",
          toolCallId: "mcp-1",
          title: "mcp__sam__dispatch_task",
          status: "pending",
          _meta: { claudeCode: { toolName: "mcp__sam__dispatch_task" } },
        }),
        update({
          sessionUpdate: "tool_call_update",
          toolCallId: "mcp-1",
          rawInput: { title: "Child", description: "Do it" },
        }),
        update({
          sessionUpdate: "tool_call_update",
          toolCallId: "mcp-1",
          status: "completed",
          content: [text('{"taskId":"t-42"}')],
        }),
        // Qwen Code: a call prepared while the model streamed, then dropped with its stream (never run).
        update({
          sessionUpdate: "tool_call",
          toolCallId: "qwen-0",
          title: "dispatch_task",
          status: "pending",
          rawInput: {},
          _meta: { toolName: "mcp__sam__dispatch_task", phase: "preparing" },
        }),
        update({
          sessionUpdate: "tool_call_update",
          toolCallId: "qwen-0",
          status: "failed",
          content: [],
          _meta: { toolName: "mcp__sam__dispatch_task", phase: "preparing", preparationDiscarded: true },
        }),
        // Qwen Code: a "preparing" frame with an empty input, the input in an update, rawOutput a string.
        update({
          sessionUpdate: "tool_call",
          toolCallId: "qwen-1",
          title: "run_shell_command",
          status: "pending",
          rawInput: {},
          _meta: { toolName: "run_shell_command", phase: "preparing" },
        }),
        update({
          sessionUpdate: "tool_call_update",
          toolCallId: "qwen-1",
          status: "pending",
          title: "echo hi",
          rawInput: { command: "echo hi" },
          _meta: { toolName: "run_shell_command" },
        }),
        update({ sessionUpdate: "tool_call_update", toolCallId: "qwen-1", status: "in_progress" }),
        update({ sessionUpdate: "tool_call_update", toolCallId: "qwen-1", status: "completed", rawOutput: "hi\n" }),
        // An edit whose result is a diff.
        update({
          sessionUpdate: "tool_call",
          toolCallId: "edit-1",
          title: "Edit a.ts",
          kind: "edit",
          status: "pending",
          rawInput: { file_path: "a.ts" },
          _meta: { claudeCode: { toolName: "Edit" } },
        }),
        update({
          sessionUpdate: "tool_call_update",
          toolCallId: "edit-1",
          status: "failed",
          content: [{ type: "diff", path: "a.ts", oldText: "one\ntwo\nthree\n", newText: "one\n2\nthree\n" }],
        }),
        update({
          sessionUpdate: "plan",
          entries: [
            { content: "Read the code", status: "completed", priority: "high" },
            { content: "Write the fix", status: "in_progress", priority: "medium" },
          ],
        }),
        update({ sessionUpdate: "usage_update", used: 1200, size: 200000, cost: { amount: 0.25, currency: "USD" } }),
        update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: "Done." } }),
        {
          respond: {
            usage: { inputTokens: 100, outputTokens: 20, cachedReadTokens: 30, cachedWriteTokens: 5, totalTokens: 155 },
          },
        },
      ),
    );

    expect(stop).toBe("end_turn");
    expect(crashes).toEqual([]);
    expect(trace(events)).toEqual([
      "call Bash",
      "completed Bash",
      "call dispatch_task",
      "completed dispatch_task",
      "call run_shell_command",
      "completed run_shell_command",
      "call Edit",
      "failed Edit",
      "plan 2",
      "text: Done.",
      "usage 135/20",
    ]);
    const calls = ofType(events, "tool_call");
    expect(calls.map((c) => c.input)).toEqual([
      { command: "ls -la" },
      { title: "Child", description: "Do it" },
      { command: "echo hi" },
      { file_path: "a.ts" },
    ]);
    const results = ofType(events, "tool_result");
    expect(results[0]?.output).toEqual({ content: [{ type: "text", text: "a.ts\nb.ts" }] });
    expect(results[1]?.output).toEqual({ content: [{ type: "text", text: '{"taskId":"t-42"}' }] });
    expect(results[2]?.output).toEqual({ content: [{ type: "text", text: "hi\n" }] });
    expect(results[3]?.output).toEqual({
      content: [{ type: "text", text: "--- a.ts\n+++ a.ts\n@@ -2,1 +2,1 @@\n-two\n+2" }],
    });
    expect(ofType(events, "plan")[0]?.entries).toEqual([
      { content: "Read the code", status: "completed", priority: "high" },
      { content: "Write the fix", status: "in_progress", priority: "medium" },
    ]);
    expect(ofType(events, "usage")).toEqual([
      { type: "usage", inputTokens: 135, outputTokens: 20, cachedTokens: 30, costUsd: 0.25 },
    ]);
  });

  it("records usage per turn as deltas: per-call reports and the session's cumulative cost are not counted twice", async () => {
    const { harness, events } = await openAgent();
    const qwenUsage = (inputTokens: number, outputTokens: number, cachedReadTokens: number) =>
      update({
        sessionUpdate: "agent_message_chunk",
        content: { type: "text", text: "" },
        _meta: { usage: { inputTokens, outputTokens, cachedReadTokens, totalTokens: inputTokens + outputTokens } },
      });

    await harness.prompt(
      steps(update({ sessionUpdate: "usage_update", used: 10, size: 100, cost: { amount: 0.1, currency: "USD" } })),
    );
    await harness.prompt(
      steps(
        qwenUsage(50, 5, 10),
        qwenUsage(70, 7, 40),
        update({ sessionUpdate: "usage_update", used: 20, size: 100, cost: { amount: 0.35, currency: "USD" } }),
        // A response total that covers the per-call reports adds only what they missed.
        { respond: { usage: { inputTokens: 80, outputTokens: 15, cachedReadTokens: 50, totalTokens: 145 } } },
      ),
    );
    await harness.prompt(steps({ respond: { usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 } } }));

    expect(ofType(events, "usage")).toEqual([
      { type: "usage", inputTokens: 0, outputTokens: 0, cachedTokens: 0, costUsd: 0.1 },
      { type: "usage", inputTokens: 50, outputTokens: 5, cachedTokens: 10 },
      { type: "usage", inputTokens: 70, outputTokens: 7, cachedTokens: 40 },
      { type: "usage", inputTokens: 10, outputTokens: 3, cachedTokens: 0, costUsd: 0.25 },
      { type: "usage", inputTokens: 3, outputTokens: 1, cachedTokens: 0 },
    ]);
    // The empty chunks that carried the reports are not text.
    expect(ofType(events, "agent_text")).toEqual([]);
  });

  it("answers permission requests at once by the policy: allow picks a one-time allow", async () => {
    const { harness, events } = await openAgent({ permissionPolicy: "allow" });
    const options = [
      { optionId: "always", kind: "allow_always", name: "Always" },
      { optionId: "once", kind: "allow_once", name: "Yes" },
      { optionId: "no", kind: "reject_once", name: "No" },
    ];
    const stop = await harness.prompt(
      steps(
        { permission: { toolCall: { toolCallId: "t1", title: "rm -rf build" }, options } },
        { permission: { toolCall: { toolCallId: "t2" }, options: [options[0]] } },
      ),
    );

    expect(stop).toBe("end_turn");
    expect(ofType(events, "agent_text").map((e) => e.text)).toEqual([
      'permission: {"outcome":"selected","optionId":"once"}',
      'permission: {"outcome":"selected","optionId":"always"}',
    ]);
  });

  it("answers permission requests at once by the policy: deny rejects, and no rejecting option cancels", async () => {
    const { harness, events } = await openAgent({ permissionPolicy: "deny" });
    const stop = await harness.prompt(
      steps(
        {
          permission: {
            toolCall: { toolCallId: "t1" },
            options: [
              { optionId: "once", kind: "allow_once", name: "Yes" },
              { optionId: "never", kind: "reject_always", name: "Never" },
              { optionId: "no", kind: "reject_once", name: "No" },
            ],
          },
        },
        {
          permission: {
            toolCall: { toolCallId: "t2" },
            options: [{ optionId: "once", kind: "allow_once", name: "Yes" }],
          },
        },
      ),
    );

    expect(stop).toBe("end_turn");
    expect(ofType(events, "agent_text").map((e) => e.text)).toEqual([
      'permission: {"outcome":"selected","optionId":"no"}',
      'permission: {"outcome":"cancelled"}',
    ]);
  });

  it("cancels a turn with session/cancel; a turn that ignores it is ended as cancelled and the session goes on", async () => {
    const { harness, events } = await openAgent();

    const honoured = harness.prompt(
      steps(update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: "working" } }), {
        waitForCancel: true,
      }),
    );
    await expect.poll(() => trace(events)).toEqual(["text: working"]);
    await harness.cancel();
    expect(await honoured).toBe("cancelled");

    const ignored = harness.prompt(
      steps(update({ sessionUpdate: "tool_call", toolCallId: "slow", title: "sleep", rawInput: { seconds: 60 } }), {
        ignoreCancel: 60_000,
      }),
    );
    await expect.poll(() => trace(events)).toContain("call sleep");
    const cancelledAt = Date.now();
    await harness.cancel();
    expect(await ignored).toBe("cancelled");
    const waited = Date.now() - cancelledAt;
    expect(waited).toBeGreaterThanOrEqual(CANCEL_GRACE_MS - 50);
    expect(waited).toBeLessThan(CANCEL_GRACE_MS + 2000);

    expect(
      await harness.prompt(
        steps(update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: "next" } })),
      ),
    ).toBe("end_turn");
    expect(trace(events).at(-1)).toBe("text: next");
  });

  it("gives an external agent SAM's MCP server with the task token, and never the model key", async () => {
    const { harness, events } = await openAgent();
    await harness.prompt(steps({ echoSessionNew: true }));

    const sent = JSON.parse(ofType(events, "agent_text")[0]?.text ?? "{}");
    expect(sent.mcpServers).toEqual([
      {
        type: "http",
        name: "sam",
        url: NO_WEB_APP,
        headers: [{ name: "Authorization", value: `Bearer ${TASK_TOKEN}` }],
      },
    ]);
    expect(sent._meta).toBeUndefined();
    expect(JSON.stringify(sent)).not.toContain(MODEL_KEY);
  });

  it("authenticates with the configured method when the agent requires it, and says so when none is configured", async () => {
    await expect(openAgent({}, ["--require-auth", "openai"])).rejects.toThrow(/harness failed to start: .*[Aa]uth/);
    await expect(openAgent({ authMethod: "oauth" }, ["--require-auth", "openai"])).rejects.toThrow(
      'the agent does not offer the auth method "oauth" (it offers: openai)',
    );

    const { harness, events } = await openAgent({ authMethod: "openai" }, ["--require-auth", "openai"]);
    expect(
      await harness.prompt(
        steps(update({ sessionUpdate: "agent_message_chunk", content: { type: "text", text: "in" } })),
      ),
    ).toBe("end_turn");
    expect(trace(events)).toEqual(["text: in"]);
  });

  it("reports a failed prompt as an agent error with the agent's reason, and the turn as error", async () => {
    const { harness, events } = await openAgent();
    const stop = await harness.prompt(
      steps(update({ sessionUpdate: "tool_call", toolCallId: "x", title: "Read", rawInput: { path: "a" } }), {
        fail: {
          message: "Internal error",
          data: { details: "the model provider refused the API key (HTTP 401): bad key" },
        },
      }),
    );

    expect(stop).toBe("error");
    expect(trace(events)).toEqual([
      "call Read",
      "error: Internal error: the model provider refused the API key (HTTP 401): bad key",
    ]);
  });
});
