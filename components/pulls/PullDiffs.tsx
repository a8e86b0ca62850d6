"use client";

import { useEffect, useMemo, useState } from "react";
import type { FormAction } from "@/components/forms/action-state";
import { DiffFile, type DiffMode } from "./DiffFile";
import type { FileDiff, PullComment } from "./pull-types";

// Files drawn at once, then per step: the first diffs show at once and a PR of hundreds of files
// does not hold the page up while the rest are drawn.
const FIRST_FILES = 10;
const STEP_FILES = 20;
// One empty list for every file without comments, so a drawn file's props stay the same.
const NO_COMMENTS: PullComment[] = [];

/** The PR's diffs, file after file, with the unified / split toggle. */
export function PullDiffs({
  files,
  comments,
  comment,
}: {
  files: FileDiff[];
  comments: PullComment[];
  comment: FormAction;
}) {
  const [mode, setMode] = useState<DiffMode>("unified");
  const [shown, setShown] = useState(Math.min(files.length, FIRST_FILES));
  useEffect(() => {
    if (shown >= files.length) return;
    const timer = setTimeout(() => setShown((n) => Math.min(files.length, n + STEP_FILES)), 0);
    return () => clearTimeout(timer);
  }, [shown, files.length]);
  const byPath = useMemo(() => {
    const map = new Map<string, PullComment[]>();
    for (const c of comments) {
      if (!c.path) continue;
      map.set(c.path, [...(map.get(c.path) ?? []), c]);
    }
    return map;
  }, [comments]);
  if (files.length === 0) {
    return <p className="text-sm text-zinc-600 dark:text-zinc-400">No changes to show.</p>;
  }
  return (
    <div data-testid="pull-diffs" data-drawn={shown === files.length ? "all" : "some"} className="space-y-4">
      <fieldset className="flex items-center gap-1 text-sm">
        <legend className="sr-only">Diff view</legend>
        {(["unified", "split"] as const).map((m) => (
          <label
            key={m}
            className="cursor-pointer rounded-md border border-zinc-300 px-3 py-1 has-[:checked]:bg-zinc-900 has-[:checked]:text-white has-[:focus-visible]:ring-2 dark:border-zinc-700 dark:has-[:checked]:bg-zinc-100 dark:has-[:checked]:text-zinc-900"
          >
            <input
              type="radio"
              name="diff-mode"
              value={m}
              checked={mode === m}
              onChange={() => setMode(m)}
              className="sr-only"
            />
            {m === "unified" ? "Unified" : "Split"}
          </label>
        ))}
      </fieldset>
      {files.slice(0, shown).map((file, index) => (
        <DiffFile
          key={file.path}
          file={file}
          index={index}
          mode={mode}
          comments={byPath.get(file.path) ?? NO_COMMENTS}
          comment={comment}
        />
      ))}
    </div>
  );
}
