import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { getTaskForUser } from "@/lib/tasks/show-task";
import { type TaskFeedItem, watchTask } from "@/lib/tasks/watch-task";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

const HEARTBEAT_MS = 15_000;
// How long a browser waits before reconnecting after the connection drops.
const RETRY_MS = 2000;

/**
 * The task as Server-Sent Events: `task` (details: first the snapshot, then whenever they change)
 * and `agent` (one stored agent event {seq, type, payload, at}, in order). Each `agent` event's id is
 * its seq, so a reconnecting EventSource (Last-Event-ID) or a caller with `?after=<seq>` resumes
 * after it without duplicates. The stream ends shortly after the task does.
 */
export async function GET(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const task = await getTaskForUser(db, user.id, id);
    const afterSeq = resumePoint(req);

    const stop = new AbortController();
    const feed = watchTask(db, user.id, task.id, { afterSeq, signal: stop.signal });
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
      // Pulled one item at a time, so a slow reader holds the feed back instead of filling memory.
      async pull(controller) {
        let next: IteratorResult<TaskFeedItem>;
        try {
          next = await feed.next();
        } catch (err) {
          // The stream just ends; the client reconnects with its Last-Event-ID and loses nothing.
          console.error(`sam: the event stream of task ${task.id} failed:`, err);
          next = { done: true, value: undefined };
        }
        // After a disconnect the stream is already cancelled and takes nothing more.
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

function frame(item: TaskFeedItem): string {
  if (item.kind === "task") return `event: task\ndata: ${JSON.stringify(item.task)}\n\n`;
  return `id: ${item.event.seq}\nevent: agent\ndata: ${JSON.stringify(item.event)}\n\n`;
}

/** The last seq the caller has: the later of `Last-Event-ID` (set by EventSource on reconnect) and `?after`. */
function resumePoint(req: Request): number {
  const fromHeader = seqOf(req.headers.get("last-event-id"), "Last-Event-ID");
  const fromQuery = seqOf(new URL(req.url).searchParams.get("after"), "after");
  return Math.max(fromHeader, fromQuery);
}

function seqOf(value: string | null, field: string): number {
  if (value === null || value.trim() === "") return 0;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new SamError("invalid_input", `${field} must be a sequence number`, {
      fields: [{ field, message: "must be a whole number of 0 or more" }],
    });
  }
  return Number(value.trim());
}
