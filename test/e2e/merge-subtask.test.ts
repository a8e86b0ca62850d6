import fs from "node:fs";
import path from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentEvents, chatSessions, tasks, workspaces } from "@/db/schema";
import { type ApiClient, isTerminal, openAppDb, ownerApi, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

/**
 * A prompt whose sam-script the scripted model plays. Backticks inside the steps are JSON escapes,
 * so a script can carry another script (a child's description).
 */
function script(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
}

// The file the test leaves in the parent's workspace once the child has completed.
const GO = ".merge-go-ahead";

describe("merge_subtask: a parent brings its child's work into its own branch", () => {
  let app: AppServer;
  let api: ApiClient;
  let projectId: string;
  const repos = makeTempDir("sam-merge-subtask-repos-");
  let repo: string;

  beforeAll(async () => {
    app = await startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } });
    api = await ownerApi(app);
    repo = makeGitRepo(path.join(repos.dir, "project"), { files: { "README.md": "# merging\n" } });
    const res = await api.post<{ id: string }>("/api/projects", { repo });
    expect(res.status).toBe(201);
    projectId = res.body.id;
  });
  afterAll(async () => {
    await app?.stop();
    repos.cleanup();
  });

  async function childrenOf(parentId: string, count: number): Promise<Record<string, string>> {
    const db = openAppDb(app);
    try {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const children = await db.query.tasks.findMany({ where: eq(tasks.parentId, parentId) });
        if (children.length === count) return Object.fromEntries(children.map((c) => [c.title, c.id]));
        await new Promise((r) => setTimeout(r, 150));
      }
    } finally {
      db.$client.close();
    }
    throw new Error(`Task ${parentId} did not dispatch ${count} children`);
  }

  async function workspacePathOf(taskId: string): Promise<string> {
    const db = openAppDb(app);
    try {
      const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
      const workspace = await db.query.workspaces.findFirst({ where: eq(workspaces.id, task!.workspaceId!) });
      return workspace!.path;
    } finally {
      db.$client.close();
    }
  }

  async function toolResults(taskId: string, name: string) {
    const db = openAppDb(app);
    try {
      const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
      if (!session) return [];
      const rows = await db.query.agentEvents.findMany({
        where: eq(agentEvents.sessionId, session.id),
        orderBy: asc(agentEvents.seq),
      });
      return rows
        .map((r) => JSON.parse(r.payload) as { type: string; name?: string; status?: string; output?: unknown })
        .filter((e) => e.type === "tool_result" && e.name === name);
    } finally {
      db.$client.close();
    }
  }

  it("only the direct parent may merge a child; afterwards the parent's pushed branch holds the child's commit and file", async () => {
    const child = script("Write child.txt", [
      { tool: "write_file", args: { path: "child.txt", content: "written by the child\n" } },
      { tool: "complete_task", args: { summary: "Wrote child.txt." } },
    ]);
    // A sibling tries to merge the child's work into its own branch: `{{1.taskId}}` is the child's
    // id, filled in by the parent as it dispatches.
    const sibling = script("Take my sibling's work", [
      { tool: "merge_subtask", args: { taskId: "{{1.taskId}}" } },
      { say: "Refused, as expected." },
    ]);
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      mode: "task",
      prompt: script("Split the work, then merge it.", [
        { tool: "dispatch_task", args: { title: "Write child.txt", description: child } },
        { tool: "dispatch_task", args: { title: "Take my sibling's work", description: sibling } },
        // Holds the turn until the test, having seen the child complete, leaves the go-ahead.
        {
          tool: "shell",
          args: { command: `while [ ! -e ${GO} ]; do sleep 0.1; done; rm ${GO}`, timeoutMs: 300_000 },
        },
        // The sibling changed nothing: there is nothing of it to merge.
        { tool: "merge_subtask", args: { taskId: "{{2.taskId}}" } },
        { tool: "merge_subtask", args: { taskId: "{{1.taskId}}" } },
        { tool: "complete_task", args: { summary: "Merged the child's work: {{5.commit}}" } },
      ]),
    });
    expect(created.status).toBe(201);
    const parentId = created.body.id;
    const ids = await childrenOf(parentId, 2);

    const childTask = await waitForTask(api, ids["Write child.txt"]!, isTerminal, 90_000);
    expect(childTask).toMatchObject({ status: "completed", failureReason: null });
    const childCommit = git(repo, "rev-parse", childTask.branch!);

    // The sibling was refused, by the rule every orchestration tool follows.
    const siblingTask = await waitForTask(api, ids["Take my sibling's work"]!, isTerminal, 90_000);
    expect(siblingTask.status).toBe("completed");
    const refused = await toolResults(siblingTask.id, "merge_subtask");
    expect(refused).toHaveLength(1);
    expect(refused[0]?.status).toBe("failed");
    expect(JSON.stringify(refused[0]?.output)).toContain(
      `Cannot merge task ${childTask.id}: only its direct parent may do that`,
    );

    fs.writeFileSync(path.join(await workspacePathOf(parentId), GO), "");
    const parent = await waitForTask(api, parentId, isTerminal, 90_000);
    expect(parent.status).toBe("completed");
    const [nothing, merged] = await toolResults(parentId, "merge_subtask");
    expect(nothing?.status).toBe("failed");
    expect(JSON.stringify(nothing?.output)).toContain(
      `Subtask ${siblingTask.id} changed nothing: it has no branch to merge`,
    );
    expect(merged?.status).toBe("completed");
    const parentHead = git(repo, "rev-parse", parent.branch!);
    expect(parent.summary).toBe(`Merged the child's work: ${parentHead}`);

    // The parent's branch in the project repository: its base, and the child's work merged in by SAM.
    git(repo, "merge-base", "--is-ancestor", childCommit, parent.branch!);
    expect(git(repo, "show", `${parent.branch}:child.txt`)).toBe("written by the child");
    expect(git(repo, "log", "-1", "--format=%an|%s", parent.branch!)).toBe(
      `SAM|Merge the work of subtask "Write child.txt" (${childTask.branch})`,
    );
    expect(git(repo, "rev-parse", `${parent.branch}^2`)).toBe(childCommit);
  });
});
