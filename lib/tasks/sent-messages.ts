import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatSessions, inboxMessages, tasks, users } from "@/db/schema";
import { stopWarningOf } from "../orchestrator/stop";
import type { MessageDelivery, MessageSender } from "./message-sender";
import type { StoredAgentEvent, TaskRow } from "./show-task";
import { isTerminal } from "./statuses";

/** A stored agent event; a `user_message` also says who sent it. */
export type AgentEventWithSender = StoredAgentEvent & { sender?: MessageSender };

/** A message to a task's session that its agent has not received (yet). */
export interface SentMessage {
  /** The inbox row's id (the `messageId` its `user_message` event will carry), or `prompt:`/`stop:` + task id. */
  id: string;
  text: string;
  sender: MessageSender;
  sentAt: Date;
  delivery: Exclude<MessageDelivery, "delivered">;
}

type SessionTask = Pick<TaskRow, "id" | "parentId" | "createdByUserId">;

interface MessagePayload {
  source?: "user" | "parent" | "system" | "task";
  messageId?: string;
}

/** Names for the people and tasks that sent messages, looked up once for a batch. */
async function namesOf(db: Db, userIds: Set<string>, taskIds: Set<string>) {
  const [userRows, taskRows] = await Promise.all([
    userIds.size > 0
      ? db
          .select({ id: users.id, name: users.name, login: users.githubLogin, email: users.email })
          .from(users)
          .where(inArray(users.id, [...userIds]))
      : [],
    taskIds.size > 0
      ? db
          .select({ id: tasks.id, title: tasks.title })
          .from(tasks)
          .where(inArray(tasks.id, [...taskIds]))
      : [],
  ]);
  const userNames = new Map(userRows.map((u) => [u.id, u.name ?? u.login ?? u.email ?? "A user"]));
  const taskTitles = new Map(taskRows.map((t) => [t.id, t.title]));
  return {
    user: (id: string | null, viewerId?: string): MessageSender => ({
      kind: "user",
      id,
      name: (id && userNames.get(id)) ?? "A user",
      ...(id !== null && id === viewerId ? { you: true } : {}),
    }),
    parent: (id: string): MessageSender => ({ kind: "parent", id, title: taskTitles.get(id) ?? id.slice(0, 8) }),
  };
}

/** Who sent an inbox row: a person, the parent task, or (a child's end, a notice) SAM. */
function inboxSender(
  row: { kind: string; senderUserId: string | null; senderTaskId: string | null },
  names: Awaited<ReturnType<typeof namesOf>>,
  viewerId?: string,
): MessageSender {
  if (row.kind !== "message") return { kind: "system" };
  if (row.senderUserId) return names.user(row.senderUserId, viewerId);
  if (row.senderTaskId) return names.parent(row.senderTaskId);
  return { kind: "system" };
}

/** Who wrote a task's prompt: the parent that dispatched it, or the person who created it. */
function promptSender(task: SessionTask, names: Awaited<ReturnType<typeof namesOf>>, viewerId?: string) {
  return task.parentId ? names.parent(task.parentId) : names.user(task.createdByUserId, viewerId);
}

/** The task a session belongs to, with what it takes to name who wrote its messages. */
export async function sessionTaskOf(db: Db, sessionId: string): Promise<TaskRow | undefined> {
  const [row] = await db
    .select({ task: tasks })
    .from(chatSessions)
    .innerJoin(tasks, eq(tasks.id, chatSessions.taskId))
    .where(eq(chatSessions.id, sessionId));
  return row?.task;
}

/**
 * Marks each `user_message` among `events` with its sender: the inbox row its `messageId` names,
 * else what its source says (the prompt's author, the parent, SAM). `viewerId` is the person who
 * will see them, shown as "You".
 */
export async function withSenders(
  db: Db,
  task: SessionTask,
  events: StoredAgentEvent[],
  viewerId?: string,
): Promise<AgentEventWithSender[]> {
  const messageIds = new Set<string>();
  for (const event of events) {
    const id = event.type === "user_message" ? (event.payload as MessagePayload).messageId : undefined;
    if (id) messageIds.add(id);
  }
  if (!events.some((e) => e.type === "user_message")) return events;
  const rows =
    messageIds.size > 0
      ? await db
          .select({
            id: inboxMessages.id,
            kind: inboxMessages.kind,
            senderUserId: inboxMessages.senderUserId,
            senderTaskId: inboxMessages.senderTaskId,
          })
          .from(inboxMessages)
          .where(and(eq(inboxMessages.taskId, task.id), inArray(inboxMessages.id, [...messageIds])))
      : [];
  const byId = new Map(rows.map((r) => [r.id, r]));
  const userIds = new Set(rows.flatMap((r) => (r.senderUserId ? [r.senderUserId] : [])));
  const taskIds = new Set(rows.flatMap((r) => (r.senderTaskId ? [r.senderTaskId] : [])));
  if (task.parentId) taskIds.add(task.parentId);
  else if (task.createdByUserId) userIds.add(task.createdByUserId);
  const names = await namesOf(db, userIds, taskIds);

  return events.map((event) => {
    if (event.type !== "user_message") return event;
    const payload = event.payload as MessagePayload;
    const row = payload.messageId ? byId.get(payload.messageId) : undefined;
    let sender: MessageSender;
    if (row) sender = inboxSender(row, names, viewerId);
    else if (payload.source === "task") sender = promptSender(task, names, viewerId);
    else if (payload.source === "parent" && task.parentId) sender = names.parent(task.parentId);
    else if (payload.source === "user") sender = names.user(null, viewerId);
    else sender = { kind: "system" };
    return { ...event, sender };
  });
}

