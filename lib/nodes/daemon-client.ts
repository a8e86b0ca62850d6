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
import type { Db } from "@/db/client";
import type { nodes } from "@/db/schema";
import { SamError } from "../errors";
import { type NodeCommand, sendNodeCommand } from "./channel";
import { nodeTokenOf } from "./node-tokens";

/** A daemon the web app calls over HTTP with its node token: a local node. */
export interface HttpDaemonTarget {
  url: string;
  token: string;
}

/** A daemon reached through the command channel it holds open: a joined or cloud node. */
export interface ChannelDaemonTarget {
  db: Db;
  nodeId: string;
}

export type DaemonTarget = HttpDaemonTarget | ChannelDaemonTarget;

/**
 * How the web app reaches a node's daemon, or undefined when it cannot (a local node whose daemon
 * has not reported its address).
 */
export function daemonTargetOf(
  db: Db,
  node: Pick<typeof nodes.$inferSelect, "id" | "provider" | "url" | "tokenCiphertext">,
): DaemonTarget | undefined {
  if (node.provider !== "local") return { db, nodeId: node.id };
  return node.url ? { url: node.url, token: nodeTokenOf(node) } : undefined;
}

/** The daemon's answer as a SamError: its HTTP status and error code in `details` when it gave one. */
function refusal(method: string, route: string, status: number, json: unknown): SamError {
  const parsed = daemonErrorSchema.safeParse(json);
  const message = parsed.success ? parsed.data.error.message : `HTTP ${status}`;
  return new SamError(
    status === 409 ? "conflict" : "unavailable",
    `The daemon refused ${method} ${route}: ${message}`,
    {
      status,
      daemonCode: parsed.success ? parsed.data.error.code : undefined,
      daemonMessage: parsed.success ? parsed.data.error.message : undefined,
    },
  );
}

async function callOverHttp(
  target: HttpDaemonTarget,
  method: string,
  route: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; json: unknown }> {
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
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

async function callOverChannel(
  target: ChannelDaemonTarget,
  method: NodeCommand["method"],
  route: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; json: unknown }> {
  const result = await sendNodeCommand(target.db, target.nodeId, { method, route, body }, timeoutMs);
  if (result === "disconnected") {
    throw new SamError("unavailable", `The node is not connected (its command channel is closed): ${method} ${route}`);
  }
  if (result === "timeout") {
    throw new SamError(
      "unavailable",
      `The node's daemon did not answer ${method} ${route} within ${Math.round(timeoutMs / 1000)} s`,
    );
  }
  return { status: result.status, json: result.body };
}

/**
 * Calls one daemon route, over HTTP or through the node's channel; any failure is a SamError naming
 * the daemon's answer, with its HTTP status and error code in `details` when the daemon gave one.
 */
async function call<S extends z.ZodType>(
  target: DaemonTarget,
  method: NodeCommand["method"],
  route: string,
  body: unknown,
  schema: S | undefined,
  timeoutMs: number,
): Promise<z.output<S>> {
  const { status, json } =
    "url" in target
      ? await callOverHttp(target, method, route, body, timeoutMs)
      : await callOverChannel(target, method, route, body, timeoutMs);
  if (status < 200 || status >= 300) throw refusal(method, route, status, json);
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
