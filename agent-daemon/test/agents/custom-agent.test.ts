/**
 * The custom `acp` harness in the real sandbox with network `none`: the project's command (here SAM's
 * own agent run standalone, as an editor would run it) started by /bin/sh, its model reached only
 * through the session's key endpoint forwarded into the sandbox.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIFixture, replyByRound, startOpenAIFixture } from "../../../test/helpers/openai-fixture.ts";
import { harnessStarter } from "../../src/harness/start.ts";
import { HARNESS_BIN } from "../../src/harness/subprocess.ts";
import type { HarnessEvent } from "../../src/harness/types.ts";
import { Sandbox } from "../../src/sandbox/sandbox.ts";
import { NO_WEB_APP, TASK_TOKEN } from "../harness/helpers.ts";
import { makeTempDir } from "../temp-dir.ts";

describe("a custom ACP agent command", () => {
  let fixture: OpenAIFixture;
  let temp: ReturnType<typeof makeTempDir>;
  let sandbox: Sandbox;

  beforeAll(async () => {
    temp = makeTempDir("sam-custom-agent-");
    fixture = await startOpenAIFixture({ models: ["fixture-model"] });
    sandbox = new Sandbox({
      mode: "on",
      limits: { processes: 1024, memoryBytes: 8192 * 1024 * 1024 },
      agentId: 2_000_000_000,
    });
    await sandbox.probe(temp.dir);
    expect(sandbox.report()).toEqual({ state: "on" });
  });
  afterAll(async () => {
    await fixture?.close();
    temp?.cleanup();
  });

  it("runs in the sandbox without network, reaching its model only through the key endpoint, never holding the key", async () => {
    const plan = replyByRound([
      {
        toolCalls: [
          {
            name: "shell",
            arguments: {
              command: `env | grep -c '${fixture.apiKey}'; node -e "fetch('${fixture.url}/models').then(()=>console.log('fixture-reached'),()=>console.log('fixture-unreachable'))"`,
            },
          },
        ],
      },
      { text: "Done." },
    ]);
    fixture.respond((body) => plan(body));
    const dirs = sandbox.prepare(path.join(temp.dir, "state"));
    const starter = harnessStarter({ sandbox, dirsFor: () => dirs });
    const events: HarnessEvent[] = [];
    const crashes: string[] = [];
    const node = sandbox.insidePath(process.execPath);
    const session = await starter.start({
      kind: "acp",
      agentCommand: `exec ${node} ${sandbox.insidePath(HARNESS_BIN)} --mode task`,
      cwd: dirs.workspace,
      mode: "task",
      model: "openai-compatible:fixture-model",
      modelApiKey: fixture.apiKey,
      modelBaseUrl: fixture.url,
      mcpUrl: NO_WEB_APP,
      taskToken: TASK_TOKEN,
      network: "none",
      workspaceId: "w1",
      onEvent: (event) => events.push(event),
      onCrash: (reason) => crashes.push(reason),
    });
    try {
      expect(await session.prompt("check the sandbox")).toBe("end_turn");
    } finally {
      await session.close();
    }
    const result = events.find((e) => e.type === "tool_result");
    const output = JSON.stringify(result);
    // The key is in none of the agent's variables, and the model server itself is out of reach.
    expect(output).toContain('"stdout":"0\\nfixture-unreachable\\n"');
    expect(output).toContain("fixture-unreachable");
    expect(output).not.toContain("fixture-reached");
    expect(crashes).toEqual([]);
    const turns = fixture.completions();
    expect(turns).toHaveLength(2);
    for (const turn of turns) expect(turn.headers.authorization).toBe(`Bearer ${fixture.apiKey}`);
    // Every request but the model's went nowhere: only the key endpoint reached the fixture.
    expect(fixture.requests).toHaveLength(2);
    expect(fs.readdirSync(dirs.home).join(" ")).not.toContain(fixture.apiKey);
  }, 60_000);

  it("refuses a model provider the agent cannot use, and a custom agent without a command, saying why", async () => {
    const dirs = sandbox.prepare(path.join(temp.dir, "state2"));
    const starter = harnessStarter({ sandbox, dirsFor: () => dirs });
    const base = {
      cwd: dirs.workspace,
      mode: "task" as const,
      mcpUrl: NO_WEB_APP,
      taskToken: TASK_TOKEN,
      workspaceId: "w2",
      onEvent: () => {},
      onCrash: () => {},
    };
    await expect(
      starter.start({ ...base, kind: "claude-code", model: "openai:gpt-5", modelApiKey: "sk-x" }),
    ).rejects.toThrow("Claude Code cannot use openai models; choose a model from anthropic");
    await expect(starter.start({ ...base, kind: "qwen-code", model: "scripted" })).rejects.toThrow(
      'Qwen Code needs a real model (provider:model), not "scripted"',
    );
    await expect(
      starter.start({ ...base, kind: "acp", model: "openai-compatible:m", modelBaseUrl: fixture.url }),
    ).rejects.toThrow("the custom ACP agent needs its command in the project's settings");
  });
});
