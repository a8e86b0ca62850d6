import path from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { runSam } from "../helpers/cli";
import { makeGitRepo } from "../helpers/git";
import { mintLoginLink } from "../helpers/login-link";
import { makeTempDir } from "../helpers/temp-dir";
import { NewProjectForm } from "../pages/new-project-form";

describe("only the instance admin adds projects from the server's disk or lists every project", () => {
  let app: AppServer;
  let browser: Browser;
  let admin: BrowserSession;
  let member: BrowserSession;
  const repos = makeTempDir("sam-admin-repos-");

  const allProjects = async () => {
    const run = await runSam(["project", "list", "--all", "--json"], { SAM_DATA_DIR: app.dataDir });
    expect(run.code).toBe(0);
    return JSON.parse(run.stdout) as { id: string; name: string; repo: string }[];
  };

  beforeAll(async () => {
    [app, browser] = await Promise.all([startAppServer({ env: { SAM_SCHEDULER: "off" } }), launchBrowser()]);
    admin = await signInWithLink(browser, app.signInLink, app.baseUrl);
    member = await signInWithLink(browser, await mintLoginLink(app, "member@example.com"), app.baseUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  it("a member who is not admin cannot add a file:// or local-path project, in the form or through the API", async () => {
    const repo = makeGitRepo(path.join(repos.dir, "host-repo"));
    const form = new NewProjectForm(member.page, app.baseUrl);
    await form.open();
    expect(await form.repositoryLabel()).toBe("Repository (git URL)");
    await form.submit(`file://${repo}`);
    expect(await form.repoError()).toBe(
      "Only the instance admin can add a project from a local path or file:// URL; give a remote URL (https://, ssh:// or git@host:path)",
    );

    for (const location of [repo, `file://${repo}`, "FILE:///etc"]) {
      const res = await member.context.request.post(`${app.baseUrl}/api/projects`, { data: { repo: location } });
      expect(res.status(), location).toBe(403);
      expect((await res.json()).error.details.fields).toEqual([{ field: "repo", message: expect.any(String) }]);
    }
    // Refused before the path is looked at: a missing path gets the same answer as a real one.
    const missing = await member.context.request.post(`${app.baseUrl}/api/projects`, {
      data: { repo: path.join(repos.dir, "no-such-dir") },
    });
    expect(missing.status()).toBe(403);
    expect(await allProjects()).toEqual([]);
  });

  it("the admin adds the same file:// repository", async () => {
    const repo = makeGitRepo(path.join(repos.dir, "admin-repo"));
    const form = new NewProjectForm(admin.page, app.baseUrl);
    await form.open();
    expect(await form.repositoryLabel()).toBe("Repository (local path or git URL)");
    await form.submit(`file://${repo}`);
    await admin.page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
    expect((await allProjects()).map((p) => p.repo)).toEqual([`file://${repo}`]);
  });

  it("only the admin lists every project through the API (?all=1, like sam project list --all)", async () => {
    const refused = await member.context.request.get(`${app.baseUrl}/api/projects?all=1`);
    expect(refused.status()).toBe(403);
    expect((await refused.json()).error.message).toBe("Only the instance admin can list every project of the instance");
    expect(await (await member.context.request.get(`${app.baseUrl}/api/projects`)).json()).toEqual([]);

    const listed = await admin.context.request.get(`${app.baseUrl}/api/projects?all=1`);
    expect(listed.status()).toBe(200);
    expect((await listed.json()).map((p: { name: string }) => p.name)).toEqual(["admin-repo"]);
  });
});
