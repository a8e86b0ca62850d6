import { createHash, timingSafeEqual } from "node:crypto";
import http from "node:http";
import {
  createWorkspaceRequestSchema,
  type DaemonConfig,
  type HealthResponse,
  injectMessageRequestSchema,
  mergeIntoWorkspaceRequestSchema,
  ownerRequestSchema,
  startSessionRequestSchema,
  stopSessionRequestSchema,
  type WorkspaceResponse,
} from "./contract.ts";
import { RequestError } from "./errors.ts";
import { parseInput, readJson, sendError, sendJson } from "./http-util.ts";
import { log } from "./log.ts";
import type { Outbox } from "./outbox.ts";
import type { Ownership } from "./ownership.ts";
import type { Sandbox } from "./sandbox/sandbox.ts";
import type { Sessions } from "./sessions.ts";
import { VERSION } from "./version.ts";
import type { Workspaces } from "./workspaces.ts";

export interface ApiDeps {
  config: DaemonConfig;
  workspaces: Workspaces;
  sessions: Sessions;
  outbox: Outbox;
  ownership: Ownership;
  sandbox: Pick<Sandbox, "report">;
}

interface Reply {
  status: number;
  body?: unknown;
  /** Answers by itself and keeps the response open (a web app's hold on the daemon). */
  stream?: (res: http.ServerResponse) => void;
}

interface Route {
  method: string;
  path: RegExp;
  handle: (params: string[], req: http.IncomingMessage) => Promise<Reply>;
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

/** Constant-time comparison of the presented bearer token with the node token. */
function authorized(req: http.IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization ?? "";
  const match = /^Bearer (\S+)$/.exec(header);
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected);
}

function routes({ config, workspaces, sessions, outbox, ownership, sandbox }: ApiDeps): Route[] {
  // Workspaces the web app let go of: a request to create one that arrives after its deletion (a slow
  // or retried request) is refused, so the node never keeps a workspace the web app has forgotten.
  const released = new Set<string>();
  return [
    {
      method: "GET",
      path: /^\/health$/,
      handle: async () => {
        const body: HealthResponse = {
          status: "ok",
          nodeId: config.nodeId,
          version: VERSION,
          workspaces: workspaces.count(),
          sessions: sessions.activeCount(),
          capacity: config.capacity,
          outboxPending: outbox.pendingCount(),
          sandbox: sandbox.report(),
        };
        return { status: 200, body };
      },
    },
    {
      method: "POST",
      path: /^\/workspaces$/,
      handle: async (_params, req) => {
        const input = parseInput(createWorkspaceRequestSchema, await readJson(req));
        if (released.has(input.workspaceId)) {
          throw new RequestError(410, "workspace_released", `Workspace ${input.workspaceId} was released`);
        }
        const { workspace, created } = await workspaces.create(input);
        const body: WorkspaceResponse = {
          workspaceId: workspace.workspaceId,
          path: workspace.path,
          branch: workspace.branch,
          baseCommit: workspace.baseCommit,
        };
        return { status: created ? 201 : 200, body };
      },
    },
    {
      method: "DELETE",
      path: /^\/workspaces\/([^/]+)$/,
      handle: async ([id = ""]) => {
        const running = sessions.activeIn(id);
        if (running) {
          throw new RequestError(
            409,
            "workspace_busy",
            `Workspace ${id} still runs session ${running.id}; stop it first`,
          );
        }
        released.add(id);
        await workspaces.remove(id);
        return { status: 204 };
      },
    },
    {
      method: "POST",
      path: /^\/workspaces\/([^/]+)\/merge$/,
      handle: async ([id = ""], req) => {
        const input = parseInput(mergeIntoWorkspaceRequestSchema, await readJson(req));
        return { status: 200, body: await workspaces.merge(id, input) };
      },
    },
    {
      method: "POST",
      path: /^\/sessions$/,
      handle: async (_params, req) => {
        const input = parseInput(startSessionRequestSchema, await readJson(req));
        const { session, created } = sessions.start(input);
        return { status: created ? 201 : 200, body: session };
      },
    },
    {
      method: "GET",
      path: /^\/sessions\/([^/]+)$/,
      handle: async ([id = ""]) => ({ status: 200, body: sessions.get(id).view() }),
    },
    {
      method: "POST",
      path: /^\/sessions\/([^/]+)\/messages$/,
      handle: async ([id = ""], req) => {
        const input = parseInput(injectMessageRequestSchema, await readJson(req));
        return { status: 200, body: sessions.get(id).inject(input) };
      },
    },
    {
      method: "POST",
      path: /^\/sessions\/([^/]+)\/cancel$/,
      handle: async ([id = ""]) => {
        const session = sessions.get(id);
        await session.cancel();
        return { status: 200, body: session.view() };
      },
    },
    {
      method: "POST",
      path: /^\/sessions\/([^/]+)\/stop$/,
      handle: async ([id = ""], req) => {
        const input = parseInput(stopSessionRequestSchema, await readJson(req));
        const session = sessions.get(id);
        session.stop(input);
        // Accepted: the warning, the grace and the hard stop continue in the background.
        return { status: 202, body: session.view() };
      },
    },
    {
      method: "POST",
      path: /^\/sessions\/([^/]+)\/finish$/,
      handle: async ([id = ""]) => {
        const session = sessions.get(id);
        session.finish();
        // Accepted: the save, the push and session_finished follow in the background.
        return { status: 202, body: session.view() };
      },
    },
    {
      method: "POST",
      path: /^\/owner$/,
      handle: async (_params, req) => {
        const { webUrl } = parseInput(ownerRequestSchema, await readJson(req));
        return { status: 200, stream: (res) => ownership.hold(res, webUrl) };
      },
    },
  ];
}

function decodeParams(match: RegExpExecArray): string[] {
  try {
    return match.slice(1).map((part) => decodeURIComponent(part));
  } catch {
    throw new RequestError(400, "invalid_path", "The request path is not valid");
  }
}

async function respond(res: http.ServerResponse, handle: () => Promise<Reply>, what: string): Promise<void> {
  try {
    const reply = await handle();
    if (reply.stream) reply.stream(res);
    else if (reply.body === undefined) res.writeHead(reply.status).end();
    else sendJson(res, reply.status, reply.body);
  } catch (err) {
    if (err instanceof RequestError) {
      sendError(res, err);
      return;
    }
    // The details stay in the daemon's log; the caller learns only that it failed.
    log(`${what} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    sendError(res, new RequestError(500, "internal", "The daemon failed to handle the request"));
  }
}

/** The daemon's HTTP API. Every request must carry the node token; bodies are JSON. */
export function createApiServer(deps: ApiDeps): http.Server {
  const expected = digest(deps.config.nodeToken);
  const table = routes(deps);
  return http.createServer((req, res) => {
    if (!authorized(req, expected)) {
      sendError(res, new RequestError(401, "unauthenticated", "A valid node token is required"));
      return;
    }
    const { pathname } = new URL(req.url ?? "/", "http://daemon");
    for (const route of table) {
      const match = route.method === req.method ? route.path.exec(pathname) : null;
      if (match) {
        void respond(res, () => route.handle(decodeParams(match), req), `${req.method} ${pathname}`);
        return;
      }
    }
    sendError(res, new RequestError(404, "not_found", `No route ${req.method} ${pathname}`));
  });
}
