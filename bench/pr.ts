/**
 * `npm run bench:pr`: a pull request of 200 files and 10,000 changed lines (a scripted task edits
 * half the lines of 200 files of 50). Prints the PR page's server time (the whole streamed body),
 * the core's reads behind it, the time until Chromium shows the first file's diff, until every
 * file's diff is drawn and until all are highlighted (median of 5), and SAM's merge (mergePullRequest, into the checked-out base,
 * median of 5) beside a plain `git merge` of the same branches in a clone.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import { eq } from "drizzle-orm";
import { pullRequests } from "@/db/schema";
import { mergePullRequest } from "@/lib/pulls/merge";
import { pullRequestDiff, showPullRequest } from "@/lib/pulls/pull-json";
import { ensureInstanceOwner } from "@/lib/users";
import { ensureBuilt } from "../scripts/build-state";
import { isTerminal, openAppDb, ownerApi, scriptPrompt, waitForTask } from "../test/helpers/api";
import { startAppServer } from "../test/helpers/app-server";
import { launchBrowser, signInWithLink } from "../test/helpers/browser";
import { git, makeGitRepo } from "../test/helpers/git";
import { makeTempDir } from "../test/helpers/temp-dir";
import { describe, fmt } from "./stats";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FILES = 200;
const LINES = 50;

const summary = (samples: number[]) => {
  const s = describe(samples);
  return `median ${fmt(s.median)} (min ${fmt(s.min)}, max ${fmt(s.max)}, n=${s.n})`;
};

async function timed<T>(work: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await work();
  return [value, performance.now() - t0];
}

function sourceFile(n: number): string {
  return Array.from({ length: LINES }, (_, i) => `export const value${n}_${i} = ${i};\n`).join("");
}

async function main() {
  await ensureBuilt();
  const scratch = makeTempDir("sam-bench-pr-");
  // The scheduler ticks at its default (1 s), as it does for users; the tests tick faster to finish sooner.
  const app = await startAppServer({ env: { SAM_HEARTBEAT_MS: "500" } });
  const db = openAppDb(app);
  const browser = await launchBrowser();
  try {
    const api = await ownerApi(app);
    const files: Record<string, string> = { "README.md": "# bench\n" };
    for (let n = 0; n < FILES; n++) files[`src/file-${String(n).padStart(3, "0")}.ts`] = sourceFile(n);
    const repo = makeGitRepo(path.join(scratch.dir, "repo"), { files });
    const projectId = (await api.post<{ id: string }>("/api/projects", { repo })).body.id;

    // Every other line of every file changes: 25 deletions and 25 additions in each of 200 files.
    const created = await api.post<{ id: string }>("/api/tasks", {
      projectId,
      mode: "task",
      prompt: scriptPrompt("Bump every other value", [
        { tool: "shell", args: { command: "for f in src/*.ts; do sed -i '1~2s/;$/ + 1;/' \"$f\"; done" } },
        { tool: "complete_task", args: { summary: "Bumped every other value" } },
      ]),
    });
    const task = await waitForTask(api, created.body.id, isTerminal, 180_000);
    if (task.status !== "completed") throw new Error(`The task ended ${task.status}: ${task.failureReason}`);
    let pr = await db.query.pullRequests.findFirst({ where: eq(pullRequests.taskId, task.id) });
    for (let i = 0; i < 300 && !pr?.headCommit; i++) {
      await new Promise((r) => setTimeout(r, 100));
      pr = await db.query.pullRequests.findFirst({ where: eq(pullRequests.taskId, task.id) });
    }
    if (!pr?.headCommit) throw new Error("The task opened no counted pull request");
    const changed = pr.additions + pr.deletions;
    // The base moves on meanwhile, so neither merge is a fast-forward.
    execFileSync("sh", ["-c", "echo moved > MOVED && git add MOVED && git commit -qm 'Base moves on'"], { cwd: repo });

    const coreDetail: number[] = [];
    const coreDiff: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      coreDetail.push((await timed(() => showPullRequest(db, pr)))[1]);
      coreDiff.push((await timed(() => pullRequestDiff(db, pr)))[1]);
    }

    const url = `${app.baseUrl}/projects/${projectId}/pulls/${pr.number}`;
    const { context } = await signInWithLink(browser, app.signInLink, app.baseUrl);
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join("; ");
    const serverTimes: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const [res, ms] = await timed(async () => {
        const r = await fetch(url, { headers: { cookie } });
        await r.text();
        return r;
      });
      if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
      if (i > 0) serverTimes.push(ms);
    }

    const firstDiff: number[] = [];
    const allDiffs: number[] = [];
    const allColoured: number[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const page = await context.newPage();
      await page.setViewportSize({ width: 1280, height: 800 });
      const t0 = Date.now();
      await page.goto(url, { waitUntil: "commit" });
      await page.locator('[data-testid="diff-body"] .diff-line').first().waitFor({ timeout: 60_000 });
      const firstAt = Date.now();
      await page.locator('[data-testid="pull-diffs"][data-drawn="all"]').waitFor({ timeout: 120_000 });
      const handle = await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid="diff-body"] table').length >= n && Date.now(),
        FILES,
        { polling: "raf", timeout: 120_000 },
      );
      const allAt = (await handle.jsonValue()) as number;
      const coloured = await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid="diff-body"][data-highlight="done"]').length >= n && Date.now(),
        FILES,
        { polling: "raf", timeout: 120_000 },
      );
      const colouredAt = (await coloured.jsonValue()) as number;
      if (i > 0) {
        firstDiff.push(firstAt - t0);
        allDiffs.push(allAt - t0);
        allColoured.push(colouredAt - t0);
      }
      await page.close();
    }

    // Plain git: the same two commits merged in a clone, each run from a fresh clone.
    const head = pr.headBranch;
    const plain: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const clone = path.join(scratch.dir, `clone-${i}`);
      git(scratch.dir, "clone", "-q", repo, clone);
      git(clone, "config", "user.name", "bench");
      git(clone, "config", "user.email", "bench@example.com");
      const t0 = performance.now();
      git(clone, "merge", "-q", "--no-ff", "-m", "Merge", `origin/${head}`);
      plain.push(performance.now() - t0);
    }
    // SAM's merge into the checked-out base, as often: the base, the branch and the PR are put back between runs.
    const owner = await ensureInstanceOwner(db);
    const baseBefore = git(repo, "rev-parse", "HEAD");
    const headCommit = git(repo, "rev-parse", head);
    const samMerges: number[] = [];
    let mergeCommit = "";
    for (let i = 0; i < RUNS; i++) {
      if (i > 0) {
        git(repo, "reset", "-q", "--hard", baseBefore);
        git(repo, "update-ref", `refs/heads/${head}`, headCommit);
        await db
          .update(pullRequests)
          .set({ state: "open", mergedAt: null, mergedByUserId: null, mergeCommit: null, mergeStrategy: null })
          .where(eq(pullRequests.id, pr.id));
      }
      const [merged, ms] = await timed(() => mergePullRequest(db, pr, { userId: owner.id, strategy: "merge" }));
      samMerges.push(ms);
      mergeCommit = merged.mergeCommit;
    }

    console.log(`bench:pr — a pull request of ${pr.changedFiles} files, ${changed.toLocaleString("en")} changed lines`);
    console.log(`  GET /projects/<id>/pulls/<n> (server response, whole streamed body): ${summary(serverTimes)}`);
    console.log(`    of which showPullRequest (files, commits, merge check): ${summary(coreDetail)}`);
    console.log(`    and pullRequestDiff (every file's patch):             ${summary(coreDiff)}`);
    console.log(`  Chromium, navigation → first file's diff shown: ${summary(firstDiff)} (goal < 1 s)`);
    console.log(`  Chromium, navigation → all ${FILES} diffs drawn:   ${summary(allDiffs)}`);
    console.log(`  Chromium, navigation → all ${FILES} highlighted:   ${summary(allColoured)}`);
    console.log(
      `  merge: SAM's mergePullRequest ${summary(samMerges)} (last ${mergeCommit.slice(0, 12)}); plain git merge ${summary(plain)}; ratio of medians ${(describe(samMerges).median / describe(plain).median).toFixed(2)}× (goal ≤ 2×)`,
    );
  } finally {
    await browser.close();
    db.$client.close();
    await app.stop();
    scratch.cleanup();
  }
}

await main();
