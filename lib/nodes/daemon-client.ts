import {
  type CreateWorkspaceRequest,
  DAEMON_ROUTES,
  daemonErrorSchema,
  type InjectMessageRequest,
  injectMessageResponseSchema,
  type MergeIntoWorkspaceRequest,
  mergeIntoWorkspaceResponseSchema,
  type StartSessionRequest,
  type StopSessionRequest,
  sessionResponseSchema,
  workspaceResponseSchema,
} from "@sam/agent-daemon/contract";
import type { z } from "zod";
import { SamError } from "../errors";

export interface DaemonTarget {
  url: string;
  token: string;
}

/**
 * Calls one daemon route with the node token; any failure is a SamError naming the daemon's answer,
 * with its HTTP status and error code in `details` when the daemon gave one.
 */
async function call<S extends z.ZodType>(
  target: DaemonTarget,
  method: string,
  route: string,
  body: unknown,
  schema: S | undefined,
  timeoutMs: number,
): Promise<z.output<S>> {
  let res: Response;
  try {
    res = await fetch(`${target.url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new SamError("unavailable", `The node's daemon did not answer ${method} ${route}: ${(err as Error).message}`);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const parsed = daemonErrorSchema.safeParse(json);
    const message = parsed.success ? parsed.data.error.message : `HTTP ${res.status}`;
    throw new SamError(
      res.status === 409 ? "conflict" : "unavailable",
      `The daemon refused ${method} ${route}: ${message}`,
      {
        status: res.status,
        daemonCode: parsed.success ? parsed.data.error.code : undefined,
        daemonMessage: parsed.success ? parsed.data.error.message : undefined,
      },
    );
  }
  return schema ? schema.parse(json) : (json as z.output<S>);
}

export const daemonClient = {
  createWorkspace: (t: DaemonTarget, req: CreateWorkspaceRequest) =>
    call(t, "POST", DAEMON_ROUTES.workspaces, req, workspaceResponseSchema, 120_000),
  // A fetch of the project repository into the node's mirror comes first, then the merge itself.
  mergeIntoWorkspace: (t: DaemonTarget, workspaceId: string, req: MergeIntoWorkspaceRequest) =>
    call(t, "POST", DAEMON_ROUTES.workspaceMerge(workspaceId), req, mergeIntoWorkspaceResponseSchema, 300_000),
  removeWorkspace: (t: DaemonTarget, workspaceId: string) =>
    call(t, "DELETE", DAEMON_ROUTES.workspace(workspaceId), undefined, undefined, 30_000),
  startSession: (t: DaemonTarget, req: StartSessionRequest) =>
    call(t, "POST", DAEMON_ROUTES.sessions, req, sessionResponseSchema, 30_000),
  injectMessage: (t: DaemonTarget, sessionId: string, req: InjectMessageRequest) =>
    call(t, "POST", DAEMON_ROUTES.sessionMessages(sessionId), req, injectMessageResponseSchema, 10_000),
  cancel: (t: DaemonTarget, sessionId: string) =>
    call(t, "POST", DAEMON_ROUTES.sessionCancel(sessionId), {}, undefined, 10_000),
  stop: (t: DaemonTarget, sessionId: string, req: StopSessionRequest) =>
    call(t, "POST", DAEMON_ROUTES.sessionStop(sessionId), req, sessionResponseSchema, 10_000),
  finish: (t: DaemonTarget, sessionId: string) =>
    call(t, "POST", DAEMON_ROUTES.sessionFinish(sessionId), {}, sessionResponseSchema, 10_000),
};
