import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import type { BoardCard } from "@/lib/ideas/board";
import { watchBoard } from "@/lib/ideas/watch-board";
import { getProjectForUser } from "@/lib/projects/projects";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

const HEARTBEAT_MS = 15_000;
const RETRY_MS = 2000;

/**
 * A project's idea board as Server-Sent Events: `board` carries every card, first as a snapshot,
 * then again whenever a card changes (an agent creates or links an idea, someone moves one, a task
 * ends). A reconnecting client simply gets the snapshot again.
 */
export async function GET(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const project = await getProjectForUser(db, user.id, id);

    const stop = new AbortController();
    const feed = watchBoard(db, user.id, project.id, { signal: stop.signal });
    const encoder = new TextEncoder();
    let heartbeat: ReturnType<typeof setInterval> | undefined;
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
        heartbeat = setInterval(() => controller.enqueue(encoder.encode(": keep-alive\n\n")), HEARTBEAT_MS);
      },
      async pull(controller) {
        let next: IteratorResult<BoardCard[]>;
        try {
          next = await feed.next();
        } catch (err) {
          console.error(`sam: the idea board stream of project ${project.id} failed:`, err);
          next = { done: true, value: undefined };
        }
        if (stop.signal.aborted) return;
        if (next.done) {
          finish();
          controller.close();
        } else {
          controller.enqueue(encoder.encode(`event: board\ndata: ${JSON.stringify(next.value)}\n\n`));
        }
      },
      cancel: finish,
    });

    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  });
}