/**
 * What was sent to a task's session and has not reached its agent: the prompt of a session that has
 * not started, the inbox's messages (waiting, or queued behind the agent's turn) and a recorded
 * stop's warning. Once the task has ended they stay, as not delivered; a warning that was never
 * sent (the task ended before its stop reached a node) is left out. Oldest first.
 */
export async function unreceivedMessages(
  db: Db,
  task: TaskRow,
  sessionId: string | null,
  viewerId?: string,
): Promise<SentMessage[]> {
  const [inbox, received] = await Promise.all([
    db
      .select({
        id: inboxMessages.id,
        kind: inboxMessages.kind,
        senderUserId: inboxMessages.senderUserId,
        senderTaskId: inboxMessages.senderTaskId,
        createdAt: inboxMessages.createdAt,
        deliveredAt: inboxMessages.deliveredAt,
      })
      .from(inboxMessages)
      .where(eq(inboxMessages.taskId, task.id))
      .orderBy(asc(inboxMessages.createdAt), sql`rowid`),
    sessionId ? receivedOf(db, sessionId) : { ids: new Set<string>(), prompt: false, systemTexts: new Set<string>() },
  ]);
  const ended = isTerminal(task.status);
  const waiting = inbox.filter((row) => !received.ids.has(row.id));

  const stopped =
    task.stopRequestedAt && task.stopReason && task.stopGraceSeconds !== null
      ? {
          text: stopWarningOf({
            mode: task.mode,
            stopReason: task.stopReason,
            stopGraceSeconds: task.stopGraceSeconds,
            stopEnds: task.stopEnds,
          }),
          at: task.stopRequestedAt,
        }
      : undefined;
  const stopWarning =
    stopped && !received.systemTexts.has(stopped.text) && (!ended || task.stopDeliveredAt) ? stopped : undefined;
  const prompt = !received.prompt;
  if (waiting.length === 0 && !stopWarning && !prompt) return [];

  const userIds = new Set(waiting.flatMap((r) => (r.senderUserId ? [r.senderUserId] : [])));
  const taskIds = new Set(waiting.flatMap((r) => (r.senderTaskId ? [r.senderTaskId] : [])));
  if (task.parentId) taskIds.add(task.parentId);
  else if (task.createdByUserId) userIds.add(task.createdByUserId);
  const [names, bodies] = await Promise.all([
    namesOf(db, userIds, taskIds),
    waiting.length > 0
      ? db
          .select({ id: inboxMessages.id, body: inboxMessages.body })
          .from(inboxMessages)
          .where(
            inArray(
              inboxMessages.id,
              waiting.map((r) => r.id),
            ),
          )
      : [],
  ]);
  const bodyOf = new Map(bodies.map((b) => [b.id, b.body]));
  const stateOf = (handed: boolean): SentMessage["delivery"] => (ended ? "undelivered" : handed ? "queued" : "waiting");

  const out: SentMessage[] = waiting.map((row) => ({
    id: row.id,
    text: bodyOf.get(row.id) ?? "",
    sender: inboxSender(row, names, viewerId),
    sentAt: row.createdAt,
    delivery: stateOf(row.deliveredAt !== null),
  }));
  if (stopWarning) {
    out.push({
      id: `stop:${task.id}`,
      text: stopWarning.text,
      sender: { kind: "system" },
      sentAt: stopWarning.at,
      delivery: stateOf(task.stopDeliveredAt !== null),
    });
    out.sort((a, b) => a.sentAt.getTime() - b.sentAt.getTime());
  }
  if (prompt) {
    out.unshift({
      id: `prompt:${task.id}`,
      text: task.description,
      sender: promptSender(task, names, viewerId),
      sentAt: task.createdAt,
      delivery: stateOf(false),
    });
  }
  return out;
}

/** What the session's `user_message` events show the agent has received. */
async function receivedOf(db: Db, sessionId: string) {
  const rows = await db.all<{ source: string | null; messageId: string | null; text: string | null }>(sql`
    SELECT json_extract(payload, '$.source') AS source, json_extract(payload, '$.messageId') AS messageId,
      CASE WHEN json_extract(payload, '$.source') = 'system' THEN json_extract(payload, '$.text') END AS text
    FROM agent_events WHERE session_id = ${sessionId} AND type = 'user_message'`);
  return {
    ids: new Set(rows.flatMap((r) => (r.messageId ? [r.messageId] : []))),
    prompt: rows.some((r) => r.source === "task"),
    systemTexts: new Set(rows.flatMap((r) => (r.text ? [r.text] : []))),
  };
}

/**
 * A cheap summary of what `unreceivedMessages` depends on besides the session's events and the
 * task's status: messages sent to the task, how many were handed over, and its stop's delivery.
 */
export async function sentMessagesFingerprint(db: Db, taskId: string): Promise<string> {
  const [row] = await db.all<{ sent: number; handed: number; stop: number | null }>(sql`
    SELECT count(*) AS sent, count(delivered_at) AS handed,
      (SELECT coalesce(stop_delivered_at, stop_requested_at) FROM tasks WHERE id = ${taskId}) AS stop
    FROM inbox_messages WHERE task_id = ${taskId}`);
  return `${row?.sent}/${row?.handed}/${row?.stop}`;
}
