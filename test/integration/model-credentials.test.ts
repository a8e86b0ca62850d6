import { randomBytes } from "node:crypto";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@/db/client";
import { projects } from "@/db/schema";
import { createProject } from "@/lib/projects/projects";
import { instanceSecretKey } from "@/lib/secrets/instance-key";
import { setSecret } from "@/lib/secrets/store";
import { modelCredentials } from "@/lib/tasks/model-credentials";
import { ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

process.env.SAM_SECRET_KEY = randomBytes(32).toString("hex");

describe("the model credentials a task's node is given (real libSQL, encrypted secrets)", () => {
  let db: Db;
  let owner: User;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    const testDb = await makeTestDb();
    cleanups.push(testDb.cleanup);
    db = testDb.db;
    owner = await ensureInstanceOwner(db);
  });
  afterAll(() => {
    for (const cleanup of cleanups.reverse()) cleanup();
  });

  async function project(): Promise<string> {
    const dir = makeTempDir("sam-credentials-");
    cleanups.push(dir.cleanup);
    return (await createProject(db, owner.id, { repo: makeGitRepo(path.join(dir.dir, "repo")) })).id;
  }
  const secret = (projectId: string, name: string, value: string) =>
    setSecret(db, instanceSecretKey(), owner.id, projectId, { name, kind: "other", value });

  it("an OpenAI-compatible server's base URL is the project's setting, before the legacy secret", async () => {
    const id = await project();
    await secret(id, "OPENAI_COMPATIBLE_API_KEY", "sk-local-key-123456");
    await secret(id, "OPENAI_COMPATIBLE_BASE_URL", "http://legacy.example/v1");
    expect(await modelCredentials(db, id, "openai-compatible:llama")).toEqual({
      modelApiKey: "sk-local-key-123456",
      modelBaseUrl: "http://legacy.example/v1",
    });
    await db.update(projects).set({ modelBaseUrl: "http://127.0.0.1:11434/v1" }).where(eq(projects.id, id));
    expect(await modelCredentials(db, id, "openai-compatible:llama")).toEqual({
      modelApiKey: "sk-local-key-123456",
      modelBaseUrl: "http://127.0.0.1:11434/v1",
    });
  });

  it("a hosted provider's key is never sent to the project's base URL; a missing key or URL is named", async () => {
    const id = await project();
    await db.update(projects).set({ modelBaseUrl: "http://elsewhere.example/v1" }).where(eq(projects.id, id));
    await expect(modelCredentials(db, id, "anthropic:claude-sonnet-4-5")).rejects.toThrow(
      "The model anthropic:claude-sonnet-4-5 needs a ANTHROPIC_API_KEY secret in the project's settings",
    );
    await secret(id, "ANTHROPIC_API_KEY", "sk-ant-123456789");
    expect(await modelCredentials(db, id, "anthropic:claude-sonnet-4-5")).toEqual({ modelApiKey: "sk-ant-123456789" });

    const bare = await project();
    await expect(modelCredentials(db, bare, "openai-compatible:llama")).rejects.toThrow(
      "needs the server's base URL in the project's settings",
    );
  });
});
