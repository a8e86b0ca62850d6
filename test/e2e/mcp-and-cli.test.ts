import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokens } from "@/db/schema";
import { hashToken } from "@/lib/auth/tokens";
import { ERROR_CODES } from "@/lib/errors";
import { isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { runSam } from "../helpers/cli";
import { makeGitRepo } from "../helpers/git";
import { callTool } from "../helpers/mcp";
import { makeTempDir } from "../helpers/temp-dir";

const CRON_SECRET = "cron-secret-for-the-test-0123456789";

async function mcpClient(app: AppServer, token: string): Promise<Client> {
  const client = new Client({ name: "test", version: "1.0.0" });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${app.baseUrl}/api/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

function mcpPost(app: AppServer, authorization?: string) {
  return fetch(`${app.baseUrl}/api/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(authorization ? { authorization } : {}),
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
  });
}

describe("the MCP endpoint, the CLI and the cron route, with the in-process scheduler off", () => {
  let app: AppServer;
  const repos = makeTempDir("sam-mcp-repos-");
  let env: Record<string, string>;
  let projectId: string;

  beforeAll(async () => {
    app = await startAppServer({ env: { SAM_SCHEDULER: "off", CRON_SECRET } });
    env = { SAM_DATA_DIR: app.dataDir };
    const added = await runSam(["project", "add", makeGitRepo(path.join(repos.dir, "repo")), "--json"], env);
    expect(added.code).toBe(0);
    projectId = JSON.parse(added.stdout).id;
  });
  afterAll(async () => {
    await app?.stop();
    repos.cleanup();
  });

  it("sam task create queues a task and sam task show reports it as JSON", async () => {
    const created = await runSam(["task", "create", "--project", projectId, "--prompt", "Look around", "--json"], env);
    expect(created.code).toBe(0);
    const task = JSON.parse(created.stdout);
    expect(task).toMatchObject({ status: "queued", mode: "task", title: "Look around" });
    const shown = await runSam(["task", "show", task.id, "--json"], env);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: task.id,
      status: "queued",
      mode: "task",
      parentId: null,
      children: [],
      blockedBy: [],
      failureReason: null,
    });
    const bad = await runSam(["task", "create", "--project", projectId, "--prompt", "x", "--mode", "banana"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Mode must be task or conversation");
    const unknown = await runSam(["task", "show", "no-such-task"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("No task no-such-task");
  });

  it("serves get_instructions to a task token, and refuses a missing, wrong, revoked or expired token with 401", async () => {
    const created = JSON.parse(
      (
        await runSam(
          [
            "task",
            "create",
            "--project",
            projectId,
            "--prompt",
            "Explain the repo",
            "--mode",
            "conversation",
            "--json",
          ],
          env,
        )
      ).stdout,
    );
    const minted = await runSam(["token", "mint", "--task", created.id, "--json"], env);
    expect(minted.code).toBe(0);
    const { token } = JSON.parse(minted.stdout) as { token: string };
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const client = await mcpClient(app, token);
    const listed = await client.listTools();
    expect(listed.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(["complete_task", "get_instructions", "update_task_status"]),
    );
    const result = await client.callTool({ name: "get_instructions", arguments: {} });
    const instructions = JSON.parse((result.content as { text: string }[])[0]!.text);
    expect(instructions.task).toMatchObject({ id: created.id, mode: "conversation", status: "queued" });
    expect(instructions.rules.join(" ")).toMatch(/Do not push/);
    // Bad input is a JSON-RPC error naming the field, not a 5xx.
    await expect(client.callTool({ name: "update_task_status", arguments: { message: "" } })).rejects.toThrow(
      /message/,
    );
    // A conversation is not completed by its agent; the refusal reads once, without a doubled prefix.
    const refusal = await client.callTool({ name: "complete_task", arguments: { summary: "done" } }).catch((e) => e);
    expect(String(refusal.message)).toMatch(/conversation/);
    expect(String(refusal.message).match(/MCP error/g)).toHaveLength(1);
    await client.close();

    // Arguments that are not an object are refused as invalid input, naming the problem.
    for (const args of [true, [1, 2], "text"]) {
      const outcome = await callTool(app.baseUrl, token, "update_task_status", args);
      expect(outcome.status).toBe(200);
      expect(outcome.error?.code).toBe(ERROR_CODES.invalid_input.jsonRpc);
      expect(outcome.error?.message).toContain("arguments must be a JSON object");
    }

    expect((await mcpPost(app)).status).toBe(401);
    expect((await mcpPost(app, "Bearer not-a-real-token-not-a-real-token-xx")).status).toBe(401);
    const db = openAppDb(app);
    try {
      await db
        .update(tokens)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(tokens.tokenHash, hashToken(token)));
      expect((await mcpPost(app, `Bearer ${token}`)).status).toBe(401);
      await db
        .update(tokens)
        .set({ expiresAt: null, revokedAt: new Date() })
        .where(eq(tokens.tokenHash, hashToken(token)));
      expect((await mcpPost(app, `Bearer ${token}`)).status).toBe(401);
      await db
        .update(tokens)
        .set({ revokedAt: null })
        .where(and(eq(tokens.tokenHash, hashToken(token))));
      expect((await mcpPost(app, `Bearer ${token}`)).status).toBe(200);
    } finally {
      db.$client.close();
    }
  });

  it("the cron route runs a scheduling pass only for the CRON_SECRET, and the task then runs", async () => {
    const api = await ownerApi(app);
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      prompt: scriptPrompt("Via cron.", [{ say: "started by cron" }]),
    });
    const tick = (secret?: string) =>
      fetch(`${app.baseUrl}/api/cron/tick`, {
        method: "POST",
        headers: secret ? { authorization: `Bearer ${secret}` } : {},
      });
    expect((await tick()).status).toBe(401);
    expect((await tick("wrong")).status).toBe(401);
    // With the in-process scheduler off nothing starts the task on its own.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await api.get<{ status: string }>(`/api/tasks/${created.body.id}`)).body.status).toBe("queued");

    // The first pass starts a node; the passes after it claim queued tasks for that node.
    let claimed: string[] = [];
    for (let i = 0; i < 20 && !claimed.includes(created.body.id); i++) {
      const res = await tick(CRON_SECRET);
      expect(res.status).toBe(200);
      claimed = claimed.concat(((await res.json()) as { claimed: string[] }).claimed);
    }
    expect(claimed).toContain(created.body.id);
    const done = await waitForTask(api, created.body.id, isTerminal);
    expect(done.status).toBe("completed");
  });
});
