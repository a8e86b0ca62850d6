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
