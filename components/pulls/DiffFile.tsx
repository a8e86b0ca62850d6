"use client";

// Diffs are drawn by react-diff-view: it parses git's unified diff as the core produces it, draws
// unified and split views as plain tables styled by static CSS, and puts any React node under a
// line (comments, the comment form). @git-diff-view/react was tried first: it also works with
// React 19 and Next 16, but inserts <style> elements at run time, which the app's nonce-based
// content security policy refuses. Highlighting is lowlight (highlight.js), the engine the app's
// markdown already uses.
import { common, createLowlight } from "lowlight";
import { memo, type ReactNode, useCallback, useEffect, useMemo, useState } from "react";
import {
  type ChangeData,
  Decoration,
  Diff,
  type FileData,
  type GutterOptions,
  getChangeKey,
  Hunk,
  type HunkTokens,
  parseDiff,
  tokenize,
} from "react-diff-view";
import "react-diff-view/style/index.css";
import "./diff.css";
import type { FormAction } from "@/components/forms/action-state";
import { CommentForm, LineComments } from "./LineComment";
import { LineCounts } from "./PullStateBadge";
import type { FileDiff, PullComment } from "./pull-types";

/** Files with more changed lines than this start collapsed: the page stays quick to read and to draw. */
export const LARGE_FILE_LINES = 400;

export type DiffMode = "unified" | "split";

const lowlight = createLowlight(common);

/** lowlight as the tokenizer expects a highlighter: refractor's argument order, and the root's nodes. */
const highlighter = {
  highlight: (text: string, language: string) => lowlight.highlight(language, text).children,
};

/** The highlight.js language of a file, from its extension; undefined when none is known. */
function languageOf(path: string): string | undefined {
  const name = path.split("/").pop() ?? path;
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
  return ext && lowlight.registered(ext) ? ext : undefined;
}

/** The line of the new version a change is on, if it is on one (a deleted line is not). */
function newLineOf(change: ChangeData): number | undefined {
  if (change.type === "insert") return change.lineNumber;
  if (change.type === "normal") return change.newLineNumber;
  return undefined;
}

function tokensOf(file: FileData, path: string): HunkTokens | null {
  const language = languageOf(path);
  if (!language) return null;
  try {
    return tokenize(file.hunks, { highlight: true, refractor: highlighter, language });
  } catch {
    return null;
  }
}

/**
 * The file's highlighting, worked out when the browser is idle: the diff is drawn plain at once and
 * coloured a moment later, so a PR of hundreds of files shows all its diffs quickly.
 */
function useIdleTokens(file: FileData | undefined, path: string): HunkTokens | null {
  const [tokens, setTokens] = useState<HunkTokens | null>(null);
  useEffect(() => {
    setTokens(null);
    if (!file) return;
    const work = () => setTokens(tokensOf(file, path));
    if ("requestIdleCallback" in window) {
      const id = window.requestIdleCallback(work, { timeout: 2000 });
      return () => window.cancelIdleCallback(id);
    }
    const timer = setTimeout(work, 0);
    return () => clearTimeout(timer);
  }, [file, path]);
  return tokens;
}

/**
 * One changed file: its path, status and line counts, and its diff (unified or split), highlighted.
 * Large files start collapsed behind a button; binary files are named, not drawn. Each line of the
 * new version has its number as a button that opens a comment form under it; comments show under
 * their lines. Memoised: drawing more files, or a comment on one, leaves the others as they are.
 */
