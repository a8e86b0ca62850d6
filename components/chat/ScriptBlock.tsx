"use client";

import { useId, useState } from "react";
import { ScrollablePre } from "./ScrollablePre";

/** "Script: 4 steps" for a sam-script's JSON array; a script that does not parse says so. */
export function scriptSummary(source: string): string {
  try {
    const steps: unknown = JSON.parse(source);
    if (Array.isArray(steps)) return `Script: ${steps.length} step${steps.length === 1 ? "" : "s"}`;
  } catch {
    // Shown as it is once opened; the agent reports what is wrong with it.
  }
  return "Script (not a list of steps)";
}

/**
 * A ```sam-script block (the steps the offline model plays) folded to one line: the steps are for
 * the model, not for reading, until someone opens them.
 */
export function ScriptBlock({ source }: { source: string }) {
  const [open, setOpen] = useState(false);
  const bodyId = useId();
  return (
    <div data-testid="script-block" className="my-2 rounded-md border border-zinc-300 dark:border-zinc-700">
      <button
        type="button"
        aria-expanded={open}
        aria-controls={bodyId}
        onClick={() => setOpen((o) => !o)}
        className="flex w-full items-center gap-2 px-3 py-1.5 text-left font-mono text-xs text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
      >
        <span aria-hidden>{open ? "▾" : "▸"}</span>
        {scriptSummary(source)}
      </button>
      <ScrollablePre
        label="Script"
        id={bodyId}
        hidden={!open}
        className="max-h-72 overflow-auto whitespace-pre-wrap break-words border-t border-zinc-300 p-2 font-mono text-xs dark:border-zinc-700"
      >
        {source}
      </ScrollablePre>
    </div>
  );
}
