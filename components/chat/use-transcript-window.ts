"use client";

import { type RefObject, useCallback, useLayoutEffect, useRef, useState } from "react";

/** How many messages a long transcript shows at first, and how many more each step up reveals. */
export const TRANSCRIPT_WINDOW = 60;

/**
 * A long transcript renders its newest messages first and earlier ones as the reader scrolls up (or
 * asks for them): a session of hundreds of messages opens at once instead of rendering them all.
 * Revealing keeps what the reader was looking at in place.
 */
export function useTranscriptWindow(count: number, scroller: RefObject<HTMLDivElement | null>) {
  const [first, setFirst] = useState(() => Math.max(0, count - TRANSCRIPT_WINDOW));
  const heightBefore = useRef<number | undefined>(undefined);
  const start = Math.min(first, count);

  const showEarlier = useCallback(() => {
    if (start === 0 || heightBefore.current !== undefined) return;
    heightBefore.current = scroller.current?.scrollHeight ?? 0;
    setFirst(Math.max(0, start - TRANSCRIPT_WINDOW));
  }, [start, scroller]);

  // After the render that revealed them (any render is cheap to check).
  useLayoutEffect(() => {
    const pane = scroller.current;
    if (heightBefore.current === undefined || !pane) return;
    pane.scrollTop += pane.scrollHeight - heightBefore.current;
    heightBefore.current = undefined;
  });

  return { start, showEarlier };
}
