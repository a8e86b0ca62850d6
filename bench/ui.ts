/**
 * `npm run bench:ui`: the project page with a sidebar over 1,000 tasks (300 sessions, 700
 * subtasks). Prints the page's server response time, the time until Chromium shows the sidebar,
 * how long a child's status change written by another process takes to reach its row in an open
 * page (the app gets no in-process hint for it, so its database poll must find it), the time until
 * a 500-message session's transcript is shown and scrollable, the command palette's time to
 * results over those 1,000 tasks, the task graph of a 500-task tree (time to first paint) and, on
 * an app of its own with the scheduler on, a child's end → its parent's wake turn starting.
 */
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import type { Page } from "playwright-core";
import { chatSessions } from "@/db/schema";
import { newId } from "@/lib/ids";
import { createTask } from "@/lib/tasks/create-task";
import { transitionTask } from "@/lib/tasks/transition";
import { ensureInstanceOwner } from "@/lib/users";
import { ensureBuilt } from "../scripts/build-state";
import { openAppDb, ownerApi } from "../test/helpers/api";
import { startAppServer } from "../test/helpers/app-server";
import { launchBrowser, signInWithLink } from "../test/helpers/browser";
import { makeGitRepo } from "../test/helpers/git";
import { seedTranscript } from "../test/helpers/seed-transcript";
import { makeTempDir } from "../test/helpers/temp-dir";
import { measureGraphPaint } from "./graph-paint";
import { measureParentWake } from "./parent-wake";
import { describe, fmt } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const ROOTS = 300;
const CHILDREN = 700;
const CHILD_STATUSES = ["completed", "completed", "running", "queued", "failed"] as const;

const summary = (samples: number[]) => {
  const s = describe(samples);
  return `median ${fmt(s.median)}, p90 ${fmt(s.p90)} (min ${fmt(s.min)}, max ${fmt(s.max)}, n=${s.n})`;
};

