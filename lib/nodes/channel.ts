import { EventEmitter } from "node:events";
import {
  type ChannelLine,
  type ChannelRequest,
  type CommandResult,
  channelLineSchema,
} from "@sam/agent-daemon/contract";
import { and, eq, gt, inArray, lt, ne, or, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodeCommands, nodes } from "@/db/schema";
import { newId } from "../ids";

/**
 * Commands for nodes the web app never calls (joined and cloud nodes). A caller writes a row in
 * node_commands; the instance holding the node's channel sends it at once when the row was written
 * in the same process (an event here), or at its next look at the table (other instances); the node
 * posts the result, which the caller reads the same two ways. The database is the truth, the events
 * only make it quick.
 */
const globalForChannel = globalThis as unknown as { __samNodeChannels?: EventEmitter };
globalForChannel.__samNodeChannels ??= new EventEmitter().setMaxListeners(0);
const events = globalForChannel.__samNodeChannels;

/** How often a channel and a waiting caller look at the table for what another instance wrote. */
export const COMMAND_POLL_MS = 150;
/** A channel ends after this long (a serverless function's limit); the node opens it again at once. */
export const CHANNEL_MAX_MS = 55_000;
const CHANNEL_PING_MS = 10_000;
/** Answered or given-up commands are kept this long for a look afterwards, then deleted. */
const COMMAND_KEEP_MS = 60 * 60_000;

const NOW = sql`cast(unixepoch('subsec') * 1000 as integer)`;

function sleep(ms: number, wake: { fn?: () => void }): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake.fn = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

export interface NodeCommand {
  method: "GET" | "POST" | "DELETE";
  route: string;
  body?: unknown;
}

/**
 * How long a caller waits for a node whose channel is not open: it reconnects at once after the web
 * app ends a channel and within 2 s after an error, so longer means it is away (its machine down, its
 * network cut). Callers that would wait the whole timeout (a scheduler pass delivering messages,
 * releasing workspaces) give up instead; the pass after next tries again.
 */
export const CHANNEL_CLOSED_GRACE_MS = 5_000;

/**
 * Runs a daemon route on a node through its channel: the result as the daemon answered it;
 * `timeout` when none came within `timeoutMs`, `disconnected` when the node's channel stayed closed
 * for CHANNEL_CLOSED_GRACE_MS. Either way the command is not sent any more.
 */
export async function sendNodeCommand(
  db: Db,
  nodeId: string,
  command: NodeCommand,
  timeoutMs: number,
): Promise<CommandResult | "timeout" | "disconnected"> {
  const id = newId();
  const deadline = Date.now() + timeoutMs;
  const wake: { fn?: () => void } = {};
  // The answer, when it was recorded in this process: no need to read it back.
  let answered: CommandResult | undefined;
  const onDone = (result: CommandResult) => {
    answered = result;
    wake.fn?.();
  };
  events.on(`done:${id}`, onDone);
  try {
    await db.insert(nodeCommands).values({
      id,
      nodeId,
      method: command.method,
      route: command.route,
      body: command.body === undefined ? null : JSON.stringify(command.body),
      expiresAt: new Date(deadline),
    });
    // The command itself rides along: a channel in this process sends it without reading it back.
    events.emit(`pending:${nodeId}`, {
      type: "command",
      id,
      method: command.method,
      route: command.route,
      ...(command.body === undefined ? {} : { body: command.body }),
    } satisfies ChannelLine);
    let closedSince: number | undefined;
    for (;;) {
      if (answered) return answered;
      const [row] = await db
        .select({
          status: nodeCommands.status,
          resultStatus: nodeCommands.resultStatus,
          resultBody: nodeCommands.resultBody,
          channelOpen: nodes.channelOpen,
        })
        .from(nodeCommands)
        .innerJoin(nodes, eq(nodes.id, nodeCommands.nodeId))
        .where(eq(nodeCommands.id, id));
      if (row?.status === "done" && row.resultStatus !== null) {
        return {
          status: row.resultStatus,
          body: row.resultBody === null ? undefined : (JSON.parse(row.resultBody) as unknown),
        };
      }
      const now = Date.now();
      closedSince = row?.channelOpen ? undefined : (closedSince ?? now);
      const away = closedSince !== undefined && now - closedSince >= CHANNEL_CLOSED_GRACE_MS;
      if (away || now >= deadline) {
        // Given up: a node that connects later must not run it.
        await db
          .update(nodeCommands)
          .set({ expiresAt: new Date(now) })
          .where(and(eq(nodeCommands.id, id), ne(nodeCommands.status, "done")));
        return away ? "disconnected" : "timeout";
      }
      if (!answered) await sleep(Math.min(COMMAND_POLL_MS, deadline - now), wake);
    }
  } finally {
    events.off(`done:${id}`, onDone);
  }
}

/**
 * Records a node's answer to one of its commands. False when the node has no such command (or it
 * was answered before: the first answer stands).
 */
export async function recordCommandResult(
  db: Db,
  nodeId: string,
  commandId: string,
  result: CommandResult,
): Promise<boolean> {
  // Invariant: a command is answered once, and only by its own node.
  const done = await db
    .update(nodeCommands)
    .set({
      status: "done",
      resultStatus: result.status,
      resultBody: result.body === undefined ? null : JSON.stringify(result.body),
      doneAt: new Date(),
    })
    .where(and(eq(nodeCommands.id, commandId), eq(nodeCommands.nodeId, nodeId), ne(nodeCommands.status, "done")))
    .returning({ id: nodeCommands.id });
  if (done.length > 0) events.emit(`done:${commandId}`, result);
  return done.length > 0;
}

