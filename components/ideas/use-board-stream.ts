import { useEffect, useState } from "react";
import type { BoardCardJson } from "./board-types";

export type BoardStreamState = "connecting" | "live" | "reconnecting" | "lost";

/** Calls `onBoard` with every board the project's idea stream sends, for as long as the page is open. */
export function useBoardStream(projectId: string, onBoard: (cards: BoardCardJson[]) => void): BoardStreamState {
  const [state, setState] = useState<BoardStreamState>("connecting");
  useEffect(() => {
    const source = new EventSource(`/api/projects/${encodeURIComponent(projectId)}/ideas/stream`);
    source.addEventListener("open", () => setState("live"));
    source.addEventListener("board", (e) => onBoard(JSON.parse(e.data) as BoardCardJson[]));
    source.addEventListener("error", () =>
      setState(source.readyState === EventSource.CLOSED ? "lost" : "reconnecting"),
    );
    return () => source.close();
  }, [projectId, onBoard]);
  return state;
}
