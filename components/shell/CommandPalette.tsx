"use client";

import { useRouter } from "next/navigation";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import type { JumpKind, JumpResult } from "@/lib/search/jump-search";
import { useShell } from "./ShellProvider";

interface Entry {
  key: string;
  label: string;
  detail: string;
  kind: JumpKind | "page";
  href: string;
}

const KIND_LABEL: Record<Entry["kind"], string> = {
  page: "Page",
  session: "Session",
  task: "Task",
  idea: "Idea",
  project: "Project",
};

/** The pages of the app, and of the project the user is in. */
function pagesOf(project: { id: string; name: string } | undefined): Entry[] {
  const pages: Entry[] = [
    { key: "page:projects", label: "Projects", detail: "All projects", kind: "page", href: "/projects" },
    { key: "page:account", label: "Account", detail: "Tokens and sign-in", kind: "page", href: "/account" },
  ];
  if (!project) return pages;
  const base = `/projects/${project.id}`;
  return [
    { key: "page:new-chat", label: "New chat", detail: project.name, kind: "page", href: base },
    { key: "page:ideas", label: "Ideas", detail: project.name, kind: "page", href: `${base}/ideas` },
    { key: "page:settings", label: "Settings", detail: project.name, kind: "page", href: `${base}/settings` },
    ...pages,
  ];
}

/**
 * Ctrl/⌘-K: jump to any session, task, idea, project or page by typing part of its title. Results
 * come from the server as the user types (the previous request is cancelled); arrows choose, Enter goes.
 */
export function CommandPalette({ projects }: { projects: { id: string; name: string }[] }) {
  const { paletteOpen, setPaletteOpen, projectId } = useShell();
  if (!paletteOpen) return null;
  return (
    <PaletteDialog
      project={projects.find((p) => p.id === projectId)}
      projectId={projectId}
      close={() => setPaletteOpen(false)}
    />
  );
}

function PaletteDialog({
  project,
  projectId,
  close,
}: {
  project: { id: string; name: string } | undefined;
  projectId: string | undefined;
  close: () => void;
}) {
  const router = useRouter();
  const listId = useId();
  const input = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<{ for: string; results: JumpResult[] } | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [active, setActive] = useState(0);

  useEffect(() => {
    input.current?.focus();
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    const params = new URLSearchParams({ q: query, ...(projectId ? { projectId } : {}) });
    fetch(`/api/search?${params}`, { signal: controller.signal })
      .then(async (res) => {
        const body = (await res.json()) as { results?: JumpResult[]; error?: { message?: string } };
        if (!res.ok) throw new Error(body.error?.message ?? "Search failed");
        setError(undefined);
        setFound({ for: query, results: body.results ?? [] });
      })
      .catch((err: unknown) => {
        if (!controller.signal.aborted) setError(err instanceof Error ? err.message : "Search failed");
      });
    return () => controller.abort();
  }, [query, projectId]);

  const entries = useMemo(() => {
    const q = query.trim().toLowerCase();
    const pages = pagesOf(project).filter((p) => q === "" || p.label.toLowerCase().includes(q));
    const results: Entry[] = (found?.results ?? []).map((r) => ({
      key: `${r.kind}:${r.id}`,
      label: r.title,
      detail: [r.projectName, r.status.replaceAll("_", " ")].filter(Boolean).join(" · "),
      kind: r.kind,
      href: r.href,
    }));
    return [...pages, ...results];
  }, [query, found, project]);

  const go = (entry: Entry | undefined) => {
    if (!entry) return;
    close();
    router.push(entry.href);
  };

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((i) => (entries.length === 0 ? 0 : (i + step + entries.length) % entries.length));
    } else if (event.key === "Enter") {
      event.preventDefault();
      go(entries[Math.min(active, entries.length - 1)]);
    }
  };

  const optionId = (i: number) => `${listId}-option-${i}`;
  return (
    <div className="fixed inset-0 z-50 flex items-start justify-center bg-black/40 p-4 pt-[12vh]">
      <button
        type="button"
        aria-label="Close"
        tabIndex={-1}
        onClick={close}
        className="absolute inset-0 cursor-default"
      />
      <div
        role="dialog"
        aria-modal="true"
        aria-label="Jump to"
        data-testid="command-palette"
        className="relative w-full max-w-xl overflow-hidden rounded-xl border border-zinc-200 bg-white shadow-2xl dark:border-zinc-700 dark:bg-zinc-900"
      >
        <input
          ref={input}
          role="combobox"
          aria-expanded="true"
          aria-controls={listId}
          aria-activedescendant={entries.length > 0 ? optionId(Math.min(active, entries.length - 1)) : undefined}
          aria-label="Jump to a session, task, idea or page"
          placeholder="Jump to a session, task, idea or page…"
          value={query}
          onChange={(event) => {
            setQuery(event.target.value);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
          maxLength={200}
          className="w-full border-b border-zinc-200 bg-transparent px-4 py-3 text-base outline-none dark:border-zinc-700"
        />
        {/* Says which query the results are for (the benchmark and tests wait on it). */}
        <div
          id={listId}
          role="listbox"
          aria-label="Results"
          data-results-for={found?.for}
          className="max-h-[60vh] overflow-y-auto p-1"
        >
          {entries.map((entry, i) => (
            <div
              key={entry.key}
              id={optionId(i)}
              role="option"
              tabIndex={-1}
              aria-selected={i === active}
              data-testid="palette-result"
              data-kind={entry.kind}
              onMouseEnter={() => setActive(i)}
              onClick={() => go(entry)}
              onKeyDown={onKeyDown}
              className="flex cursor-pointer items-center gap-3 rounded-md px-3 py-2 text-sm aria-selected:bg-blue-50 dark:aria-selected:bg-blue-950"
            >
              <span className="w-16 shrink-0 text-xs text-zinc-600 dark:text-zinc-400">{KIND_LABEL[entry.kind]}</span>
              <span className="min-w-0 flex-1 truncate font-medium">{entry.label}</span>
              <span className="hidden max-w-[40%] shrink-0 truncate text-xs text-zinc-600 sm:inline dark:text-zinc-400">
                {entry.detail}
              </span>
            </div>
          ))}
          {entries.length === 0 && found ? (
            <p className="px-3 py-6 text-center text-sm text-zinc-600 dark:text-zinc-400">Nothing matches.</p>
          ) : null}
        </div>
        {error ? (
          <p
            role="alert"
            className="border-t border-zinc-200 px-4 py-2 text-xs text-red-700 dark:border-zinc-700 dark:text-red-400"
          >
            {error}
          </p>
        ) : null}
      </div>
    </div>
  );
}