/** Whether the node has a command with this id (answered or not). */
export async function hasCommand(db: Db, nodeId: string, commandId: string): Promise<boolean> {
  const row = await db.query.nodeCommands.findFirst({
    where: and(eq(nodeCommands.id, commandId), eq(nodeCommands.nodeId, nodeId)),
    columns: { id: true },
  });
  return row !== undefined;
}

/**
 * The node's channel as a stream of NDJSON lines: what waits for it at once (including commands
 * sent on an earlier connection that may have dropped before the node got them: the node runs each
 * id once), then each new command as it is written, and a ping now and then. It ends after `maxMs`
 * or when the node goes; while it is open the node counts as connected.
 */
export function openChannel(
  db: Db,
  nodeId: string,
  hello: ChannelRequest,
  signal: AbortSignal,
  opts: { maxMs?: number; pingMs?: number } = {},
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const sentHere = new Set<string>();
  const wake: { fn?: () => void } = {};
  let closed = false;
  let pending = false;
  let sendNow: (line: ChannelLine) => void = () => {};
  const onPending = (line?: ChannelLine) => {
    if (line) sendNow(line);
    pending = true;
    wake.fn?.();
  };
  // The node's last sign of life on this connection: set when it connects, renewed at each ping.
  let heardAt = new Date();
  let finish: () => void = () => {};

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (line: ChannelLine) => {
        // The node may have gone while a write was on its way.
        if (!closed) controller.enqueue(encoder.encode(`${JSON.stringify(line)}\n`));
      };
      const pinger = setInterval(() => {
        if (closed) return;
        write({ type: "ping" });
        const now = new Date();
        void db
          .update(nodes)
          .set({ channelConnectedAt: now })
          .where(and(eq(nodes.id, nodeId), eq(nodes.channelConnectedAt, heardAt)))
          .returning({ id: nodes.id })
          .then((renewed) => {
            // None: a newer connection of the node holds the mark now.
            if (renewed.length > 0) heardAt = now;
          })
          .catch(() => {});
      }, opts.pingMs ?? CHANNEL_PING_MS);
      const ender = setTimeout(() => finish(), opts.maxMs ?? CHANNEL_MAX_MS);
      const cleanUp = () => {
        if (closed) return;
        closed = true;
        events.off(`pending:${nodeId}`, onPending);
        signal.removeEventListener("abort", finish);
        clearInterval(pinger);
        clearTimeout(ender);
        wake.fn?.();
        // Only this connection's mark: a newer one of the same node may already be open.
        void db
          .update(nodes)
          .set({ channelOpen: false })
          .where(and(eq(nodes.id, nodeId), eq(nodes.channelConnectedAt, heardAt)))
          .catch(() => {});
      };
      finish = () => {
        if (closed) return;
        cleanUp();
        try {
          controller.close();
        } catch {
          // Already cancelled by the reader.
        }
      };

      events.on(`pending:${nodeId}`, onPending);
      signal.addEventListener("abort", finish, { once: true });
      if (signal.aborted) finish();

      const markSent = (id: string) =>
        db
          .update(nodeCommands)
          .set({ status: "sent", sentAt: new Date() })
          .where(and(eq(nodeCommands.id, id), eq(nodeCommands.status, "pending")));
      sendNow = (line) => {
        if (closed || line.type !== "command" || sentHere.has(line.id)) return;
        const valid = channelLineSchema.safeParse(line);
        // One that is no command is left to the pump, which answers it with the refusal.
        if (!valid.success) return;
        write(valid.data);
        sentHere.add(line.id);
        void markSent(line.id).catch(() => {});
      };

      const pump = async () => {
        const rows = await db
          .select()
          .from(nodeCommands)
          .where(
            and(
              eq(nodeCommands.nodeId, nodeId),
              inArray(nodeCommands.status, ["pending", "sent"]),
              gt(nodeCommands.expiresAt, new Date()),
            ),
          )
          .orderBy(nodeCommands.createdAt);
        for (const row of rows) {
          if (closed) return;
          if (sentHere.has(row.id)) continue;
          const line = channelLineSchema.safeParse({
            type: "command",
            id: row.id,
            method: row.method,
            route: row.route,
            ...(row.body === null ? {} : { body: JSON.parse(row.body) as unknown }),
          });
          if (!line.success) {
            // Never sent (it would end every connection): its caller gets the refusal at once.
            const message = `Not a command a node runs: ${line.error.issues[0]?.message ?? "invalid"}`;
            await recordCommandResult(db, nodeId, row.id, {
              status: 400,
              body: { error: { code: "invalid", message } },
            });
            continue;
          }
          write(line.data);
          sentHere.add(row.id);
          await markSent(row.id);
        }
      };

      const run = async () => {
        await db
          .update(nodes)
          .set({ channelOpen: true, channelConnectedAt: heardAt, version: hello.version, capacity: hello.capacity })
          .where(eq(nodes.id, nodeId));
        await db
          .delete(nodeCommands)
          .where(
            and(
              eq(nodeCommands.nodeId, nodeId),
              or(eq(nodeCommands.status, "done"), lt(nodeCommands.expiresAt, new Date())),
              lt(nodeCommands.createdAt, sql`${NOW} - ${COMMAND_KEEP_MS}`),
            ),
          );
        while (!closed) {
          pending = false;
          await pump();
          if (!pending && !closed) await sleep(COMMAND_POLL_MS, wake);
        }
      };
      run().catch((err: unknown) => {
        console.error(`sam: the channel of node ${nodeId} failed: ${(err as Error).message}`);
        finish();
      });
    },
    cancel() {
      finish();
    },
  });
}
