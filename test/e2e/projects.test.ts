import fs from "node:fs";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { mintLoginLink } from "../helpers/login-link";
import { makeTempDir } from "../helpers/temp-dir";
import { AccountPage } from "../pages/account-page";
import { ChatComposer } from "../pages/chat-composer";
import { MembersSettings } from "../pages/members-settings";
import { NewProjectForm } from "../pages/new-project-form";
import { SecretsPanel } from "../pages/secrets-panel";
import { SettingsForm } from "../pages/settings-form";

async function submitRepo(page: Page, repo: string): Promise<void> {
  await page.getByLabel("Repository (local path or git URL)").fill(repo);
  await page.getByRole("button", { name: "Create project" }).click();
}

describe("projects in the web app", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: { context: BrowserContext; page: Page };
  const repos = makeTempDir("sam-repos-");
  let projectId: string;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startAppServer(), launchBrowser()]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  it("creates a project from a local git repository and lists it", async () => {
    const repo = makeGitRepo(path.join(repos.dir, "alpha"), { branch: "trunk" });
    const { page } = owner;
    await submitRepo(page, repo);
    await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
    projectId = page.url().split("/").pop()!;
    await page.getByRole("heading", { name: "alpha" }).waitFor();
    expect(await page.getByText("trunk").count()).toBeGreaterThan(0);

    await page.goto(`${app.baseUrl}/projects`);
    const list = page.getByTestId("project-list");
    expect(await list.textContent()).toContain("alpha");
    expect(await list.textContent()).toContain(repo);
  });

  it("gives a path that is not a repository, a missing path and a malformed URL each their own error", async () => {
    const { page } = owner;
    const plainDir = path.join(repos.dir, "not-a-repo");
    fs.mkdirSync(plainDir);
    const cases = [
      [plainDir, `Not a git repository: ${plainDir}`],
      [path.join(repos.dir, "missing"), `No such path: ${path.join(repos.dir, "missing")}`],
      ["https://", "Malformed repository URL"],
    ] as const;
    const seen = new Set<string>();
    for (const [input, expected] of cases) {
      await page.goto(`${app.baseUrl}/projects`);
      await submitRepo(page, input);
      const error = page.locator("#repo-error");
      await error.waitFor();
      const text = (await error.textContent()) ?? "";
      expect(text).toContain(expected);
      seen.add(text);
    }
    expect(seen.size).toBe(3);
    await page.goto(`${app.baseUrl}/projects`);
    expect(await page.getByTestId("project-list").locator("li").count()).toBe(1);
  });

  it("refuses settings out of range with the field named, and keeps valid ones", async () => {
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}/settings`);
    await page.getByLabel(/^Max depth/).fill("11");
    await page.getByLabel(/^Stop grace/).fill("31");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.locator("#maxDepth-error").waitFor();
    expect(await page.locator("#maxDepth-error").textContent()).toContain("Max depth must be between 1 and 10");
    expect(await page.locator("#stopGraceSeconds-error").textContent()).toContain("between 0 and 30");

    await page.reload();
    expect(await page.getByLabel(/^Max depth/).inputValue()).toBe("3");

    await page.getByLabel(/^Max depth/).fill("4");
    await page.getByLabel(/^Children per parent/).fill("7");
    await page.getByLabel(/^Stop grace/).fill("12");
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("status").filter({ hasText: "Settings saved." }).waitFor();
    await page.reload();
    expect(await page.getByLabel(/^Max depth/).inputValue()).toBe("4");
    expect(await page.getByLabel(/^Children per parent/).inputValue()).toBe("7");
    expect(await page.getByLabel(/^Stop grace/).inputValue()).toBe("12");
  });

  it("refuses out-of-range settings through the API with the field named", async () => {
    const res = await owner.context.request.patch(`${app.baseUrl}/api/projects/${projectId}`, {
      data: { maxChildren: 21, model: "nope" },
    });
    expect(res.status()).toBe(400);
    const body = await res.json();
    expect(body.error.code).toBe("invalid_input");
    expect(body.error.details.fields.map((f: { field: string }) => f.field).sort()).toEqual(["maxChildren", "model"]);
    const after = await (await owner.context.request.get(`${app.baseUrl}/api/projects/${projectId}`)).json();
    expect(after.maxChildren).toBe(7);
  });

  it("stores a secret without ever showing its value again", async () => {
    const { page } = owner;
    const value = "sk-test-0123456789abcdef";
    await page.goto(`${app.baseUrl}/projects/${projectId}/settings`);
    await page.getByLabel("Secret name").fill("ANTHROPIC_API_KEY");
    await page.getByLabel("Secret value").fill(value);
    await page.getByRole("button", { name: "Save secret" }).click();
    await page.getByTestId("secret-masked").waitFor();
    expect(await page.getByTestId("secret-masked").textContent()).toBe("••••cdef");
    await page.reload();
    expect(await page.content()).not.toContain(value);
  });

  it("a refused project form keeps the typed values and shows one message per field", async () => {
    const form = new NewProjectForm(owner.page, app.baseUrl);
    await form.open();
    const longName = "n".repeat(101);
    await form.submit("   ", longName);
    expect(await form.repoError()).toBe("A repository path or URL is required");
    expect(await form.nameError()).toBe("Name must be at most 100 characters");
    expect(await form.values()).toEqual({ repo: "   ", name: longName });
    expect((await form.alerts()).sort()).toEqual(
      ["A repository path or URL is required", "Name must be at most 100 characters"].sort(),
    );

    // A refusal about one field (the repository is not there) keeps the other field too.
    const missing = path.join(repos.dir, "nowhere");
    await form.submit(missing, "Kept name");
    await owner.page.locator("#repo-error").filter({ hasText: "No such path" }).waitFor();
    expect(await form.values()).toEqual({ repo: missing, name: "Kept name" });
    expect(await form.alerts()).toEqual([`No such path: ${missing}`]);
  });

  it("a refused settings form keeps the typed values", async () => {
    const settings = new SettingsForm(owner.page, app.baseUrl);
    await settings.open(projectId);
    const stored = await settings.values(["Max depth", "Agent harness"]);
    const typed = {
      "Max depth": "11",
      "Children per parent": "6",
      "Stop grace": "31",
      "Agent harness": "codex",
      Provider: "openai-compatible",
      Model: "no pe",
      "Agent network": "none",
    };
    await settings.fill(typed);
    await settings.save();
    expect(await settings.error("maxDepth")).toBe("Max depth must be between 1 and 10");
    expect(await settings.error("stopGraceSeconds")).toBe("Stop grace seconds must be between 0 and 30");
    expect(await settings.error("modelId")).toBe(
      "Model must be scripted, or provider:model where the provider is anthropic, openai, google or openai-compatible",
    );
    expect(await settings.values(Object.keys(typed))).toEqual(typed);
    // One message per field, and no banner repeating them.
    expect(await settings.alerts()).toHaveLength(3);
    expect((await settings.alerts()).join(" ")).not.toContain("Invalid input");
    // The first refused field has the focus.
    expect(await owner.page.evaluate(() => document.activeElement?.id)).toBe("maxDepth");

    await owner.page.reload();
    expect(await settings.values(["Max depth", "Agent harness"])).toEqual(stored);
  });

  it("a saved settings form shows what was saved, selects included", async () => {
    const settings = new SettingsForm(owner.page, app.baseUrl);
    await settings.open(projectId);
    await settings.fill({ "Agent network": "none" });
    await settings.save();
    await settings.form().getByRole("status").filter({ hasText: "Settings saved." }).waitFor();
    expect(await settings.values(["Agent network"])).toEqual({ "Agent network": "none" });
    await owner.page.reload();
    expect(await settings.values(["Agent network"])).toEqual({ "Agent network": "none" });
    await settings.fill({ "Agent network": "open" });
    await settings.save();
    await settings.form().getByRole("status").filter({ hasText: "Settings saved." }).waitFor();
  });

  it("a refused secret form keeps the typed values; a saved one is emptied", async () => {
    const settings = new SettingsForm(owner.page, app.baseUrl);
    await settings.open(projectId);
    const secrets = new SecretsPanel(owner.page);
    await secrets.add("lower-case", "sk-kept-value", "git_token");
    expect(await secrets.nameError()).toBe("Name must be UPPER_SNAKE_CASE, up to 64 characters");
    expect(await secrets.values()).toEqual({ name: "lower-case", kind: "git_token", value: "sk-kept-value" });
    expect(await secrets.alerts()).toHaveLength(1);

    await secrets.form().getByLabel("Secret name").fill("GIT_TOKEN");
    await secrets.form().getByRole("button", { name: "Save secret" }).click();
    await secrets.masked().filter({ hasText: "alue" }).waitFor();
    expect(await secrets.values()).toEqual({ name: "", kind: "model_api_key", value: "" });
  });

  it("a refused invitation keeps the typed values", async () => {
    const members = new MembersSettings(owner.page, app.baseUrl);
    await members.open(projectId);
    expect(await members.invite("not a login!", "owner")).toBe("Must be an email address or a GitHub login");
    expect(await members.values()).toEqual({ invitee: "not a login!", role: "owner" });
    expect(await members.alerts()).toHaveLength(1);
  });

  it("a refused token form keeps the typed values", async () => {
    const account = new AccountPage(owner.page, app.baseUrl);
    await account.open();
    expect(await account.createRefusedToken("   ", "7 days")).toEqual(["Give the token a name"]);
    expect(await account.newTokenValues()).toEqual({ name: "   ", expiry: "7 days" });
  });

  it("the composer counts near its limit and refuses text over it instead of cutting it", async () => {
    const { page } = owner;
    await page.goto(`${app.baseUrl}/projects/${projectId}`);
    const composer = new ChatComposer(page);
    await composer.type("a".repeat(28_000));
    expect(await composer.counter().count()).toBe(0);
    await composer.type("a".repeat(29_000));
    expect(await composer.counter().textContent()).toBe("29,000 / 32,000");

    await composer.type("a".repeat(32_005));
    await composer.counter().filter({ hasText: "5 characters over the limit of 32,000" }).waitFor();
    expect((await composer.box().inputValue()).length).toBe(32_005);
    expect(await composer.sendButton().isDisabled()).toBe(true);
    const url = page.url();
    await composer.pressEnter();
    expect(page.url()).toBe(url);
    expect((await composer.box().inputValue()).length).toBe(32_005);

    await composer.type("a".repeat(32_000));
    expect(await composer.counter().textContent()).toBe("32,000 / 32,000");
    expect(await composer.sendButton().isDisabled()).toBe(false);
    await composer.type("");
  });

  it("hides the project from a second user: 404 through pages and API, and no change possible", async () => {
    const link = await mintLoginLink(app, "second@example.com");
    const second = await signInWithLink(browser, link, app.baseUrl);
    try {
      expect(await second.page.getByTestId("project-list").count()).toBe(0);
      for (const url of [`/projects/${projectId}`, `/projects/${projectId}/settings`]) {
        const res = await second.page.goto(`${app.baseUrl}${url}`);
        expect(res?.status()).toBe(404);
        expect(await second.page.content()).not.toContain("alpha");
      }
      const get = await second.context.request.get(`${app.baseUrl}/api/projects/${projectId}`);
      expect(get.status()).toBe(404);
      const patch = await second.context.request.patch(`${app.baseUrl}/api/projects/${projectId}`, {
        data: { maxDepth: 9 },
      });
      expect(patch.status()).toBe(404);
      const list = await (await second.context.request.get(`${app.baseUrl}/api/projects`)).json();
      expect(list).toEqual([]);
      const after = await (await owner.context.request.get(`${app.baseUrl}/api/projects/${projectId}`)).json();
      expect(after.maxDepth).toBe(4);
    } finally {
      await second.context.close();
    }
  });
});
