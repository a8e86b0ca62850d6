import { useEffect, useState } from "react";
import { type AgentEventJson, type SentMessageJson, streamIsOver, type TaskJson } from "@/components/tasks/task-json";

/**
 * The session's task as it changes, and the seq of the newest stored event, from the task's event
 * stream. The chat compares that seq with what it has shown to notice turns it did not start
 * itself (another tab, a message from the system).
 */
export function useSessionTask(taskId: string | undefined, initialTask: TaskJson | undefined, afterSeq: number) {
  const [task, setTask] = useState(initialTask);
  const [latestSeq, setLatestSeq] = useState(afterSeq);
  const [lost, setLost] = useState(false);
  // Undefined until the stream has said which messages are on their way to the agent.
  const [pendingMessages, setPendingMessages] = useState<SentMessageJson[]>();

  // Where the stream starts is fixed when the task becomes known; later renders must not reconnect.
  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  useEffect(() => {
    if (!taskId) return;
    let latest = initialTask;
    const source = new EventSource(`/api/tasks/${encodeURIComponent(taskId)}/stream?after=${afterSeq}`);
    source.addEventListener("open", () => setLost(false));
    source.addEventListener("task", (e) => {
      const next = JSON.parse(e.data) as TaskJson;
      latest = next;
      setTask(next);
    });
    source.addEventListener("agent", (e) => {
      const event = JSON.parse(e.data) as AgentEventJson;
      setLatestSeq((prev) => Math.max(prev, event.seq));
    });
    source.addEventListener("messages", (e) => setPendingMessages(JSON.parse(e.data) as SentMessageJson[]));
    source.addEventListener("error", () => {
      // Over once the task and its subtasks have ended; until then the header follows the subtasks.
      if (latest && streamIsOver(latest)) source.close();
      else if (source.readyState === EventSource.CLOSED) setLost(true);
    });
    return () => source.close();
  }, [taskId]);

  return { task, latestSeq, lost, pendingMessages };
}
