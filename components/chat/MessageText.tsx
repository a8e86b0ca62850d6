"use client";

import { useEffect, useId, useRef, useState } from "react";
import { MarkdownText } from "./MarkdownText";

const LONG_CHARS = 1200;
const LONG_LINES = 20;
const SCRIPT = /```sam-script[ \t]*\r?\n[\s\S]*?```/g;

/** Long enough to fold: what is read, not counting sam-script blocks (they fold on their own). */
export function isLongMessage(text: string): boolean {
  const read = text.replace(SCRIPT, "");
  return read.length > LONG_CHARS || read.split("\n").length > LONG_LINES;
}

/**
 * A message's markdown; a long one is folded to its first lines until "Show more". One that is long
 * by its length but fits in the folded height anyway (short lines that markdown joins, a wide
 * screen) is shown whole once the browser has measured it.
 */
export function MessageText({ text }: { text: string }) {
  const [open, setOpen] = useState(false);
  const [fits, setFits] = useState(false);
  const body = useRef<HTMLDivElement>(null);
  const bodyId = useId();
  useEffect(() => {
    const el = body.current;
    if (!el) return;
    if (el.scrollHeight <= el.clientHeight + 1) setFits(true);
    // Tabbing to a link or a toggle under the fold opens it, so keyboard focus is never hidden.
    const onFocusIn = (e: FocusEvent) => {
      if (e.target instanceof Element && e.target.matches(":focus-visible")) setOpen(true);
    };
    el.addEventListener("focusin", onFocusIn);
    return () => el.removeEventListener("focusin", onFocusIn);
  }, []);
  if (!isLongMessage(text) || fits) return <MarkdownText text={text} />;
  return (
    <div data-testid="long-message" data-expanded={open}>
      {/* Folded text is cut off, not gone: the fade says there is more. */}
      <div
        ref={body}
        id={bodyId}
        className={
          open ? undefined : "max-h-60 overflow-clip [mask-image:linear-gradient(to_bottom,black_70%,transparent)]"
        }
      >
        <MarkdownText text={text} />
      </div>
      <button
        type="button"
        data-testid="long-message-toggle"
        aria-expanded={open}
        aria-controls={bodyId}
        onClick={() => setOpen((o) => !o)}
        className="mt-1 text-xs font-medium text-blue-700 underline hover:no-underline dark:text-blue-300"
      >
        {open ? "Show less" : "Show more"}
      </button>
    </div>
  );
}
