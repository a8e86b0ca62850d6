import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Db } from "@/db/client";
import { chatSessions, tasks } from "@/db/schema";
import { SamError } from "@/lib/errors";
import { listModels, testConnection } from "@/lib/models/model-list";
import { listProjectModels, testProjectConnection } from "@/lib/models/project-connection";
import { cleanTitle, refineSessionTitle } from "@/lib/models/session-title";
import { addMember, createProject, getProjectForUser, updateProjectSettings } from "@/lib/projects/projects";
import { instanceSecretKey } from "@/lib/secrets/instance-key";
import { setSecret } from "@/lib/secrets/store";
import { createTask } from "@/lib/tasks/create-task";
import { createTaskInActiveProject } from "@/lib/tasks/create-task-in-active-project";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { type OpenAIFixture, startOpenAIFixture } from "../helpers/openai-fixture";

// The project functions read the instance key as the server does.
process.env.SAM_SECRET_KEY = randomBytes(32).toString("hex");

let fixture: OpenAIFixture;
let db: Db;
let cleanup: () => void;
let owner: User;
let member: User;
let projectId: string;
/** A base URL where nothing listens: a port bound and released again. */
let deadUrl: string;

async function freedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function samErrorOf(promise: Promise<unknown>): Promise<SamError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!SamError.is(err)) throw new Error(`expected a SamError, got ${String(err)}`);
  return err;
}

beforeAll(async () => {
  fixture = await startOpenAIFixture({ models: ["qwen3-coder", "llama3.1:8b"] });
  deadUrl = `http://127.0.0.1:${await freedPort()}/v1`;
  const testDb = await makeTestDb();
  db = testDb.db;
  cleanup = testDb.cleanup;
  owner = await ensureInstanceOwner(db);
  member = await createLocalUser(db, { email: "models-member@example.com" });
  projectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(testDb.dir, "repo")) })).id;
  await addMember(db, owner.id, projectId, { email: "models-member@example.com" });
});
afterAll(async () => {
  await fixture?.close();
  cleanup?.();
});

