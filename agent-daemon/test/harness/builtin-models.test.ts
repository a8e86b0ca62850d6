import net from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type OpenAIFixture, replyByRound, startOpenAIFixture } from "../../../test/helpers/openai-fixture.ts";
import { connectHarness } from "../../src/harness/acp-client.ts";
import { startInProcessAgent } from "../../src/harness/in-process.ts";
import type { HarnessEvent, HarnessOptions, HarnessSession } from "../../src/harness/types.ts";
import { startKeyProxy } from "../../src/keys/key-proxy.ts";
import { makeTempDir } from "../temp-dir.ts";
import { NO_WEB_APP, TASK_TOKEN, trace } from "./helpers.ts";

describe("the built-in agent with a real provider (the AI SDK's openai-compatible, against the fixture)", () => {
  let fixture: OpenAIFixture;
  let temp: ReturnType<typeof makeTempDir>;
  let harness: HarnessSession | undefined;
  let events: HarnessEvent[];

  beforeEach(async () => {
    fixture = await startOpenAIFixture();
    temp = makeTempDir("sam-builtin-models-");
    events = [];
  });
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
    await fixture.close();
    temp.cleanup();
  });

  async function open(options: Partial<HarnessOptions>): Promise<HarnessSession> {
    harness = await connectHarness(startInProcessAgent(), {
      kind: "builtin",
      cwd: temp.dir,
      mode: "task",
      model: "openai-compatible:test-model",
      modelApiKey: fixture.apiKey,
      modelBaseUrl: fixture.url,
      mcpUrl: NO_WEB_APP,
      taskToken: TASK_TOKEN,
      onEvent: (event) => events.push(event),
      onCrash: () => {},
      ...options,
    });
    // What the session start reported (the web app's MCP server is not there) is not the turn's.
    events.length = 0;
    return harness;
  }

  /** The turn's events with the streamed text chunks of a message joined. */
  function joined(): string[] {
    const lines: string[] = [];
    for (const line of trace(events)) {
      const last = lines.at(-1);
      if (line.startsWith("text: ") && last?.startsWith("text: ")) lines[lines.length - 1] = last + line.slice(6);
      else lines.push(line);
    }
    return lines;
  }

  /** A loopback port nothing listens on. */
  async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it("reports each turn's token usage to the daemon as one usage event: all input tokens, the cached part, the output", async () => {
    const h = await open({});
    fixture.respond(
      replyByRound([
        {
          toolCalls: [{ name: "shell", arguments: { command: "echo hi" } }],
          usage: { promptTokens: 120, completionTokens: 8, cachedTokens: 20 },
        },
        { text: "Done.", usage: { promptTokens: 200, completionTokens: 12, cachedTokens: 100 } },
      ]),
    );
    expect(await h.prompt("Say hi in the shell.")).toBe("end_turn");
    fixture.respond(() => ({ text: "Again.", usage: { promptTokens: 300, completionTokens: 4 } }));
    expect(await h.prompt("Once more.")).toBe("end_turn");

    expect(joined()).toEqual([
      "call shell",
      "completed shell",
      "text: Done.",
      "usage 320/20",
      "text: Again.",
      "usage 300/4",
    ]);
    expect(events.filter((e) => e.type === "usage")).toEqual([
      { type: "usage", inputTokens: 320, outputTokens: 20, cachedTokens: 120 },
      { type: "usage", inputTokens: 300, outputTokens: 4, cachedTokens: 0 },
    ]);
  });

  it("words a refused key for the user, with the provider's message", async () => {
    const h = await open({ modelApiKey: "sk-wrong-key" });
    expect(await h.prompt("Hello?")).toBe("error");

    expect(events).toEqual([
      {
        type: "agent_error",
        message: "the model provider refused the API key (HTTP 401): Incorrect API key provided.",
      },
    ]);
  });

  it("words a provider's own server error with its status, and records the usage of the calls that succeeded", async () => {
    const h = await open({});
    fixture.respond(
      replyByRound([
        {
          toolCalls: [{ name: "shell", arguments: { command: "true" } }],
          usage: { promptTokens: 50, completionTokens: 5 },
        },
        { error: { status: 503, message: "overloaded" } },
      ]),
    );
    expect(await h.prompt("Run true.")).toBe("error");

    expect(events.filter((e) => e.type !== "tool_call" && e.type !== "tool_result")).toEqual([
      { type: "agent_error", message: "the model provider answered HTTP 503: overloaded" },
      { type: "usage", inputTokens: 50, outputTokens: 5, cachedTokens: 0 },
    ]);
  }, 20_000);

  it("behind SAM's key endpoint, a provider that cannot be reached is worded as such, naming its URL", async () => {
    const port = await closedPort();
    const upstream = `http://127.0.0.1:${port}/v1`;
    const endpoint = await startKeyProxy({ provider: "openai-compatible", upstream, apiKey: "sk-real-key" });
    try {
      const h = await open({ modelBaseUrl: endpoint.baseUrl, modelApiKey: endpoint.dummyKey });
      expect(await h.prompt("Hello?")).toBe("error");
      const [error] = events;
      expect(error).toMatchObject({ type: "agent_error" });
      const message = (error as { message: string }).message;
      expect(message).toMatch(
        new RegExp(`^cannot reach the model: the model server at ${upstream} cannot be reached \\(ECONNREFUSED`),
      );
      expect(message).not.toContain("sk-real-key");
    } finally {
      await endpoint.close();
    }
  }, 30_000);

  it("words an unreachable model for the user, naming its base URL and the cause", async () => {
    const port = await closedPort();
    const h = await open({ modelBaseUrl: `http://127.0.0.1:${port}/v1` });
    expect(await h.prompt("Hello?")).toBe("error");

    expect(events).toEqual([
      {
        type: "agent_error",
        message: `cannot reach the model at http://127.0.0.1:${port}/v1: connect ECONNREFUSED 127.0.0.1:${port}`,
      },
    ]);
  }, 20_000);
});
