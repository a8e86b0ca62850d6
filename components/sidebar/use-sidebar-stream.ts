import { useEffect, useRef, useState } from "react";
import type { SidebarChanges } from "@/lib/sidebar/types";

export type SidebarStreamState = "connecting" | "live" | "reconnecting" | "lost";

/**
 * The project's sidebar changes after `after` (a page's changesAfter). A new `after` reconnects
 * from there, so changes made while a page was loading are sent again rather than lost; a dropped
 * connection resumes from the last change it got (Last-Event-ID).
 */
export function useSidebarStream(projectId: string, after: number, onChanges: (changes: SidebarChanges) => void) {
  const [state, setState] = useState<SidebarStreamState>("connecting");
  const handler = useRef(onChanges);
  handler.current = onChanges;

  useEffect(() => {
    const source = new EventSource(`/api/projects/${encodeURIComponent(projectId)}/tasks/stream?after=${after}`);
    source.addEventListener("open", () => setState("live"));
    source.addEventListener("changes", (e) => handler.current(JSON.parse(e.data) as SidebarChanges));
    source.addEventListener("error", () => {
      // CLOSED: the server refused (signed out, access removed); CONNECTING: the browser retries.
      setState(source.readyState === EventSource.CLOSED ? "lost" : "reconnecting");
    });
    return () => source.close();
  }, [projectId, after]);

  return state;
}
