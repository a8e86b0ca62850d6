import path from "node:path";
import { type Db, openDb } from "@/db/client";
import { mintPersonalToken } from "@/lib/auth/personal-tokens";
import { ensureInstanceOwner } from "@/lib/users";
import type { AppServer } from "./app-server";

/** The app's database file, opened by the test itself (the server keeps it open too; WAL allows both). */
export function openAppDb(app: { dataDir: string }): Db {
  return openDb({ url: `file:${path.join(app.dataDir, "sam.db")}` });
}

export interface ApiClient {
  get: <T = unknown>(route: string) => Promise<{ status: number; body: T }>;
  post: <T = unknown>(route: string, body: unknown) => Promise<{ status: number; body: T }>;
  patch: <T = unknown>(route: string, body: unknown) => Promise<{ status: number; body: T }>;
}

/** An HTTP client for the app's API that acts as the instance owner through a personal token. */
export async function ownerApi(app: AppServer): Promise<ApiClient> {
  const db = openAppDb(app);
  try {
    return await ownerApiOn(app.baseUrl, db);
  } finally {
    db.$client.close();
  }
}

/**
 * The owner's API client for an app whose database the test reaches through `db` (the file under
 * the data dir, or a libSQL server the app was started against with DATABASE_URL).
 */
export async function ownerApiOn(baseUrl: string, db: Db): Promise<ApiClient> {
  const { token } = await mintPersonalToken(db, (await ensureInstanceOwner(db)).id, { name: "test" });
  const request = async <T>(method: string, route: string, body?: unknown) => {
    const res = await fetch(`${baseUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    get: (route) => request("GET", route),
    post: (route, body) => request("POST", route, body),
    patch: (route, body) => request("PATCH", route, body),
  };
}

/** A prompt whose fenced sam-script block the scripted model plays. */
export function scriptPrompt(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps)}\n\`\`\`\n`;
}

export interface TaskView {
  id: string;
  status: string;
  mode: string;
  branch: string | null;
  failureReason: string | null;
  summary: string | null;
  sessionId: string | null;
  nodeId: string | null;
}

/** Polls a task until `done` holds for it, or fails with the last state seen. */
export async function waitForTask(
  api: ApiClient,
  taskId: string,
  done: (task: TaskView) => boolean,
  timeoutMs = 60_000,
): Promise<TaskView> {
  const deadline = Date.now() + timeoutMs;
  let last: TaskView | undefined;
  while (Date.now() < deadline) {
    const res = await api.get<TaskView>(`/api/tasks/${taskId}`);
    if (res.status === 200) {
      last = res.body;
      if (done(last)) return last;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`Task ${taskId} did not reach the expected state; last seen: ${JSON.stringify(last)}`);
}

export const isTerminal = (t: TaskView) => ["completed", "failed", "cancelled"].includes(t.status);