async function main() {
  await ensureBuilt();
  const scratch = makeTempDir("sam-bench-ui-");
  // No scheduler: the seeded tasks stay as seeded.
  const app = await startAppServer({ env: { SAM_SCHEDULER: "off" } });
  const db = openAppDb(app);
  const browser = await launchBrowser();
  try {
    const api = await ownerApi(app);
    const repo = makeGitRepo(path.join(scratch.dir, "repo"), { files: { "README.md": "# bench\n" } });
    const projectId = (await api.post<{ id: string }>("/api/projects", { repo })).body.id;
    const owner = await ensureInstanceOwner(db);

    const roots: string[] = [];
    for (let i = 0; i < ROOTS; i++) {
      roots.push((await createTask(db, owner.id, { projectId, prompt: `Session ${i + 1}` })).id);
    }
    // Children straight into the table (the dispatch limits would refuse 700 live ones); each third
    // child of a group waits on its group's first child.
    const children: { id: string; parent: string }[] = [];
    await db.transaction(async (tx) => {
      for (let j = 0; j < CHILDREN; j++) {
        const parent = roots[j % ROOTS]!;
        const id = newId();
        const status = CHILD_STATUSES[j % CHILD_STATUSES.length]!;
        await tx.run(sql`
          INSERT INTO tasks (id, project_id, parent_id, root_id, depth, mode, status, title, description, lineage_id)
          VALUES (${id}, ${projectId}, ${parent}, ${parent}, 1, 'task', ${status}, ${`Subtask ${j + 1}`}, 'bench', ${id})`);
        if (j >= 2 * ROOTS) {
          const first = children[j % ROOTS]!;
          await tx.run(sql`INSERT INTO task_dependencies (task_id, depends_on_task_id) VALUES (${id}, ${first.id})`);
        }
        children.push({ id, parent });
      }
    });
    const url = `${app.baseUrl}/projects/${projectId}`;

    const { context } = await signInWithLink(browser, app.signInLink, app.baseUrl);
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");

    const serverTimes: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const t0 = performance.now();
      const res = await fetch(url, { headers: { cookie } });
      await res.text();
      if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
      if (i > 0) serverTimes.push(performance.now() - t0);
    }

    const shown: number[] = [];
    const live: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const page = await context.newPage();
      const t0 = Date.now();
      await page.goto(url, { waitUntil: "commit" });
      await page.getByTestId("task-group").first().waitFor();
      const shownAt = Date.now();
      await page.locator('[data-testid="sidebar-stream-state"][data-state="live"]').waitFor();
      if (i > 0) {
        shown.push(shownAt - t0);
        live.push(Date.now() - t0);
      }
      await page.close();
    }

    // The newest session's first child flips between running and awaiting follow-up.
    const page = await context.newPage();
    await page.goto(url);
    await page.locator('[data-testid="sidebar-stream-state"][data-state="live"]').waitFor();
    const newest = roots.at(-1)!;
    const child = children.find((c) => c.parent === newest)!;
    const group = page.locator(`[data-testid="task-group"][data-task-id="${newest}"]`);
    await group.getByRole("button", { name: /^Show/ }).click();
    await transitionTask(db, {
      taskId: child.id,
      from: ["completed", "queued", "running", "failed"],
      to: "running",
      actor: { kind: "system" },
    });
    await rowStatus(page, child.id, "running");
    const updates: number[] = [];
    let status: "running" | "awaiting_followup" = "running";
    for (let i = 0; i < RUNS; i++) {
      const next: "running" | "awaiting_followup" = status === "running" ? "awaiting_followup" : "running";
      const t0 = Date.now();
      await transitionTask(db, { taskId: child.id, from: [status], to: next, actor: { kind: "system" } });
      updates.push((await rowStatus(page, child.id, next)) - t0);
      status = next;
    }

    // A session of 500 messages (250 turns), opened afresh each run.
    const long = await createTask(db, owner.id, { projectId, prompt: "A long discussion", mode: "conversation" });
    const longSession = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, long.id) });
    await seedTranscript(db, longSession!.id, 250);
    const transcript: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const tab = await context.newPage();
      const t0 = Date.now();
      await tab.goto(`${url}/sessions/${longSession!.id}`, { waitUntil: "commit" });
      const shownAt = await transcriptScrollable(tab, "Answer 250:");
      if (i > 0) transcript.push(shownAt - t0);
      await tab.close();
    }

    // The palette, searching the 1,000 tasks for a different subtask each time.
    await page.keyboard.press("Control+K");
    const input = page.getByTestId("command-palette").getByRole("combobox");
    const palette: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const query = `subtask ${100 + i * 37}`;
      const t0 = Date.now();
      await input.fill(query);
      const handle = await page.waitForFunction(
        (q) =>
          document.querySelector('[role="listbox"]')?.getAttribute("data-results-for") === q &&
          document.querySelector('[data-testid="palette-result"][data-kind="task"]')
            ? Date.now()
            : false,
        query,
        { polling: "raf", timeout: 30_000 },
      );
      if (i > 0) palette.push(((await handle.jsonValue()) as number) - t0);
    }

    const graph = await measureGraphPaint({ app, db, context, runs: RUNS });

    console.log(
      `bench:ui — ${ROOTS} sessions with ${CHILDREN} subtasks (${ROOTS + CHILDREN} tasks), ${RUNS} runs each`,
    );
    console.log(`  GET /projects/<id> (server response, whole body): ${summary(serverTimes)}`);
    console.log(`  Chromium, navigation → first sidebar card shown:  ${summary(shown)}`);
    console.log(`  Chromium, navigation → sidebar hydrated and live: ${summary(live)}`);
    console.log(`  child status change in the DB → its row updated: ${summary(updates)}`);
    console.log(
      `  500-message session, navigation → transcript shown and scrollable: ${summary(transcript)} (goal < 1 s)`,
    );
    console.log(
      `  palette over ${ROOTS + CHILDREN} tasks, keystrokes → results shown: ${summary(palette)} (goal < 100 ms)`,
    );
    console.log(
      `  task graph of a ${graph.tasks}-task tree, navigation → every card laid out and painted: ${summary(graph.samples)} (goal < 1 s)`,
    );
  } finally {
    await browser.close();
    db.$client.close();
    await app.stop();
    scratch.cleanup();
  }
  // Its own app: the scheduler runs the parent and its children for real.
  const wake = await measureParentWake({ runs: RUNS });
  console.log(
    `  a child's end (its move to completed) → its parent's wake turn starting: ${summary(wake.samples)} (goal < 300 ms)`,
  );
}

/**
 * When (epoch ms, read in the page) the transcript shows its last message and scrolls: its pane is
 * taller inside than out, and moving it to the top takes.
 */
async function transcriptScrollable(page: Page, lastText: string): Promise<number> {
  const handle = await page.waitForFunction(
    (text) => {
      const pane = document.querySelector<HTMLElement>('[data-testid="chat-scroll"]');
      if (!pane?.textContent?.includes(text) || pane.scrollHeight <= pane.clientHeight) return false;
      const bottom = pane.scrollTop;
      pane.scrollTop = 0;
      const moved = pane.scrollTop === 0 && bottom > 0;
      pane.scrollTop = bottom;
      return moved ? Date.now() : false;
    },
    lastText,
    { polling: "raf", timeout: 60_000 },
  );
  return (await handle.jsonValue()) as number;
}

/** When (epoch ms, read in the page) the child's row first shows the status. */
async function rowStatus(page: Page, taskId: string, status: string): Promise<number> {
  const handle = await page.waitForFunction(
    ([id, want]) =>
      document.querySelector(`[data-testid="child-task"][data-task-id="${id}"]`)?.getAttribute("data-status") === want
        ? Date.now()
        : false,
    [taskId, status] as const,
    { polling: "raf", timeout: 30_000 },
  );
  return (await handle.jsonValue()) as number;
}

await main();
