import path from "node:path";
import { describe, expect, test } from "vitest";
import { openDb } from "@/db/client";
import { secretKey } from "@/lib/instance-secrets";
import { revealSecret } from "@/lib/secrets/store";
import { runSam, type SamRun } from "../helpers/cli";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

/** A fresh instance with one project, for one test: its own data dir, so that tests run side by side. */
async function newInstance(onTestFinished: (fn: () => void) => void) {
  const tmp = makeTempDir("sam-cli-settings-");
  onTestFinished(tmp.cleanup);
  const dataDir = path.join(tmp.dir, "data");
  const sam = (args: string[], input = "") => runSam(args, { SAM_DATA_DIR: dataDir }, undefined, input);
  const added = await sam(["project", "add", makeGitRepo(path.join(tmp.dir, "repo")), "--json"]);
  expect(added.code, added.stderr).toBe(0);
  const projectId = JSON.parse(added.stdout).id as string;
  return {
    dataDir,
    sam,
    projectId,
    /** The project as the CLI prints it, read without changing anything. */
    async settings() {
      const run = await sam(["project", "configure", projectId, "--json"]);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(run.stdout) as Record<string, unknown>;
    },
    /** A secret's value as the server would decrypt it. */
    async reveal(name: string) {
      const db = openDb({ url: `file:${path.join(dataDir, "sam.db")}` });
      try {
        return await revealSecret(db, secretKey(dataDir, undefined), projectId, name);
      } finally {
        db.$client.close();
      }
    },
  };
}

/** A failure is reported on one line of stderr, with nothing on stdout. */
function expectCleanFailure(run: SamRun, code: number, mentions: RegExp) {
  expect(run.code, run.stderr).toBe(code);
  expect(run.stdout).toBe("");
  expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(run.stderr).toMatch(mentions);
}

