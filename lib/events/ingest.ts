import { type AgentEvent, agentEventPayloadSchema } from "@sam/agent-daemon/contract";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { agentEvents, chatSessions, tasks } from "@/db/schema";
import { usageInserts } from "../usage/record-usage";
import { emitTaskChanged } from "./bus";
import { applySessionLifecycle } from "./session-lifecycle";

const LIFECYCLE_TYPES = ["session_started", "user_message", "turn_ended", "session_finished"] as const;

/**
 * Stores a daemon's batch of events, each (session, seq) once, then brings each touched task in
 * line with its session's latest lifecycle event. Re-sending a batch changes nothing, so the
 * daemon may retry freely; events for sessions that are not on this node are refused.
 */
export async function ingestEvents(db: Db, nodeId: string, events: AgentEvent[]): Promise<{ stored: number }> {
  const sessionIds = [...new Set(events.map((e) => e.sessionId))];
  const owned = await db
    .select({ sessionId: chatSessions.id, taskId: tasks.id })
    .from(chatSessions)
    .innerJoin(tasks, eq(tasks.id, chatSessions.taskId))
    .where(and(inArray(chatSessions.id, sessionIds), eq(tasks.nodeId, nodeId)));
  const taskOf = new Map(owned.map((o) => [o.sessionId, o.taskId]));
  const accepted = events.filter((e) => taskOf.get(e.sessionId) === e.taskId);
  if (accepted.length === 0) return { stored: 0 };

  const results = await db.batch([
    ...accepted.map((e) =>
      // Invariant: an event is stored once per (session, seq), however often it is shipped.
      db.run(sql`
        INSERT INTO agent_events (session_id, seq, type, payload, created_at)
        VALUES (${e.sessionId}, ${e.seq}, ${e.event.type}, ${JSON.stringify(e.event)}, ${e.at})
        ON CONFLICT (session_id, seq) DO NOTHING`),
    ),
    // After the events: a usage row is priced by the model its session started with.
    ...usageInserts(db, accepted),
  ] as [ReturnType<typeof db.run>, ...ReturnType<typeof db.run>[]]);
  const stored = results.slice(0, accepted.length).reduce((n, r) => n + r.rowsAffected, 0);

  for (const sessionId of new Set(accepted.map((e) => e.sessionId))) {
    const latest = await db
      .select({ payload: agentEvents.payload })
      .from(agentEvents)
      .where(and(eq(agentEvents.sessionId, sessionId), inArray(agentEvents.type, LIFECYCLE_TYPES)))
      .orderBy(desc(agentEvents.seq))
      .limit(1);
    const taskId = taskOf.get(sessionId)!;
    if (latest[0])
      await applySessionLifecycle(db, taskId, agentEventPayloadSchema.parse(JSON.parse(latest[0].payload)));
    emitTaskChanged({ taskId });
  }
  return { stored };
}
