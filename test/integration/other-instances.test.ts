import path from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, test } from "vitest";
import { type Db, openDb } from "@/db/client";
import { applyMigrations } from "@/db/migrate";
import { onIdeasChanged, onTaskChanged } from "@/lib/events/bus";
import { followOtherInstances } from "@/lib/events/other-instances";
import { createIdea } from "@/lib/ideas/ideas";
import { createProject } from "@/lib/projects/projects";
import { createTask } from "@/lib/tasks/create-task";
import { ensureInstanceOwner } from "@/lib/users";
import { makeGitRepo } from "../helpers/git";
import { type SqldServer, startSqld } from "../helpers/sqld";
import { makeTempDir } from "../helpers/temp-dir";

/**
 * Two clients of one sqld stand for two instances: what one writes becomes the other's change
 * hints while something in it follows other instances.
 */
describe("following other instances' changes", () => {
  const temp = makeTempDir("sam-follow-");
  let server: SqldServer;
  let here: Db;
  let there: Db;

  beforeAll(async () => {
    server = await startSqld(temp.dir);
    here = openDb({ url: server.url, authToken: server.authToken });
    there = openDb({ url: server.url, authToken: server.authToken });
    await applyMigrations(here);
  });
  afterAll(async () => {
    here?.$client.close();
    there?.$client.close();
    await server?.stop();
    temp.cleanup();
  });

  /** The first hint `on` delivers that `matches` accepts. */
  function nextHint<T>(on: (listener: (change: T) => void) => () => void, matches: (change: T) => boolean) {
    return new Promise<T>((resolve) => {
      const off = on((change) => {
        if (!matches(change)) return;
        off();
        resolve(change);
      });
    });
  }

  test("a task's change and an idea's edit written through another client wake this process's listeners", async () => {
    const owner = await ensureInstanceOwner(there);
    const project = await createProject(there, owner.id, { repo: makeGitRepo(path.join(temp.dir, "repo")) });
    const task = await createTask(there, owner.id, { projectId: project.id, prompt: "Elsewhere", mode: "task" });
    const idea = await createIdea(there, project.id, { kind: "user", userId: owner.id }, { title: "An idea" });
    const unfollow = followOtherInstances(here);
    try {
      // The follower reads its starting cursors first; what was written before is not news.
      await new Promise((r) => setTimeout(r, 500));
      // Raw statements, as another process writes them: nothing in this process emits a hint for them.
      const taskHint = nextHint(onTaskChanged, (c) => c.taskId === task.id);
      const started = Date.now();
      await there.run(sql`INSERT INTO task_events (task_id, from_status, to_status, actor_kind)
        VALUES (${task.id}, 'queued', 'cancelled', 'system')`);
      await taskHint;
      const taskMs = Date.now() - started;
      const ideaHint = nextHint(onIdeasChanged, (c) => c.projectId === project.id);
      const edited = Date.now();
      await there.run(
        sql`UPDATE ideas SET title = 'Edited elsewhere', updated_at = ${Date.now()} WHERE id = ${idea.id}`,
      );
      await ideaHint;
      console.log(`hints arrived ${taskMs} ms (task) and ${Date.now() - edited} ms (idea) after the writes`);
    } finally {
      unfollow();
    }
  });
});
