import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiClient, ownerApi } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { seriousAxeViolations } from "../helpers/axe";
import { launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";
import { CloudPanel } from "../pages/cloud-panel";
import { SecretsPanel } from "../pages/secrets-panel";

const TOKEN = "hcloud-browser-test-token-0123456789abcdef0123456789abcdef0123";

describe("cloud VM settings in the web app", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: { context: BrowserContext; page: Page };
  let api: ApiClient;
  let panel: CloudPanel;
  const repos = makeTempDir("sam-cloud-settings-");

  beforeAll(async () => {
    [app, browser] = await Promise.all([startAppServer(), launchBrowser()]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    panel = new CloudPanel(owner.page, app.baseUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  it("the admin sets the instance's Hetzner settings; the token is taken once and never shown back", async () => {
    await panel.openInstance();
    expect(await seriousAxeViolations(owner.page)).toEqual([]);
    await panel.fill({ "Server type": "cx22", Location: "fsn1", "Tasks per VM": "many" });
    await panel.save();
    expect(await panel.outcome()).toMatch(/capacity: must be a whole number from 1 to 64/);

    await panel.fill({ "Hetzner API token": TOKEN, "Tasks per VM": "2", "Warm pool (idle VMs kept ready)": "1" });
    await panel.save();
    expect(await panel.outcome()).toBe("Cloud settings saved.");
    await owner.page.reload();
    await panel.status.waitFor();
    expect(await panel.status.textContent()).toMatch(/Token\s*set/);
    expect(await panel.form.getByLabel(/Hetzner API token/).inputValue()).toBe("");
    expect(await owner.page.content()).not.toContain(TOKEN);
    const shown = await api.get<{ settings: Record<string, unknown> }>("/api/cloud");
    expect(shown.body.settings).toMatchObject({ serverType: "cx22", capacity: 2, warmPool: 1, tokenSet: true });
    expect(JSON.stringify(shown.body)).not.toContain(TOKEN);
  });

  it("a project owner names the secret that holds the token; saving says so when it is missing", async () => {
    const project = await api.post<{ id: string }>("/api/projects", { repo: makeGitRepo(path.join(repos.dir, "p")) });
    await panel.openProject(project.body.id);
    await panel.fill({ "Server type": "cx32", Location: "nbg1" });
    await panel.save();
    expect(await panel.outcome()).toMatch(/no secret named HCLOUD_TOKEN/);

    const secrets = new SecretsPanel(owner.page);
    await secrets.add("HCLOUD_TOKEN", TOKEN, "other");
    await secrets.masked().first().waitFor();
    await panel.save();
    expect(await panel.outcome()).toBe("Cloud settings saved.");
    expect(await panel.status.textContent()).toContain("project secret HCLOUD_TOKEN");
    const stored = await api.get<{ settings: Record<string, unknown> }>(`/api/projects/${project.body.id}/cloud`);
    expect(stored.body.settings).toMatchObject({ scope: "project", serverType: "cx32", location: "nbg1" });
    expect(await seriousAxeViolations(owner.page)).toEqual([]);
  });
});
