import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  type ActiveSession,
  type ClientConnection,
  client,
  methods,
  ndJsonStream,
  PROTOCOL_VERSION,
  type SessionUpdate,
} from "@agentclientprotocol/sdk";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type OpenAIFixture, replyByRound, startOpenAIFixture } from "../../../test/helpers/openai-fixture.ts";
import { HARNESS_BIN } from "../../src/harness/subprocess.ts";
import { makeTempDir } from "../temp-dir.ts";

const NOTES_SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures/notes-mcp-server.mjs");

/** What an editor does: start the agent's command and speak ACP on its stdio. */
function startAgent(args: string[], env: Record<string, string>) {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [HARNESS_BIN, ...args], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const connection: ClientConnection = client({ name: "third-party-editor" }).connect(
    ndJsonStream(Writable.toWeb(child.stdin), Readable.toWeb(child.stdout)),
  );
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    connection,
    stderr: () => stderr,
    stop: async () => {
      connection.close();
      child.stdin.end();
      await exited;
    },
  };
}

/** The updates of one prompt turn, and its response. */
async function runTurn(session: ActiveSession, text: string) {
  const updates: SessionUpdate[] = [];
  void session.prompt(text);
  for (;;) {
    const message = await session.nextUpdate();
    if (message.kind === "stop") return { updates, response: message.response as Record<string, unknown> };
    updates.push(message.update);
  }
}

describe("the built-in agent as a standard ACP agent (an editor's view, no _meta)", () => {
  let fixture: OpenAIFixture;
  let temp: ReturnType<typeof makeTempDir>;
  let agent: ReturnType<typeof startAgent> | undefined;

  beforeEach(async () => {
    fixture = await startOpenAIFixture();
    temp = makeTempDir("sam-standard-acp-");
  });
  afterEach(async () => {
    await agent?.stop();
    agent = undefined;
    await fixture.close();
    temp.cleanup();
  });

  it("runs with --model and the provider's key variable, uses a stdio MCP server, reports tool output in content and usage per turn", async () => {
    agent = startAgent(["--model", "openai-compatible:test-model", "--base-url", fixture.url], {
      OPENAI_COMPATIBLE_API_KEY: fixture.apiKey,
    });
    const init = await agent.connection.agent.request(methods.agent.initialize, {
      protocolVersion: PROTOCOL_VERSION,
      clientCapabilities: {},
    });
    expect(init).toMatchObject({ protocolVersion: PROTOCOL_VERSION, authMethods: [] });
    const session = await agent.connection.agent
      .buildSession({
        cwd: temp.dir,
        mcpServers: [{ name: "notes", command: process.execPath, args: [NOTES_SERVER], env: [] }],
      })
      .start();
    expect(session.meta).toEqual({ sam: { errors: [] } });

    fixture.respond(
      replyByRound([
        {
          toolCalls: [
            { name: "add_note", arguments: { text: "buy milk" } },
            { name: "shell", arguments: { command: "echo shell-ok; env | grep -c API_KEY || true" } },
          ],
          usage: { promptTokens: 120, completionTokens: 8, cachedTokens: 20 },
        },
        { text: "Noted.", usage: { promptTokens: 200, completionTokens: 12, cachedTokens: 100 } },
      ]),
    );
    const first = await runTurn(session, "Note that I must buy milk.");

    expect(first.response).toMatchObject({
      stopReason: "end_turn",
      // ACP's buckets are disjoint: input without the cached part.
      usage: {
        inputTokens: 200,
        cachedReadTokens: 120,
        cachedWriteTokens: 0,
        outputTokens: 20,
        thoughtTokens: 0,
        totalTokens: 340,
      },
    });
    const results = first.updates.filter(
      (u): u is Extract<SessionUpdate, { sessionUpdate: "tool_call_update" }> => u.sessionUpdate === "tool_call_update",
    );
    // The two calls run at once: either may end first.
    expect(results.map((u) => [u.status, u.content])).toEqual(
      expect.arrayContaining([
        ["completed", [{ type: "content", content: { type: "text", text: "note added: buy milk" } }]],
        // The shell saw no API key in its environment.
        ["completed", [{ type: "content", content: { type: "text", text: "shell-ok\n0\n" } }]],
      ]),
    );
    expect(results).toHaveLength(2);
    expect(fs.readFileSync(path.join(temp.dir, "notes.txt"), "utf8")).toBe("buy milk\n");
    expect(fixture.completions()[0]?.headers.authorization).toBe(`Bearer ${fixture.apiKey}`);

    // The next turn reports its own usage, not the session's total.
    fixture.respond(() => ({ text: "Anything else?", usage: { promptTokens: 300, completionTokens: 4 } }));
    const second = await runTurn(session, "Thanks.");
    expect(second.response).toMatchObject({
      stopReason: "end_turn",
      usage: { inputTokens: 300, cachedReadTokens: 0, outputTokens: 4, totalTokens: 304 },
    });
  });

  it("answers session/new without a model with what to pass", async () => {
    agent = startAgent([], {});
    await agent.connection.agent.request(methods.agent.initialize, {
      protocolVersion: PROTOCOL_VERSION,
      clientCapabilities: {},
    });
    await expect(
      agent.connection.agent.request(methods.agent.session.new, { cwd: temp.dir, mcpServers: [] }),
    ).rejects.toThrow("no model: start the agent with --model provider:model (or set SAM_MODEL), or send _meta.sam");
  });
});