describe.concurrent("sam project configure and sam secret", () => {
  test("configure sets harness, agent command, model, base URL and network and prints the settings as JSON", async ({
    onTestFinished,
  }) => {
    const { sam, projectId, settings } = await newInstance(onTestFinished);
    expect(await settings()).toMatchObject({
      id: projectId,
      harness: "builtin",
      model: "scripted",
      modelBaseUrl: null,
      agentCommand: null,
      network: "open",
      permissionPolicy: "allow",
    });
    const run = await sam([
      "project",
      "configure",
      projectId.slice(0, 8),
      "--harness",
      "acp",
      "--agent-command",
      "my-agent --acp",
      "--model",
      "openai-compatible:llama3.1:8b",
      "--base-url",
      "http://127.0.0.1:11434/v1/",
      "--network",
      "none",
      "--permission-policy",
      "deny",
      "--json",
    ]);
    expect(run.code, run.stderr).toBe(0);
    const expected = {
      id: projectId,
      harness: "acp",
      agentCommand: "my-agent --acp",
      model: "openai-compatible:llama3.1:8b",
      modelBaseUrl: "http://127.0.0.1:11434/v1",
      network: "none",
      permissionPolicy: "deny",
    };
    expect(JSON.parse(run.stdout)).toMatchObject(expected);
    expect(await settings()).toMatchObject(expected);

    const text = await sam(["project", "configure", projectId]);
    expect(text.stdout).toContain("harness:            acp (my-agent --acp)");
    expect(text.stdout).toContain("model:              openai-compatible:llama3.1:8b at http://127.0.0.1:11434/v1");
  });

  test("bad options are a usage error naming each, and nothing changes", async ({ onTestFinished }) => {
    const { sam, projectId, settings } = await newInstance(onTestFinished);
    const before = await settings();
    const bad = await sam([
      "project",
      "configure",
      projectId,
      "--harness",
      "vim",
      "--network",
      "some",
      "--base-url",
      "http://me:pw@example.com/v1",
      "--model",
      "gpt-4",
      "--network",
      "none",
    ]);
    // The last --network wins (as node's parser does); the others are all named.
    expectCleanFailure(bad, 2, /--harness: Harness must be one of builtin, builtin-subprocess, claude-code/);
    expect(bad.stderr).toMatch(/--base-url: Base URL must not carry credentials/);
    expect(bad.stderr).toMatch(/--model: Model must be scripted, or provider:model/);
    expect(await settings()).toEqual(before);

    // acp needs its command: refused whole, the model change with it.
    const acp = await sam(["project", "configure", projectId, "--harness", "acp", "--model", "openai-compatible:x"]);
    expectCleanFailure(acp, 1, /sam: The acp harness needs an agent command/);
    expect(await settings()).toEqual(before);

    expectCleanFailure(await sam(["project", "configure", projectId, "--colour", "red"]), 2, /unknown option --colour/);
  });

  test("a model whose key is not stored is refused, naming the secret; once set, the model is saved", async ({
    onTestFinished,
  }) => {
    const { sam, projectId, settings } = await newInstance(onTestFinished);
    const refused = await sam(["project", "configure", projectId, "--model", "anthropic:claude-sonnet-4-5"]);
    expectCleanFailure(refused, 1, /Anthropic needs an ANTHROPIC_API_KEY secret/);
    expect((await settings()).model).toBe("scripted");

    const set = await sam(["secret", "set", projectId, "ANTHROPIC_API_KEY"], "sk-ant-from-stdin-0123456789-wxyz\n");
    expect(set.code, set.stderr).toBe(0);
    const configured = await sam([
      "project",
      "configure",
      projectId,
      "--model",
      "anthropic:claude-sonnet-4-5",
      "--json",
    ]);
    expect(configured.code, configured.stderr).toBe(0);
    expect(JSON.parse(configured.stdout).model).toBe("anthropic:claude-sonnet-4-5");
  });

  test("secret set reads the value from standard input without its trailing newline; list shows only the last four", async ({
    onTestFinished,
  }) => {
    const { sam, projectId, reveal } = await newInstance(onTestFinished);
    const value = "sk-proj-0123456789abcdefWXYZ";
    const set = await sam(["secret", "set", projectId, "OPENAI_API_KEY", "--json"], `${value}\n`);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ name: "OPENAI_API_KEY", kind: "model_api_key", last4: "WXYZ" });
    expect(set.stdout).not.toContain(value);
    expect(await reveal("OPENAI_API_KEY")).toBe(value);

    // A short value shows none of its characters; a kind may be given.
    expect((await sam(["secret", "set", projectId, "SHORT", "--kind", "other"], "abc123")).code).toBe(0);
    // Replacing a secret keeps one of that name.
    expect((await sam(["secret", "set", projectId, "OPENAI_API_KEY"], `${value}-2\r\n`)).code).toBe(0);
    expect(await reveal("OPENAI_API_KEY")).toBe(`${value}-2`);

    const list = await sam(["secret", "list", projectId, "--json"]);
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout);
    expect(listed).toEqual([
      {
        name: "OPENAI_API_KEY",
        kind: "model_api_key",
        last4: "YZ-2",
        masked: "••••YZ-2",
        updatedAt: expect.any(String),
      },
      { name: "SHORT", kind: "other", last4: null, masked: "••••", updatedAt: expect.any(String) },
    ]);
    expect(list.stdout).not.toContain(value);
    const table = await sam(["secret", "list", projectId]);
    expect(table.stdout).toMatch(/OPENAI_API_KEY\s+model_api_key\s+••••YZ-2/);
  });

  test("secret set refuses an empty value and a bad name, storing nothing", async ({ onTestFinished }) => {
    const { sam, projectId } = await newInstance(onTestFinished);
    expectCleanFailure(
      await sam(["secret", "set", projectId, "OPENAI_API_KEY"], "\n"),
      2,
      /no value on standard input/,
    );
    expectCleanFailure(
      await sam(["secret", "set", projectId, "lower-case"], "sk-value"),
      1,
      /name: Name must be UPPER_SNAKE_CASE/,
    );
    expectCleanFailure(await sam(["secret", "set", projectId], "sk-value"), 2, /missing argument <NAME>/);
    const list = await sam(["secret", "list", projectId, "--json"]);
    expect(JSON.parse(list.stdout)).toEqual([]);
  });
});
