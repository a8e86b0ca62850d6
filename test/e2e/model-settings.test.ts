import net from "node:net";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintPersonalToken } from "@/lib/auth/personal-tokens";
import { addMember } from "@/lib/projects/projects";
import { createLocalUser, ensureInstanceOwner } from "@/lib/users";
import { type ApiClient, openAppDb, ownerApi } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { type OpenAIFixture, startOpenAIFixture } from "../helpers/openai-fixture";
import { makeTempDir } from "../helpers/temp-dir";
import { SecretsPanel } from "../pages/secrets-panel";
import { SettingsForm } from "../pages/settings-form";

/** A base URL where nothing listens: a port bound and released again. */
async function deadBaseUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}

describe("model settings in the web app", () => {
  let app: AppServer;
  let browser: Browser;
  let fixture: OpenAIFixture;
  let owner: { context: BrowserContext; page: Page };
  let api: ApiClient;
  let settings: SettingsForm;
  let secrets: SecretsPanel;
  let projectId: string;
  const repos = makeTempDir("sam-model-settings-");

  beforeAll(async () => {
    [app, browser, fixture] = await Promise.all([
      startAppServer(),
      launchBrowser(),
      startOpenAIFixture({ models: ["fixture-model", "other-model"] }),
    ]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    const created = await api.post<{ id: string }>("/api/projects", {
      repo: makeGitRepo(path.join(repos.dir, "project")),
    });
    expect(created.status).toBe(201);
    projectId = created.body.id;
    settings = new SettingsForm(owner.page, app.baseUrl);
    secrets = new SecretsPanel(owner.page);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await fixture?.close();
    repos.cleanup();
  });

  it("a provider whose key is not stored says so in the model list, and saving it is refused naming the secret", async () => {
    await settings.open(projectId);
    await settings.chooseProvider("anthropic");
    expect(await settings.modelListProblem("ANTHROPIC_API_KEY")).toContain(
      "Anthropic needs an ANTHROPIC_API_KEY secret: add it under the project's secrets",
    );
    // The list could not load: the model is typed instead.
    await settings.fill({ Model: "claude-sonnet-4-5" });
    await settings.save();
    expect(await settings.error("modelId")).toBe(
      "Anthropic needs an ANTHROPIC_API_KEY secret: add it under the project's secrets before choosing anthropic:claude-sonnet-4-5",
    );
    expect(await settings.values(["Provider", "Model"])).toEqual({ Provider: "anthropic", Model: "claude-sonnet-4-5" });
    const stored = await api.get<{ model: string }>(`/api/projects/${projectId}`);
    expect(stored.body.model).toBe("scripted");
  });

  it("an OpenAI-compatible server's models are listed live, Test connection counts them, and the choice is saved", async () => {
    await settings.open(projectId);
    await secrets.add("OPENAI_COMPATIBLE_API_KEY", fixture.apiKey, "model_api_key");
    await secrets.masked().first().waitFor();
    await owner.page.reload();
    await settings.chooseProvider("openai-compatible");
    await settings.setBaseUrl(fixture.url);
    expect(await settings.modelOptions()).toEqual(["fixture-model", "other-model"]);
    await settings.fill({ Model: "other-model" });
    expect(await settings.testConnection("Connected")).toBe(
      `Connected to ${fixture.url}: 2 models, other-model among them.`,
    );
    await settings.save();
    await settings.form().getByRole("status").filter({ hasText: "Settings saved." }).waitFor();
    const stored = await api.get<{ model: string; modelBaseUrl: string }>(`/api/projects/${projectId}`);
    expect(stored.body).toMatchObject({ model: "openai-compatible:other-model", modelBaseUrl: fixture.url });

    await owner.page.reload();
    expect(await settings.modelOptions()).toEqual(["fixture-model", "other-model"]);
    expect(await settings.values(["Provider", "Base URL", "Model"])).toEqual({
      Provider: "openai-compatible",
      "Base URL": fixture.url,
      Model: "other-model",
    });
    // The key reached the server as a bearer token; the page never held it.
    expect(fixture.requests.at(-1)?.headers.authorization).toBe(`Bearer ${fixture.apiKey}`);
    expect(await owner.page.content()).not.toContain(fixture.apiKey);
  });

  it("Test connection names an unreachable base URL and a refused key", async () => {
    const dead = await deadBaseUrl();
    await settings.open(projectId);
    await settings.setBaseUrl(dead);
    expect(await settings.modelListProblem("cannot reach")).toContain(`cannot reach ${dead}: connection refused`);
    expect(await settings.testConnection("cannot reach")).toBe(`cannot reach ${dead}: connection refused`);

    await secrets.add("OPENAI_COMPATIBLE_API_KEY", "sk-not-the-fixture-key", "model_api_key");
    await owner.page.reload();
    expect(await settings.testConnection("refused")).toBe(
      "the provider refused the key (HTTP 401): check the OPENAI_COMPATIBLE_API_KEY secret",
    );
    expect(await settings.modelListProblem("refused")).toContain("the provider refused the key (HTTP 401)");
  });

  it("over HTTP a member lists the saved server's models, but cannot send the project's key to another URL", async () => {
    const db = openAppDb(app);
    let token: string;
    try {
      const member = await createLocalUser(db, { email: "model-member@example.com" });
      await addMember(db, (await ensureInstanceOwner(db)).id, projectId, { email: "model-member@example.com" });
      token = (await mintPersonalToken(db, member.id, { name: "test" })).token;
    } finally {
      db.$client.close();
    }
    const asMember = (route: string, init: RequestInit = {}) =>
      fetch(`${app.baseUrl}/api/projects/${projectId}${route}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      });
    // The saved key is the wrong one by now: the saved server refuses it, and the answer says so.
    const saved = await asMember("/models?provider=openai-compatible");
    expect(saved.status).toBe(503);
    expect((await saved.json()).error.message).toMatch(/the provider refused the key/);

    const attacker = await startOpenAIFixture();
    try {
      const listed = await asMember(`/models?provider=openai-compatible&baseUrl=${encodeURIComponent(attacker.url)}`);
      expect(listed.status).toBe(403);
      const tested = await asMember("/test-connection", {
        method: "POST",
        body: JSON.stringify({ provider: "openai-compatible", baseUrl: attacker.url }),
      });
      expect(tested.status).toBe(403);
      expect((await tested.json()).error.message).toMatch(/Only a project owner can try a base URL that is not saved/);
      expect(attacker.requests).toEqual([]);
    } finally {
      await attacker.close();
    }
    const bad = await asMember("/models?provider=mistral");
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.details.fields.map((f: { field: string }) => f.field)).toEqual(["provider"]);
  });

  it("the acp harness asks for its agent command", async () => {
    await settings.open(projectId);
    await settings.fill({ "Agent harness": "acp" });
    await settings.save();
    expect(await settings.error("agentCommand")).toBe(
      "The acp harness needs an agent command (the command that starts the ACP agent)",
    );
    await settings.fill({ "Agent command": "my-agent --acp", "Agent permission requests": "deny" });
    await settings.save();
    await settings.form().getByRole("status").filter({ hasText: "Settings saved." }).waitFor();
    const stored = await api.get<Record<string, unknown>>(`/api/projects/${projectId}`);
    expect(stored.body).toMatchObject({ harness: "acp", agentCommand: "my-agent --acp", permissionPolicy: "deny" });
  });
});
