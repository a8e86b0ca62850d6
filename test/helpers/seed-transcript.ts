import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";

/**
 * Appends `turns` finished turns (a user's message, the agent's reply) to a session whose agent is
 * done, as its daemon would have reported them: a long transcript without running hundreds of turns.
 */
export async function seedTranscript(db: Db, sessionId: string, turns: number): Promise<void> {
  const [row] = await db.all<{ last: number | null }>(
    sql`SELECT max(seq) AS last FROM agent_events WHERE session_id = ${sessionId}`,
  );
  let seq = Number(row?.last ?? 0);
  const events: [string, unknown][] = [];
  for (let i = 1; i <= turns; i++) {
    events.push([
      "user_message",
      { type: "user_message", source: "user", text: `Question ${i}: what about part ${i}?` },
    ]);
    events.push(["agent_text", { type: "agent_text", text: `Answer ${i}: part ${i} is fine.\n\nIt needs no change.` }]);
    events.push(["turn_ended", { type: "turn_ended", stopReason: "end_turn" }]);
  }
  await db.transaction(async (tx) => {
    for (const [type, payload] of events) {
      seq += 1;
      await tx.run(sql`INSERT INTO agent_events (session_id, seq, type, payload, created_at)
        VALUES (${sessionId}, ${seq}, ${type}, ${JSON.stringify(payload)}, ${Date.now()})`);
    }
  });
}
