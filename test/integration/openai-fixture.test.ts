/**
 * The scripted OpenAI-compatible server behaves as the real API does for a real client: the AI SDK's
 * OpenAI-compatible provider reads its streamed and whole answers, tool calls and usage.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, jsonSchema, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIFixture, replyByRound, startOpenAIFixture } from "../helpers/openai-fixture";

describe("the scripted OpenAI-compatible server", () => {
  let fixture: OpenAIFixture;

  beforeAll(async () => {
    fixture = await startOpenAIFixture({ models: ["fixture-model", "other-model"] });
  });
  afterAll(async () => {
    await fixture.close();
  });

  const model = (apiKey: string) =>
    createOpenAICompatible({ name: "fixture", baseURL: fixture.url, apiKey, includeUsage: true })("fixture-model");

  it("answers a streamed tool loop the way the AI SDK expects, with each step's usage", async () => {
    const ran: string[] = [];
    fixture.respond(
      replyByRound([
        { toolCalls: [{ name: "echo", arguments: { text: "hi" } }], usage: { promptTokens: 50, completionTokens: 5 } },
        { text: "All done here.", usage: { promptTokens: 70, completionTokens: 7, cachedTokens: 40 } },
      ]),
    );
    const result = streamText({
      model: model(fixture.apiKey),
      prompt: "say hi",
      tools: {
        echo: tool({
          inputSchema: jsonSchema<{ text: string }>({ type: "object", properties: { text: { type: "string" } } }),
          execute: async ({ text }) => {
            ran.push(text);
            return text;
          },
        }),
      },
      stopWhen: () => false,
    });
    expect(await result.text).toBe("All done here.");
    expect(ran).toEqual(["hi"]);
    const usage = await result.totalUsage;
    expect(usage.inputTokens).toBe(120);
    expect(usage.outputTokens).toBe(12);
    expect(usage.inputTokenDetails?.cacheReadTokens).toBe(40);
    expect(fixture.completions().at(-1)?.body.stream).toBe(true);
  });

  it("answers a whole (non-streamed) completion", async () => {
    fixture.respond(() => ({ text: "whole answer", usage: { promptTokens: 3, completionTokens: 2 } }));
    const result = await generateText({ model: model(fixture.apiKey), prompt: "hello" });
    expect(result.text).toBe("whole answer");
    expect(result.usage.outputTokens).toBe(2);
  });

  it("refuses a wrong key with 401 in OpenAI's error format", async () => {
    await expect(generateText({ model: model("sk-wrong"), prompt: "hello", maxRetries: 0 })).rejects.toThrow(
      /Incorrect API key/,
    );
    const res = await fetch(`${fixture.url}/models`, { headers: { authorization: "Bearer nope" } });
    expect(res.status).toBe(401);
  });

  it("lists its models to the right key", async () => {
    const res = await fetch(`${fixture.url}/models`, { headers: { authorization: `Bearer ${fixture.apiKey}` } });
    const list = (await res.json()) as { data: Array<{ id: string }> };
    expect(list.data.map((m) => m.id)).toEqual(["fixture-model", "other-model"]);
  });

  it("holds a reply until the test releases it", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    fixture.respond(() => ({ text: "late", hold: held }));
    const before = fixture.completions().length;
    const answer = generateText({ model: model(fixture.apiKey), prompt: "wait" });
    await fixture.nextCompletion(before + 1);
    release();
    expect((await answer).text).toBe("late");
  });
});
