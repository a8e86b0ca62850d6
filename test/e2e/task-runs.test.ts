import path from "node:path";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentEvents, chatSessions, taskEvents, tokens } from "@/db/schema";
import { type ApiClient, isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { runSam } from "../helpers/cli";
import { git, makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

/** The stored agent events of a task's session, in sequence order. */
async function storedEvents(app: AppServer, taskId: string) {
  const db = openAppDb(app);
  try {
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    if (!session) return [];
    const rows = await db.query.agentEvents.findMany({
      where: eq(agentEvents.sessionId, session.id),
      orderBy: asc(agentEvents.seq),
    });
    return rows.map((r) => ({ seq: r.seq, type: r.type, payload: JSON.parse(r.payload) as Record<string, unknown> }));
  } finally {
    db.$client.close();
  }
}

describe("a task runs end to end on a local node", () => {
  let app: AppServer;
  let api: ApiClient;
  let projectId: string;
  const repos = makeTempDir("sam-run-repos-");
  let repo: string;

  beforeAll(async () => {
    app = await startAppServer({ env: { SAM_TICK_MS: "200", SAM_HEARTBEAT_MS: "500" } });
    api = await ownerApi(app);
    repo = makeGitRepo(path.join(repos.dir, "project"), { files: { "README.md": "# demo\n", "src/app.txt": "v1\n" } });
    const res = await api.post<{ id: string }>("/api/projects", { repo });
    expect(res.status).toBe(201);
    projectId = res.body.id;
  });
  afterAll(async () => {
    await app?.stop();
    repos.cleanup();
  });

  async function runTask(prompt: string, mode: "task" | "conversation" = "task") {
    const created = await api.post<{ id: string }>("/api/tasks", { projectId, prompt, mode });
    expect(created.status).toBe(201);
    return created.body.id;
  }

  it("a scripted task writes a file, runs a command, commits and pushes its branch, and completes", async () => {
    const taskId = await runTask(
      scriptPrompt("Add a greeting file.", [
        { say: "Writing the greeting." },
        { tool: "write_file", args: { path: "notes/hello.txt", content: "hello from SAM\n" } },
        { tool: "shell", args: { command: "cat notes/hello.txt && echo shell-ok" } },
        { tool: "complete_task", args: { summary: "Added notes/hello.txt" } },
        { say: "Done." },
      ]),
    );
    const task = await waitForTask(api, taskId, isTerminal);
    expect(task.failureReason).toBeNull();
    expect(task.status).toBe("completed");
    expect(task.summary).toBe("Added notes/hello.txt");
    expect(task.branch).toMatch(/^sam\/add-a-greeting-file-[0-9a-f]{8}$/);

    // The branch is in the project's repository, with the agent's work committed.
    expect(git(repo, "show", `${task.branch}:notes/hello.txt`)).toBe("hello from SAM");
    // The daemon's commit is titled with the task and carries the agent's last message.
    expect(git(repo, "log", "-1", "--format=%s", task.branch!)).toBe("Add a greeting file.");
    expect(git(repo, "log", "-1", "--format=%b", task.branch!)).toBe("Done.");
    expect(git(repo, "rev-parse", "--abbrev-ref", "HEAD")).toBe("main");

    // Every event is stored once, numbered without gaps, from start to finish.
    const events = await storedEvents(app, taskId);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.type).toBe("session_started");
    expect(events.at(-1)).toMatchObject({ type: "session_finished", payload: { outcome: "completed" } });
    const shell = events.find((e) => e.type === "tool_result" && e.payload.name === "shell");
    expect(JSON.stringify(shell?.payload.output)).toContain("shell-ok");
    expect(events.some((e) => e.type === "work_saved")).toBe(true);

    // The task's token died with it.
    const db = openAppDb(app);
    try {
      const taskTokens = await db.query.tokens.findMany({
        where: and(eq(tokens.taskId, taskId), eq(tokens.kind, "task")),
      });
      expect(taskTokens.length).toBeGreaterThan(0);
      expect(taskTokens.every((t) => t.revokedAt !== null)).toBe(true);
      const history = await db.query.taskEvents.findMany({
        where: eq(taskEvents.taskId, taskId),
        orderBy: asc(taskEvents.id),
      });
      expect(history.map((h) => h.toStatus)).toEqual(["queued", "provisioning", "running", "completed"]);
    } finally {
      db.$client.close();
    }
  });

  it("a failing step is recorded and the agent goes on", async () => {
    const taskId = await runTask(
      scriptPrompt("Try things that fail.", [
        { tool: "shell", args: { command: "echo failing >&2; exit 3" } },
        { tool: "write_file", args: { path: "../outside.txt", content: "no" } },
        { tool: "write_file", args: { path: "after.txt", content: "still working\n" } },
      ]),
    );
    const task = await waitForTask(api, taskId, isTerminal);
    expect(task.status).toBe("completed");
    const results = (await storedEvents(app, taskId)).filter((e) => e.type === "tool_result");
    expect(results.map((r) => [r.payload.name, r.payload.status])).toEqual([
      ["shell", "failed"],
      ["write_file", "failed"],
      ["write_file", "completed"],
    ]);
    expect(JSON.stringify(results[1]?.payload.output)).toContain("outside the workspace");
    expect(git(repo, "show", `${task.branch}:after.txt`)).toBe("still working");
  });

  it("a malformed script is reported as an agent error event, and the task fails with it", async () => {
    const taskId = await runTask('Broken.\n\n```sam-script\n[{"tool": 42}\n```\n');
    const task = await waitForTask(api, taskId, isTerminal);
    const events = await storedEvents(app, taskId);
    const error = events.find((e) => e.type === "agent_error");
    expect(error).toBeDefined();
    expect(String(error?.payload.message)).toMatch(/sam-script/);
    expect(task.status).toBe("failed");
    expect(task.failureReason).toMatch(/agent error/);
  });

  it("a harness crash fails the task with a reason", async () => {
    // A project whose sessions each get their own harness process: the shell's parent is that process.
    const other = makeGitRepo(path.join(repos.dir, "isolated"));
    const project = await api.post<{ id: string }>("/api/projects", { repo: other });
    const patched = await api.patch(`/api/projects/${project.body.id}`, { harness: "builtin-subprocess" });
    expect(patched.status).toBe(200);
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId: project.body.id,
      prompt: scriptPrompt("Crash the harness.", [{ tool: "shell", args: { command: "kill -9 $PPID; sleep 5" } }]),
    });
    const task = await waitForTask(api, created.body.id, isTerminal);
    expect(task.status).toBe("failed");
    expect(task.failureReason).toMatch(/^harness crashed/);
  });

  it("a task queued by another process (the CLI) is started by the scheduler's interval", async () => {
    const created = await runSam(
      ["task", "create", "--project", projectId, "--prompt", scriptPrompt("From the CLI.", [{ say: "hi" }]), "--json"],
      { SAM_DATA_DIR: app.dataDir },
    );
    expect(created.code).toBe(0);
    const task = await waitForTask(api, JSON.parse(created.stdout).id, isTerminal);
    expect(task.status).toBe("completed");
  });

  it("a conversation takes two user messages in two turns and waits for follow-up between them", async () => {
    const taskId = await runTask(scriptPrompt("Let's talk.", [{ say: "First answer." }]), "conversation");
    const waiting = await waitForTask(api, taskId, (t) => t.status === "awaiting_followup" || isTerminal(t));
    expect(waiting.status).toBe("awaiting_followup");

    const sent = await api.post<{ delivered: boolean }>(`/api/tasks/${taskId}/messages`, {
      text: scriptPrompt("And now?", [{ say: "Second answer." }]),
    });
    expect(sent.status).toBe(200);
    // The status still says "waiting" until the new turn's start is stored: wait for its end instead.
    const deadline = Date.now() + 30_000;
    while ((await storedEvents(app, taskId)).filter((e) => e.type === "turn_ended").length < 2) {
      if (Date.now() > deadline) throw new Error("the second turn did not end");
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitForTask(api, taskId, (t) => t.status === "awaiting_followup", 30_000);
    const events = await storedEvents(app, taskId);
    const texts = events
      .filter((e) => e.type === "agent_text")
      .map((e) => e.payload.text)
      .join("");
    expect(texts).toContain("First answer.");
    expect(texts).toContain("Second answer.");
    expect(events.filter((e) => e.type === "turn_ended")).toHaveLength(2);
    expect(events.filter((e) => e.type === "user_message")).toHaveLength(2);
  });
});
