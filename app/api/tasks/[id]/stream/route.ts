import { handle } from "@/app/api/handle";
import { sseResponse } from "@/app/api/sse-response";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { getTaskForUser } from "@/lib/tasks/show-task";
import { type TaskFeedItem, watchTask } from "@/lib/tasks/watch-task";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/**
 * The task as Server-Sent Events: `task` (details: first the snapshot, then whenever they change)
 * and `agent` (one stored agent event {seq, type, payload, at}, in order). Each `agent` event's id is
 * its seq, so a reconnecting EventSource (Last-Event-ID) or a caller with `?after=<seq>` resumes
 * after it without duplicates; `messages` (those sent to the session that its agent has not
 * received: first the snapshot, then whenever they change). The stream ends shortly after the task does.
 */
export async function GET(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const task = await getTaskForUser(db, user.id, id);
    const afterSeq = resumePoint(req);

    return sseResponse(
      req,
      (signal) => watchTask(db, user.id, task.id, { afterSeq, signal }),
      frame,
      `task ${task.id}`,
    );
  });
}

function frame(item: TaskFeedItem): string {
  if (item.kind === "task") return `event: task\ndata: ${JSON.stringify(item.task)}\n\n`;
  if (item.kind === "messages") return `event: messages\ndata: ${JSON.stringify(item.messages)}\n\n`;
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
