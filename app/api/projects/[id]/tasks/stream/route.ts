import { z } from "zod";
import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getProjectForUser } from "@/lib/projects/projects";
import type { SidebarChanges } from "@/lib/sidebar/types";
import { watchSidebar } from "@/lib/sidebar/watch-sidebar";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

const HEARTBEAT_MS = 15_000;
// How long a browser waits before reconnecting after the connection drops.
const RETRY_MS = 2000;

const cursor = z
  .string()
  .trim()
  .regex(/^\d{1,15}$/, { message: "must be a change cursor (a whole number of 0 or more)" });

/** Where the caller is up to: `Last-Event-ID` (set by EventSource on reconnect) and `?after`. */
const resumeSchema = z.object({ "Last-Event-ID": cursor.optional(), after: cursor.optional() }).strict();

/**
 * The project's sidebar as Server-Sent Events: each `changes` event holds fresh groups, child rows
 * and filter counts to patch in; its id is the change cursor, so a reconnecting EventSource
 * (Last-Event-ID) or a caller with `?after=<cursor>` (a page's changesAfter) resumes without losing
 * a change. The stream runs until the client leaves or loses access to the project.
 */
export async function GET(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const project = await getProjectForUser(db, user.id, id);
    const after = resumePoint(req);

    const stop = new AbortController();
    const feed = watchSidebar(db, user.id, project.id, { after, signal: stop.signal });
    const encoder = new TextEncoder();
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    // Ends the feed whether the client left or the feed ran out: a poll in progress stops at once,
    // and a feed paused between two pulls is closed so it lets go of its change listener.
    const finish = () => {
      clearInterval(heartbeat);
      req.signal.removeEventListener("abort", finish);
      stop.abort();
      void feed.return(undefined);
    };
    req.signal.addEventListener("abort", finish, { once: true });

    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(`retry: ${RETRY_MS}\n\n`));
        // A comment line keeps proxies and idle timeouts from closing a quiet stream.
        heartbeat = setInterval(() => controller.enqueue(encoder.encode(": keep-alive\n\n")), HEARTBEAT_MS);
      },
      // Pulled one batch at a time, so a slow reader holds the feed back instead of filling memory.
      async pull(controller) {
        let next: IteratorResult<SidebarChanges>;
        try {
          next = await feed.next();
        } catch (err) {
          // The stream just ends; the client reconnects with its Last-Event-ID and loses nothing.
          console.error(`sam: the sidebar stream of project ${project.id} failed:`, err);
          next = { done: true, value: undefined };
        }
        if (stop.signal.aborted) return;
        if (next.done) {
          finish();
          controller.close();
        } else {
          controller.enqueue(encoder.encode(frame(next.value)));
        }
      },
      cancel: finish,
    });

    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        // no-transform: compression would hold events back until a buffer fills.
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  });
}

function frame(changes: SidebarChanges): string {
  return `id: ${changes.cursor}\nevent: changes\ndata: ${JSON.stringify(changes)}\n\n`;
}

/** The later of the two resume points the caller gave; 0 (everything) when it gave none. */
function resumePoint(req: Request): number {
  const header = req.headers.get("last-event-id");
  const query = new URL(req.url).searchParams.get("after");
  const given = parseInput(resumeSchema, {
    ...(header === null || header.trim() === "" ? {} : { "Last-Event-ID": header }),
    ...(query === null || query.trim() === "" ? {} : { after: query }),
  });
  return Math.max(Number(given["Last-Event-ID"] ?? 0), Number(given.after ?? 0));
}
