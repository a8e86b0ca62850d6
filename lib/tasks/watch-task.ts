import { and, eq, inArray, or, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { taskDependencies, tasks } from "@/db/schema";
import { SamError } from "../errors";
import { onTaskChanged } from "../events/bus";
import { followOtherInstances } from "../events/other-instances";
import { subtreeUsageCount } from "../usage/task-usage";
import {
  type AgentEventWithSender,
  type SentMessage,
  sentMessagesFingerprint,
  unreceivedMessages,
  withSenders,
} from "./sent-messages";
import { agentEventsOf, getTaskForUser, type TaskDetails, type TaskRow, taskDetails } from "./show-task";
import { isTerminal, viewHasNews } from "./statuses";

export type TaskFeedItem =
  | { kind: "task"; task: TaskDetails }
  | { kind: "agent"; event: AgentEventWithSender }
  /** The messages sent to the session that its agent has not received, whenever that list changes. */
  | { kind: "messages"; messages: SentMessage[] };

export interface WatchTaskOptions {
  /** The last agent event the watcher already has; only later ones are sent. */
  afterSeq: number;
  signal: AbortSignal;
  pollMs?: number;
  /**
   * How long to keep looking after the task has ended: a stopped task's daemon may still ship the
   * session's last events (saved work, the finish) after the web app recorded the end.
   */
  settleMs?: number;
  /** Whether to follow the messages on their way to the agent (a view does; a chat turn's stream does not). */
  messages?: boolean;
}

const EVENT_PAGE = 500;

/**
 * Everything a task view shows about a task, as it changes: its details first, then each stored
 * agent event after `afterSeq` in order (a message marked with its sender, seen by `userId`), fresh
 * details whenever the task, one of its children or one of its dependencies changes, and the
 * messages on their way to the agent whenever they change (sent, handed over, received, or the
 * task ended). The database is polled (it is the truth, shared by every
 * instance); this process's change hints only wake the poll early. The feed ends when the signal
 * aborts, when the user can no longer see the task, or once its view has no more news (`viewHasNews`:
 * the task and all its subtasks have ended, and a failed subtask was retried or its parent ended) and
 * its session's events are all out.
 */
export async function* watchTask(
  db: Db,
  userId: string,
  taskId: string,
  { afterSeq, signal, pollMs = 300, settleMs = 2000, messages: followMessages = true }: WatchTaskOptions,
): AsyncGenerator<TaskFeedItem> {
  const wakeUp = wakeable(signal);
  const unsubscribe = onTaskChanged((change) => {
    if (change.taskId === taskId) wakeUp.wake();
  });
  const unfollow = followOtherInstances(db);
  try {
    // Fingerprint first, row after: a change in between is then in the snapshot, never lost.
    let fingerprint = await stateFingerprint(db, taskId);
    const messagesFingerprint = () => (followMessages ? sentMessagesFingerprint(db, taskId) : "");
    let messagesPrint = await messagesFingerprint();
    let current = await reloadIfVisible(db, userId, taskId);
    if (!current) return;
    const first = await taskDetails(db, current);
    yield { kind: "task", task: first };
    const sessionId = first.sessionId;
    let shownMessages = "";
    if (followMessages) {
      const messages = await unreceivedMessages(db, current, sessionId, userId);
      shownMessages = JSON.stringify(messages);
      yield { kind: "messages", messages };
    }
    let lastSeq = afterSeq;
    let sessionFinished = false;
    let endedAt: number | undefined;

    while (!signal.aborted) {
      // The state is read before the events: ingest stores a session's events before it moves the
      // task, so the events read next include every one that led to the state just read.
      const next = await stateFingerprint(db, taskId);
      const changed = next.key !== fingerprint.key;
      const nextMessagesPrint = await messagesFingerprint();
      let messagesChanged = changed || nextMessagesPrint !== messagesPrint;
      messagesPrint = nextMessagesPrint;
      if (changed) {
        fingerprint = next;
        const reloaded = await reloadIfVisible(db, userId, taskId);
        if (!reloaded) return;
        current = reloaded;
      }
      if (sessionId) {
        for (;;) {
          const events = await withSenders(
            db,
            current,
            await agentEventsOf(db, sessionId, lastSeq, EVENT_PAGE),
            userId,
          );
          for (const event of events) {
            yield { kind: "agent", event };
            lastSeq = event.seq;
            if (event.type === "session_finished") sessionFinished = true;
            // A message the agent received leaves the list of those on their way.
            if (event.type === "user_message") messagesChanged = true;
          }
          if (events.length < EVENT_PAGE) break;
        }
      }
      if (changed) yield { kind: "task", task: await taskDetails(db, current) };
      if (followMessages && messagesChanged) {
        const messages = await unreceivedMessages(db, current, sessionId, userId);
        const shown = JSON.stringify(messages);
        if (shown !== shownMessages) {
          shownMessages = shown;
          yield { kind: "messages", messages };
        }
      }

      // A task that ended still has news while its subtasks run: their progress is part of its view.
      if (!fingerprint.hasNews) {
        // Counted from the recorded end, so a task that ended long ago closes its feed at once.
        endedAt ??= current.endedAt?.getTime() ?? Date.now();
        // Nothing follows a session's finish; without one, wait a little for a late daemon.
        if (sessionFinished || !sessionId || Date.now() - endedAt >= settleMs) return;
      }
      await wakeUp.sleep(pollMs);
    }
  } finally {
    unfollow();
    unsubscribe();
  }
}

/** The task row again, or undefined when it is gone or the user is no longer a member. */
async function reloadIfVisible(db: Db, userId: string, taskId: string): Promise<TaskRow | undefined> {
  try {
    return await getTaskForUser(db, userId, taskId);
  } catch (err) {
    if (SamError.is(err) && err.code === "not_found") return undefined;
    throw err;
  }
}

/**
 * A cheap summary of everything `taskDetails` derives from task rows: the task, its parent, its
 * children, the tasks it depends on and its replacement if it was retried; and how many usage rows
 * its subtree has. Equal keys mean the
 * details have not changed, so the full details are loaded only when this differs.
 */
async function stateFingerprint(db: Db, taskId: string): Promise<{ key: string; hasNews: boolean }> {
  const dependencies = db
    .select({ id: taskDependencies.dependsOnTaskId })
    .from(taskDependencies)
    .where(eq(taskDependencies.taskId, taskId));
  const parent = db.select({ id: tasks.parentId }).from(tasks).where(eq(tasks.id, taskId));
  const lineage = sql`(SELECT lineage_id FROM tasks WHERE id = ${taskId})`;
  const rowsRead = db
    .select({
      id: tasks.id,
      parentId: tasks.parentId,
      retryOfId: tasks.retryOfId,
      status: tasks.status,
      updatedAt: tasks.updatedAt,
      title: tasks.title,
      branch: tasks.branch,
      baseBranch: tasks.baseBranch,
      prUrl: tasks.prUrl,
      progress: tasks.progress,
      summary: tasks.summary,
      failureReason: tasks.failureReason,
    })
    .from(tasks)
    .where(
      or(
        eq(tasks.id, taskId),
        eq(tasks.parentId, taskId),
        inArray(tasks.id, dependencies),
        inArray(tasks.id, parent),
        and(sql`${tasks.lineageId} = ${lineage}`, eq(tasks.retryOfId, taskId)),
      ),
    )
    .orderBy(tasks.id);
  // A turn's usage changes the figures without touching any task row.
  const [rows, usageRows] = await Promise.all([rowsRead, subtreeUsageCount(db, taskId)]);
  const self = rows.find((row) => row.id === taskId);
  const parentRow = self?.parentId ? rows.find((row) => row.id === self.parentId) : undefined;
  return {
    key: JSON.stringify([rows, usageRows]),
    hasNews:
      !self ||
      viewHasNews({
        status: self.status,
        childrenActive: rows.some((row) => row.parentId === taskId && !isTerminal(row.status)),
        retried: rows.some((row) => row.retryOfId === taskId),
        parentStatus: parentRow?.status ?? null,
      }),
  };
}

/** A sleep that a change hint or the abort signal cuts short; a hint during a poll is not lost. */
export function wakeable(signal: AbortSignal) {
  let hinted = false;
  let wakeSleeper: (() => void) | undefined;
  return {
    wake() {
      hinted = true;
      wakeSleeper?.();
    },
    sleep(ms: number): Promise<void> {
      if (hinted || signal.aborted) {
        hinted = false;
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          wakeSleeper = undefined;
          hinted = false;
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal.addEventListener("abort", done, { once: true });
        wakeSleeper = done;
      });
    },
  };
}
