import { generateText, stepCountIs, tool } from "ai";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { findScript, parseScript } from "../../src/harness/builtin/script.ts";
import { createScriptedModel, OFFLINE_DEMO_MESSAGE } from "../../src/harness/builtin/scripted-model.ts";
import { script } from "./helpers.ts";

describe("sam-script parsing", () => {
  it("plays the last sam-script block of a message, so a retry's own script wins over the quoted original", () => {
    const text = 'Original:\n```sam-script\n[{"say":"old"}]\n```\nRetry:\n```sam-script\n[{"say":"new"}]\n```\n';
    expect(findScript(text)).toBe('[{"say":"new"}]\n');
    expect(findScript("no script here")).toBeUndefined();
  });

  it("splits a script into one round per tool step, the trailing says forming the last round", () => {
    const rounds = parseScript(
      JSON.stringify([
        { say: "a" },
        { tool: "shell", args: { command: "ls" } },
        { sleep: 10 },
        { parallel: [{ tool: "read_file", args: { path: "x" } }, { tool: "list_files" }] },
        { say: "b" },
      ]),
    );
    expect(rounds).toEqual([
      { utterances: [{ say: "a" }], toolCalls: [{ tool: "shell", args: { command: "ls" } }] },
      {
        utterances: [{ sleep: 10 }],
        toolCalls: [
          { tool: "read_file", args: { path: "x" } },
          { tool: "list_files", args: {} },
        ],
      },
      { utterances: [{ say: "b" }], toolCalls: [] },
    ]);
  });

  it.each([
    ["{", /^sam-script: invalid JSON: /],
    ['{"say": "hi"}', /^sam-script: expected a JSON array of steps$/],
    ['[{"say": "ok"}, "shell"]', /^sam-script: step 2: expected an object with one of/],
    ['[{"say": "x", "tool": "shell"}]', /^sam-script: step 1: a step has only one of say, tool$/],
    ['[{"tool": ""}]', /^sam-script: step 1: tool: /],
    ['[{"parallel": []}]', /^sam-script: step 1: parallel: /],
    ['[{"parallel": [{"say": "no"}]}]', /^sam-script: step 1: parallel\.0\.tool: /],
    ['[{"sleep": 60001}]', /^sam-script: step 1: sleep: .*60000/],
    ['[{"say": "x", "extra": 1}]', /^sam-script: step 1: .*"extra"/],
  ])("rejects %s with a message naming the problem", (body, message) => {
    expect(() => parseScript(body)).toThrow(message);
  });
});

describe("the scripted model without streaming", () => {
  it("plays its script through generateText's tool loop too", async () => {
    const executed: string[] = [];
    const result = await generateText({
      model: createScriptedModel(),
      prompt: script([{ say: "one" }, { tool: "note", args: { text: "hi" } }, { say: "two" }]),
      tools: {
        note: tool({
          inputSchema: z.object({ text: z.string() }),
          execute: async ({ text }) => {
            executed.push(text);
            return "noted";
          },
        }),
      },
      stopWhen: stepCountIs(5),
    });
    expect(executed).toEqual(["hi"]);
    expect(result.steps.map((step) => step.text)).toEqual(["one", "two"]);
    expect(result.finishReason).toBe("stop");
  });

  it("answers without a script with the offline demo message", async () => {
    const result = await generateText({ model: createScriptedModel(), prompt: "hello" });
    expect(result.text).toBe(OFFLINE_DEMO_MESSAGE);
  });
});

describe("references to earlier tool results in a script", () => {
  const mcpAnswer = (value: unknown) => ({ content: [{ type: "text", text: JSON.stringify(value) }] });

  it("fills {{N.path}} with a field of the N-th earlier call's result, so a script can act on what it dispatched", async () => {
    const seen: unknown[] = [];
    await generateText({
      model: createScriptedModel(),
      prompt: script([
        { tool: "dispatch", args: {} },
        { tool: "stop", args: { taskId: "{{1.taskId}}", reason: "stop {{1.taskId}} now", nested: ["{{1.meta.n}}"] } },
      ]),
      tools: {
        dispatch: tool({
          inputSchema: z.object({}),
          execute: async () => mcpAnswer({ taskId: "t-42", meta: { n: 7 } }),
        }),
        stop: tool({
          inputSchema: z.object({ taskId: z.string(), reason: z.string(), nested: z.array(z.string()) }),
          execute: async (input) => {
            seen.push(input);
            return "ok";
          },
        }),
      },
      stopWhen: stepCountIs(5),
    });
    expect(seen).toEqual([{ taskId: "t-42", reason: "stop t-42 now", nested: ["7"] }]);
  });

  it("refuses a reference to a call that has not happened, naming it", async () => {
    await expect(
      generateText({
        model: createScriptedModel(),
        prompt: script([{ tool: "stop", args: { taskId: "{{2.taskId}}" } }]),
        tools: { stop: tool({ inputSchema: z.object({ taskId: z.string() }), execute: async () => "ok" }) },
      }),
    ).rejects.toThrow(/\{\{2\.taskId\}\} refers to nothing/);
  });
});
