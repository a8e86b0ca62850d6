import type { AgentEvent } from "@sam/agent-daemon/contract";
import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";

/**
 * The statements that store a batch's usage events as `task_usage` rows, to run in the same batch
 * right after the events themselves: a usage row exists exactly when its event does, once per
 * (session, seq). The model that prices it is the one the session said it started with (its first
 * event, so the lookup stops there), or else the task's (or its project's) model.
 */
export function usageInserts(db: Db, events: AgentEvent[]) {
  return events.flatMap(({ sessionId, taskId, seq, at, event }) =>
    event.type === "usage"
      ? [
          db.run(sql`
            INSERT INTO task_usage
              (session_id, seq, task_id, model, input_tokens, output_tokens, cached_tokens, reported_cost_usd, created_at)
            SELECT ${sessionId}, ${seq}, t.id,
              coalesce(
                (SELECT json_extract(a.payload, '$.model') FROM agent_events a
                  WHERE a.session_id = ${sessionId} AND a.type = 'session_started' AND a.seq < ${seq}
                  ORDER BY a.seq LIMIT 1),
                t.model, p.model),
              ${event.inputTokens}, ${event.outputTokens}, ${event.cachedTokens}, ${event.costUsd ?? null}, ${at}
            FROM tasks t JOIN projects p ON p.id = t.project_id
            WHERE t.id = ${taskId}
            ON CONFLICT (session_id, seq) DO NOTHING`),
        ]
      : [],
  );
}
