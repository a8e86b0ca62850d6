import { useEffect, useRef, useState } from "react";
import { type AgentEventJson, type SentMessageJson, streamIsOver, type TaskJson } from "./task-json";

export type StreamState = "connecting" | "live" | "reconnecting" | "ended" | "lost";

/**
 * The task and its agent events, kept current by the task's event stream. It starts after the
 * events the page was rendered with; on a dropped connection the browser resumes after the last
 * event it got (Last-Event-ID), so nothing is missed or shown twice. `messages` are those sent to
 * the task's session that its agent has not received, as the stream last said.
 */
export function useTaskStream(initialTask: TaskJson, initialEvents: AgentEventJson[]) {
  const [task, setTask] = useState(initialTask);
  const [events, setEvents] = useState(initialEvents);
  const [messages, setMessages] = useState<SentMessageJson[]>([]);
  const [state, setState] = useState<StreamState>("connecting");
  // Where the stream starts is fixed by the first render; later renders must not reconnect it.
  const start = useRef({ task: initialTask, after: initialEvents.at(-1)?.seq ?? 0 });

  useEffect(() => {
    const { after } = start.current;
    let latest = start.current.task;
    const taskId = latest.id;
    const source = new EventSource(`/api/tasks/${encodeURIComponent(taskId)}/stream?after=${after}`);
    source.addEventListener("open", () => setState("live"));
    source.addEventListener("task", (e) => {
      const next = JSON.parse(e.data) as TaskJson;
      latest = next;
      setTask(next);
    });
    source.addEventListener("agent", (e) => {
      const event = JSON.parse(e.data) as AgentEventJson;
      setEvents((prev) => [...prev, event]);
    });
    source.addEventListener("messages", (e) => setMessages(JSON.parse(e.data) as SentMessageJson[]));
    source.addEventListener("error", () => {
      // The server ends the stream once an ended task's events are all out: nothing more to wait for.
      if (streamIsOver(latest)) {
        source.close();
        setState("ended");
      } else {
        // CLOSED: the server refused (signed out, access removed); CONNECTING: the browser retries.
        setState(source.readyState === EventSource.CLOSED ? "lost" : "reconnecting");
      }
    });
    return () => source.close();
  }, []);

  return { task, events, state, messages };
}
