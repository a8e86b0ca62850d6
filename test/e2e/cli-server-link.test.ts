import fs from "node:fs";
import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { launchBrowser, signInWithLink } from "../helpers/browser";
import { runSam } from "../helpers/cli";
import { freePort } from "../helpers/free-port";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

/** A port that was free and is not the default 3000, which the CLI would guess without the record. */
async function nonDefaultPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port !== 3000) return port;
  }
}

describe("the CLI beside a server started on a non-default port", () => {
  const temp = makeTempDir("sam-cli-server-");
  const dataDir = path.join(temp.dir, "data");
  const record = path.join(dataDir, "server.json");
  let app: AppServer | undefined;
  let browser: Browser;
  let port: number;
  let env: Record<string, string>;

  beforeAll(async () => {
    port = await nonDefaultPort();
    // No scheduler: the task below stays queued, and no daemon is started.
    [app, browser] = await Promise.all([
      startAppServer({ port, dataDir, env: { SAM_SCHEDULER: "off" } }),
      launchBrowser(),
    ]);
    // The CLI gets the data dir only: neither PORT nor SAM_PUBLIC_URL tells it where the server is.
    env = { SAM_DATA_DIR: dataDir };
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    temp.cleanup();
  });

  it("sam login-link prints a link to the running server's port, and the link signs the owner in", async () => {
    expect(fs.statSync(record).mode & 0o777).toBe(0o600);
    const run = await runSam(["login-link"], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    const link = run.stdout.trim();
    expect(new URL(link).port).toBe(String(port));
    expect(link.startsWith(`${app!.baseUrl}/login/`)).toBe(true);

    // Reaching the projects page proves it: signed-out visitors are sent to /signin.
    const { context } = await signInWithLink(browser, link, app!.baseUrl);
    await context.close();
  });

  it("sam task show takes the first 8 characters of a task id", async () => {
    const repo = makeGitRepo(path.join(temp.dir, "repo"));
    const project = JSON.parse((await runSam(["project", "add", repo, "--json"], env)).stdout);
    const created = await runSam(["task", "create", "--project", project.id, "--prompt", "Tidy the README"], env);
    expect(created.code, created.stderr).toBe(0);
    const id = /Queued task (\S+)/.exec(created.stdout)?.[1];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);

    const shown = await runSam(["task", "show", id!.slice(0, 8)], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`Tidy the README (${id})`);
    expect(shown.stdout).toMatch(/status: +queued/);
  });

  it("a clean stop removes the record, and sam login-link then says no server runs", async () => {
    await app!.stop();
    app = undefined;
    expect(fs.existsSync(record)).toBe(false);
    const run = await runSam(["login-link"], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/no running server was found/);
    expect(new URL(run.stdout.trim()).port).toBe("3000");
  });
});