export const DiffFile = memo(function DiffFile({
  file,
  index,
  mode,
  comments,
  comment,
}: {
  file: FileDiff;
  index: number;
  mode: DiffMode;
  comments: PullComment[];
  comment: FormAction;
}) {
  const changed = file.additions + file.deletions;
  const [open, setOpen] = useState(changed <= LARGE_FILE_LINES);
  const [commenting, setCommenting] = useState<number | undefined>(undefined);
  const parsed = useMemo(() => (file.binary ? undefined : parseDiff(file.patch)[0]), [file]);
  const tokens = useIdleTokens(open ? parsed : undefined, file.path);

  const widgets = useMemo(() => {
    if (!parsed) return {};
    const byLine = new Map<number, PullComment[]>();
    for (const c of comments) if (c.line !== null) byLine.set(c.line, [...(byLine.get(c.line) ?? []), c]);
    const out: Record<string, ReactNode> = {};
    for (const hunk of parsed.hunks) {
      for (const change of hunk.changes) {
        const line = newLineOf(change);
        if (line === undefined || (!byLine.has(line) && commenting !== line)) continue;
        out[getChangeKey(change)] = (
          <div className="pull-diff-widget">
            {byLine.has(line) ? <LineComments comments={byLine.get(line) ?? []} /> : null}
            {commenting === line ? (
              <CommentForm
                comment={comment}
                place={{ path: file.path, line }}
                onDone={() => setCommenting(undefined)}
              />
            ) : null}
          </div>
        );
      }
    }
    return out;
  }, [parsed, comments, commenting, comment, file.path]);

  const renderGutter = useCallback(({ change, side, renderDefault }: GutterOptions) => {
    const line = side === "new" ? newLineOf(change) : undefined;
    if (line === undefined) return renderDefault();
    return (
      <button
        type="button"
        data-new-line={line}
        aria-label={`Comment on line ${line}`}
        onClick={() => setCommenting(line)}
        className="pull-diff-line-button"
      >
        {line}
      </button>
    );
  }, []);

  const headingId = `diff-file-${index}`;
  let body: ReactNode;
  if (file.binary) {
    body = <p className="px-3 py-2 text-sm text-zinc-600 dark:text-zinc-400">Binary file, not shown.</p>;
  } else if (!parsed || parsed.hunks.length === 0) {
    body = <p className="px-3 py-2 text-sm text-zinc-600 dark:text-zinc-400">No changed lines.</p>;
  } else if (!open) {
    body = (
      <div className="px-3 py-3">
        <button
          type="button"
          onClick={() => setOpen(true)}
          className="rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          Show the diff ({changed.toLocaleString("en")} changed lines)
        </button>
      </div>
    );
  } else {
    body = (
      // The diff scrolls sideways inside itself; the page keeps its width.
      <div
        data-testid="diff-body"
        data-highlight={tokens ? "done" : languageOf(file.path) ? "pending" : "none"}
        className="pull-diff overflow-x-auto"
      >
        <Diff
          viewType={mode}
          diffType={parsed.type}
          hunks={parsed.hunks}
          tokens={tokens}
          widgets={widgets}
          renderGutter={renderGutter}
        >
          {(hunks) =>
            hunks.flatMap((hunk) => [
              <Decoration key={`decoration-${hunk.content}`}>{hunk.content}</Decoration>,
              <Hunk key={`hunk-${hunk.content}`} hunk={hunk} />,
            ])
          }
        </Diff>
      </div>
    );
  }
  return (
    <section
      aria-labelledby={headingId}
      data-testid="diff-file"
      data-path={file.path}
      className="pull-diff-file min-w-0 overflow-hidden rounded-lg border border-zinc-200 dark:border-zinc-800"
    >
      <header className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-zinc-200 bg-zinc-50 px-3 py-2 dark:border-zinc-800 dark:bg-zinc-900">
        <h3 id={headingId} className="min-w-0 break-all font-mono text-sm">
          {file.oldPath && file.oldPath !== file.path ? `${file.oldPath} → ${file.path}` : file.path}
        </h3>
        <span className="text-xs text-zinc-600 dark:text-zinc-400">{file.status}</span>
        <span className="ml-auto">
          <LineCounts additions={file.additions} deletions={file.deletions} />
        </span>
      </header>
      {body}
    </section>
  );
});
