import { useCallback, useRef, useState } from "react";
import { useSidebarStream } from "@/components/sidebar/use-sidebar-stream";
import type { TaskGraph } from "@/lib/graph/types";

/**
 * The graph, kept current by the project's sidebar stream: every change to a task of the tree
 * (status, a new subtask, a dependency) comes as a fresh group of its root there, and the graph is
 * read again then. Reads never overlap: changes that arrive during one are covered by one more.
 */
export function useLiveTaskGraph(initial: TaskGraph) {
  const [graph, setGraph] = useState(initial);
  const reading = useRef(false);
  const again = useRef(false);
  const url = `/api/projects/${encodeURIComponent(initial.projectId)}/tasks/${encodeURIComponent(initial.focusId)}/graph`;

  const refresh = useCallback(async () => {
    if (reading.current) {
      again.current = true;
      return;
    }
    reading.current = true;
    try {
      do {
        again.current = false;
        // A failed or refused read (offline, signed out) leaves the last graph; the next change reads again.
        const res = await fetch(url, { cache: "no-store" }).catch(() => null);
        if (res?.ok) setGraph((await res.json()) as TaskGraph);
      } while (again.current);
    } finally {
      reading.current = false;
    }
  }, [url]);

  const state = useSidebarStream(initial.projectId, initial.changesAfter, (changes) => {
    if (changes.groups.some((group) => group.id === initial.rootId)) void refresh();
  });
  return { graph, state };
}
