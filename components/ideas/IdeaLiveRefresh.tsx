"use client";

import { useRouter } from "next/navigation";
import { useCallback, useRef } from "react";
import type { BoardCardJson } from "./board-types";
import { useBoardStream } from "./use-board-stream";

/** Keeps an idea's page current: when the idea's card changes on the board stream, the page reloads its data. */
export function IdeaLiveRefresh({ projectId, ideaId }: { projectId: string; ideaId: string }) {
  const router = useRouter();
  const last = useRef<string | undefined>(undefined);
  const onBoard = useCallback(
    (cards: BoardCardJson[]) => {
      const card = JSON.stringify(cards.find((c) => c.id === ideaId) ?? null);
      if (last.current !== undefined && last.current !== card) router.refresh();
      last.current = card;
    },
    [ideaId, router],
  );
  const state = useBoardStream(projectId, onBoard);
  return <span data-testid="idea-stream" data-state={state} hidden />;
}
