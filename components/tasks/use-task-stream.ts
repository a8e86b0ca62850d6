import { useEffect, useRef, useState } from "react";
import { isTerminal } from "@/lib/tasks/statuses";
import type { AgentEventJson, TaskJson } from "./task-json";

export type StreamState = "connecting" | "live" | "reconnecting" | "ended" | "lost";

/**
 * The task and its agent events, kept current by the task's event stream. It starts after the
 * events the page was rendered with; on a dropped connection the browser resumes after the last
 * event it got (Last-Event-ID), so nothing is missed or shown twice.
 */
export function useTaskStream(initialTask: TaskJson, initialEvents: AgentEventJson[]) {
  const [task, setTask] = useState(initialTask);
  const [events, setEvents] = useState(initialEvents);
  const [state, setState] = useState<StreamState>("connecting");
  // Where the stream starts is fixed by the first render; later renders must not reconnect it.
  const start = useRef({ taskId: initialTask.id, status: initialTask.status, after: initialEvents.at(-1)?.seq ?? 0 });

  useEffect(() => {
    const { taskId, after } = start.current;
    let status = start.current.status;
    const source = new EventSource(`/api/tasks/${encodeURIComponent(taskId)}/stream?after=${after}`);
    source.addEventListener("open", () => setState("live"));
    source.addEventListener("task", (e) => {
      const next = JSON.parse(e.data) as TaskJson;
      status = next.status;
      setTask(next);
    });
    source.addEventListener("agent", (e) => {
      const event = JSON.parse(e.data) as AgentEventJson;
      setEvents((prev) => [...prev, event]);
    });
    source.addEventListener("error", () => {
      // The server ends the stream once an ended task's events are all out: nothing more to wait for.
      if (isTerminal(status)) {
        source.close();
        setState("ended");
      } else {
        // CLOSED: the server refused (signed out, access removed); CONNECTING: the browser retries.
        setState(source.readyState === EventSource.CLOSED ? "lost" : "reconnecting");
      }
    });
    return () => source.close();
  }, []);

  return { task, events, state };
}