describe("a provider's models, live", () => {
  test("an OpenAI-compatible server lists its models with the key as a bearer token", async () => {
    const models = await listModels({ provider: "openai-compatible", baseUrl: fixture.url, apiKey: fixture.apiKey });
    expect(models).toEqual([{ id: "llama3.1:8b" }, { id: "qwen3-coder" }]);
    const request = fixture.requests.at(-1);
    expect(request).toMatchObject({ method: "GET", path: "/v1/models" });
    expect(request?.headers.authorization).toBe(`Bearer ${fixture.apiKey}`);
  });

  test("a wrong key is the provider refusing it, naming the secret to check", async () => {
    const err = await samErrorOf(
      listModels({ provider: "openai-compatible", baseUrl: fixture.url, apiKey: "sk-wrong-0000" }),
    );
    expect(err.details?.problem).toBe("refused_key");
    expect(err.message).toBe("the provider refused the key (HTTP 401): check the OPENAI_COMPATIBLE_API_KEY secret");
    // The provider's own message is not repeated: providers quote part of the key in it.
    expect(err.message).not.toContain("sk-wrong");
  });

  test("a server that wants a key when none is stored says which secret to add", async () => {
    const err = await samErrorOf(listModels({ provider: "openai-compatible", baseUrl: fixture.url }));
    expect(err.message).toBe("the server asks for a key (HTTP 401): add an OPENAI_COMPATIBLE_API_KEY secret");
  });

  test("an unreachable base URL is named with the reason", async () => {
    const err = await samErrorOf(listModels({ provider: "openai-compatible", baseUrl: deadUrl }));
    expect(err.details?.problem).toBe("unreachable");
    expect(err.message).toBe(`cannot reach ${deadUrl}: connection refused`);
  });

  test("a base URL without the model list (no /v1) says so", async () => {
    const base = fixture.url.replace(/\/v1$/, "");
    const err = await samErrorOf(listModels({ provider: "openai-compatible", baseUrl: base, apiKey: fixture.apiKey }));
    expect(err.details?.problem).toBe("not_found");
    expect(err.message).toMatch(/has no model list \(HTTP 404\): is the base URL right\?/);
  });

  test("a hosted provider without its key is refused before anything is sent", async () => {
    const before = fixture.requests.length;
    for (const [provider, secret] of [
      ["anthropic", "ANTHROPIC_API_KEY"],
      ["openai", "OPENAI_API_KEY"],
      ["google", "GEMINI_API_KEY"],
    ] as const) {
      const err = await samErrorOf(listModels({ provider, baseUrl: fixture.url }));
      expect(err.details?.problem).toBe("missing_key");
      expect(err.message).toContain(`needs an ${secret} secret`);
    }
    expect(fixture.requests.length).toBe(before);
  });

  test("Gemini's list is read in its own shape, and its 400 for a wrong key is a refused key", async () => {
    // Gemini's model list as Google serves it: key in x-goog-api-key, a wrong one answered with 400.
    const gemini = http.createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.headers["x-goog-api-key"] !== "gemini-key-0123456789") {
        res.writeHead(400);
        res.end(
          JSON.stringify({
            error: {
              code: 400,
              message: "API key not valid. Please pass a valid API key.",
              status: "INVALID_ARGUMENT",
              details: [{ reason: "API_KEY_INVALID" }],
            },
          }),
        );
        return;
      }
      res.end(JSON.stringify({ models: [{ name: "models/gemini-2.5-pro", displayName: "Gemini 2.5 Pro" }] }));
    });
    await new Promise<void>((resolve) => gemini.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(gemini.address() as net.AddressInfo).port}/v1beta`;
    try {
      expect(await listModels({ provider: "google", baseUrl, apiKey: "gemini-key-0123456789" })).toEqual([
        { id: "gemini-2.5-pro", name: "Gemini 2.5 Pro" },
      ]);
      const err = await samErrorOf(listModels({ provider: "google", baseUrl, apiKey: "wrong" }));
      expect(err.message).toBe("the provider refused the key (HTTP 400): check the GEMINI_API_KEY secret");
    } finally {
      await new Promise<void>((resolve) => gemini.close(() => resolve()));
    }
  });

  test("Test connection says how many models answered, and whether the chosen one is among them", async () => {
    const connection = { provider: "openai-compatible" as const, baseUrl: fixture.url, apiKey: fixture.apiKey };
    expect(await testConnection(connection, "qwen3-coder")).toMatchObject({
      ok: true,
      message: `Connected to ${fixture.url}: 2 models, qwen3-coder among them.`,
    });
    expect((await testConnection(connection, "gpt-9")).message).toBe(
      `Connected to ${fixture.url}: 2 models, but gpt-9 is not among them.`,
    );
    expect(await testConnection({ ...connection, baseUrl: deadUrl })).toEqual({
      ok: false,
      problem: "unreachable",
      message: `cannot reach ${deadUrl}: connection refused`,
    });
  });
});

describe("a project's model settings", () => {
  test("an OpenAI-compatible server without its base URL is named in Test connection and refused when saved", async () => {
    const message = "An OpenAI-compatible server needs its base URL, for example http://127.0.0.1:11434/v1 (Ollama)";
    expect(await testProjectConnection(db, owner.id, projectId, { provider: "openai-compatible" })).toEqual({
      ok: false,
      problem: "missing_base_url",
      message,
    });
    const err = await samErrorOf(updateProjectSettings(db, owner.id, projectId, { model: "openai-compatible:x" }));
    expect(err.details?.fields).toEqual([{ field: "modelBaseUrl", message }]);
    expect((await getProjectForUser(db, owner.id, projectId)).model).toBe("scripted");
  });

  test("the project's stored key and saved base URL are used; a missing key is named", async () => {
    const missing = await testProjectConnection(db, owner.id, projectId, { provider: "anthropic" });
    expect(missing).toEqual({
      ok: false,
      problem: "missing_key",
      message: "Anthropic needs an ANTHROPIC_API_KEY secret: add it under the project's secrets",
    });

    await setSecret(db, instanceSecretKey(), owner.id, projectId, {
      name: "OPENAI_COMPATIBLE_API_KEY",
      kind: "model_api_key",
      value: fixture.apiKey,
    });
    await updateProjectSettings(db, owner.id, projectId, { modelBaseUrl: `${fixture.url}/` });
    expect((await getProjectForUser(db, owner.id, projectId)).modelBaseUrl).toBe(fixture.url);
    // A member lists the models of the saved server.
    const models = await listProjectModels(db, member.id, projectId, { provider: "openai-compatible" });
    expect(models.map((m) => m.id)).toEqual(["llama3.1:8b", "qwen3-coder"]);
    expect(fixture.requests.at(-1)?.headers.authorization).toBe(`Bearer ${fixture.apiKey}`);
  });

  test("only an owner may send the project's key to a base URL that is not saved", async () => {
    const elsewhere = await startOpenAIFixture();
    try {
      const err = await samErrorOf(
        listProjectModels(db, member.id, projectId, { provider: "openai-compatible", baseUrl: elsewhere.url }),
      );
      expect(err.code).toBe("forbidden");
      expect(elsewhere.requests).toEqual([]);
      // The owner may try it before saving (the key is refused there: it is another server's).
      const tried = await testProjectConnection(db, owner.id, projectId, {
        provider: "openai-compatible",
        baseUrl: elsewhere.url,
      });
      expect(tried).toMatchObject({ ok: false, problem: "refused_key" });
      expect(elsewhere.requests).toHaveLength(1);
    } finally {
      await elsewhere.close();
    }
    // A hosted provider's key never goes to a base URL at all.
    const hosted = await samErrorOf(
      testProjectConnection(db, owner.id, projectId, { provider: "openai", baseUrl: fixture.url }),
    );
    expect(hosted.code).toBe("invalid_input");
    expect(hosted.message).toMatch(/OpenAI is always reached at https:\/\/api\.openai\.com\/v1/);
  });

  test("inputs are validated with the field named", async () => {
    const err = await samErrorOf(
      listProjectModels(db, owner.id, projectId, { provider: "mistral", baseUrl: "ftp://x", extra: 1 }),
    );
    expect(err.details?.fields?.map((f) => f.field).sort()).toEqual(["baseUrl", "extra", "provider"]);
    const creds = await samErrorOf(
      updateProjectSettings(db, owner.id, projectId, { modelBaseUrl: "http://me:pw@127.0.0.1:1/v1" }),
    );
    expect(creds.message).toMatch(/Base URL must not carry credentials/);
  });

  test("saving a model whose key is not stored is refused, naming the secret; nothing changes", async () => {
    const err = await samErrorOf(
      updateProjectSettings(db, owner.id, projectId, { model: "anthropic:claude-sonnet-4-5", maxDepth: 4 }),
    );
    expect(err.details?.fields).toEqual([
      {
        field: "model",
        message:
          "Anthropic needs an ANTHROPIC_API_KEY secret: add it under the project's secrets before choosing anthropic:claude-sonnet-4-5",
      },
    ]);
    expect(await getProjectForUser(db, owner.id, projectId)).toMatchObject({ model: "scripted", maxDepth: 3 });
    // An OpenAI-compatible server may need no key.
    await updateProjectSettings(db, owner.id, projectId, { model: "openai-compatible:qwen3-coder" });
    expect((await getProjectForUser(db, owner.id, projectId)).model).toBe("openai-compatible:qwen3-coder");
  });

  test("a harness refuses a model it cannot run, naming those it can; nothing changes", async () => {
    const before = await getProjectForUser(db, owner.id, projectId);
    const claude = await samErrorOf(
      updateProjectSettings(db, owner.id, projectId, {
        harness: "claude-code",
        model: "openai-compatible:qwen3-coder",
      }),
    );
    expect(claude.details?.fields).toEqual([
      {
        field: "model",
        message: "The claude-code harness cannot run openai-compatible models: choose one from anthropic",
      },
    ]);
    // The built-in agent has no Google provider; Gemini CLI has nothing else.
    const builtin = await samErrorOf(
      updateProjectSettings(db, owner.id, projectId, { model: "google:gemini-2.5-pro" }),
    );
    expect(builtin.details?.fields?.[0]?.message).toBe(
      "The builtin harness cannot run google models: choose one from anthropic, openai, openai-compatible",
    );
    const scripted = await samErrorOf(
      updateProjectSettings(db, owner.id, projectId, { harness: "qwen-code", model: "scripted" }),
    );
    expect(scripted.details?.fields?.[0]?.message).toMatch(/^The qwen-code harness needs a real model/);
    expect(await getProjectForUser(db, owner.id, projectId)).toEqual(before);
  });

  test("the acp harness needs its agent command; the permission policy is allow or deny", async () => {
    const err = await samErrorOf(updateProjectSettings(db, owner.id, projectId, { harness: "acp" }));
    expect(err.details?.fields?.map((f) => f.field)).toEqual(["agentCommand"]);
    const bad = await samErrorOf(
      updateProjectSettings(db, owner.id, projectId, { agentCommand: "a\nb", permissionPolicy: "ask" }),
    );
    expect(bad.details?.fields?.map((f) => f.field).sort()).toEqual(["agentCommand", "permissionPolicy"]);
    await updateProjectSettings(db, owner.id, projectId, {
      harness: "acp",
      agentCommand: " my-agent --acp ",
      permissionPolicy: "deny",
    });
    expect(await getProjectForUser(db, owner.id, projectId)).toMatchObject({
      harness: "acp",
      agentCommand: "my-agent --acp",
      permissionPolicy: "deny",
    });
    // The command cannot be cleared while the harness needs it.
    const cleared = await samErrorOf(updateProjectSettings(db, owner.id, projectId, { agentCommand: "" }));
    expect(cleared.details?.fields?.map((f) => f.field)).toEqual(["agentCommand"]);
    await updateProjectSettings(db, owner.id, projectId, { harness: "builtin", agentCommand: "" });
    expect((await getProjectForUser(db, owner.id, projectId)).agentCommand).toBeNull();
  });
});

describe("session titles refined by the project's model", () => {
  async function titles(taskId: string) {
    const task = await db.query.tasks.findFirst({ where: eq(tasks.id, taskId) });
    const session = await db.query.chatSessions.findFirst({ where: eq(chatSessions.taskId, taskId) });
    return { task: task?.title, session: session?.title };
  }

  test("the model's reply, cleaned, becomes the session's and the task's title", async () => {
    await updateProjectSettings(db, owner.id, projectId, { model: "openai-compatible:qwen3-coder" });
    fixture.respond(() => ({ text: '"Greeting file for the README."\nSecond line' }));
    const prompt = "please could you add a file with a greeting, and mention it in the readme";
    const task = await createTask(db, owner.id, { projectId, prompt });
    expect(await refineSessionTitle(db, task.id)).toBe("Greeting file for the README");
    expect(await titles(task.id)).toEqual({
      task: "Greeting file for the README",
      session: "Greeting file for the README",
    });
    const request = fixture.completions().at(-1);
    expect(request?.body.model).toBe("qwen3-coder");
    expect(request?.headers.authorization).toBe(`Bearer ${fixture.apiKey}`);
    expect(JSON.stringify(request?.body.messages)).toContain(prompt);
  });

  test("a new task without a title is refined in the background; a failing model keeps the plain title", async () => {
    fixture.respond(() => ({ text: "Background title" }));
    const made = fixture.completions().length;
    const task = await createTaskInActiveProject(db, owner.id, { projectId, prompt: "do the thing\nin detail" });
    expect(task.title).toBe("do the thing");
    await fixture.nextCompletion(made + 1);
    await expect.poll(async () => (await titles(task.id)).session, { timeout: 10_000 }).toBe("Background title");

    fixture.respond(() => ({ error: { status: 500, message: "the model is down" } }));
    const failing = await createTask(db, owner.id, { projectId, prompt: "another thing" });
    await expect(refineSessionTitle(db, failing.id)).rejects.toThrow();
    expect(await titles(failing.id)).toEqual({ task: "another thing", session: "another thing" });
  });

  test("a user's rename is kept, and the scripted model asks nothing", async () => {
    fixture.respond(() => ({ text: "Model title" }));
    const task = await createTask(db, owner.id, { projectId, prompt: "rename me" });
    await db.update(chatSessions).set({ title: "My own name" }).where(eq(chatSessions.taskId, task.id));
    await refineSessionTitle(db, task.id);
    expect((await titles(task.id)).session).toBe("My own name");

    await updateProjectSettings(db, owner.id, projectId, { model: "scripted" });
    const before = fixture.requests.length;
    const scripted = await createTask(db, owner.id, { projectId, prompt: "scripted task" });
    expect(await refineSessionTitle(db, scripted.id)).toBeUndefined();
    expect(fixture.requests.length).toBe(before);
  });

  test("a title is cleaned of quotes, markup, a label and a final period, and shortened", () => {
    expect(cleanTitle("\n  **Title: Fix the login bug.**  \n")).toBe("Fix the login bug");
    expect(cleanTitle("“Curly quotes”")).toBe("Curly quotes");
    expect(cleanTitle("   ")).toBe("");
    expect(cleanTitle("x".repeat(100))).toHaveLength(80);
  });
});
