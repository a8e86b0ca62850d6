"use client";

import { usePathname } from "next/navigation";
import { useCallback, useEffect, useRef, useState } from "react";
import { applyChanges, type SidebarList } from "@/lib/sidebar/apply-changes";
import type { SidebarFilter } from "@/lib/sidebar/filters";
import type { FilterCounts, SidebarChanges, SidebarPage } from "@/lib/sidebar/types";
import { SidebarFilterBar } from "./SidebarFilterBar";
import { TaskGroupCard } from "./TaskGroupCard";
import { type SidebarStreamState, useSidebarStream } from "./use-sidebar-stream";

const STREAM_LABEL: Record<SidebarStreamState, string> = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  lost: "Live updates stopped; reload the page",
};

const EMPTY: Record<SidebarFilter, string> = {
  all: "No sessions yet. Start one in the chat.",
  active: "Nothing is running or waiting.",
  blocked: "Nothing is blocked.",
  failed: "Nothing failed.",
  done: "Nothing has finished yet.",
};

/**
 * The project's sessions and tasks, newest first, kept current by the project's change stream:
 * each root task is a card with its subtasks; a filter narrows them by state; older ones load on
 * demand.
 */
export function ProjectSidebar({ projectId, initialPage }: { projectId: string; initialPage: SidebarPage }) {
  const pathname = usePathname();
  const [list, setList] = useState<SidebarList>({
    filter: initialPage.filter,
    query: initialPage.query,
    groups: initialPage.groups,
    nextCursor: initialPage.nextCursor,
  });
  const [counts, setCounts] = useState<FilterCounts>(initialPage.counts);
  const [streamFrom, setStreamFrom] = useState(initialPage.changesAfter);
  const [loading, setLoading] = useState<"filter" | "more" | undefined>();
  const [error, setError] = useState<string | undefined>();

  const onChanges = useCallback((changes: SidebarChanges) => {
    setList((current) => ({ ...current, groups: applyChanges(current, changes) }));
    setCounts(changes.counts);
  }, []);
  const streamState = useSidebarStream(projectId, streamFrom, onChanges);

  async function fetchPage(filter: SidebarFilter, q: string, cursor?: string): Promise<SidebarPage | undefined> {
    const query = new URLSearchParams({ filter, ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) });
    try {
      const res = await fetch(`/api/projects/${encodeURIComponent(projectId)}/tasks?${query}`);
      if (!res.ok) throw new Error(((await res.json()) as { error?: { message?: string } }).error?.message);
      setError(undefined);
      return (await res.json()) as SidebarPage;
    } catch (err) {
      setError(err instanceof Error && err.message ? err.message : "Could not load the sessions");
      return undefined;
    }
  }

  async function showPage(filter: SidebarFilter, query: string) {
    setLoading("filter");
    const page = await fetchPage(filter, query);
    setLoading(undefined);
    if (!page) return;
    setList({ filter, query, groups: page.groups, nextCursor: page.nextCursor });
    setCounts(page.counts);
    setStreamFrom(page.changesAfter);
  }

  async function changeFilter(filter: SidebarFilter) {
    if (filter === list.filter || loading) return;
    await showPage(filter, list.query ?? "");
  }

  // The search runs once typing pauses; a newer search replaces the one under way.
  const [search, setSearch] = useState(initialPage.query);
  const searched = useRef(initialPage.query);
  const filterNow = useRef(list.filter);
  filterNow.current = list.filter;
  const showPageRef = useRef(showPage);
  showPageRef.current = showPage;
  useEffect(() => {
    const q = search.trim();
    if (q === searched.current) return;
    const timer = setTimeout(() => {
      searched.current = q;
      void showPageRef.current(filterNow.current, q);
    }, 200);
    return () => clearTimeout(timer);
  }, [search]);

  async function loadMore() {
    if (!list.nextCursor || loading) return;
    setLoading("more");
    const page = await fetchPage(list.filter, list.query ?? "", list.nextCursor);
    setLoading(undefined);
    if (!page) return;
    setList((current) => ({
      ...current,
      groups: [...current.groups, ...page.groups.filter((g) => !current.groups.some((s) => s.id === g.id))],
      nextCursor: page.nextCursor,
    }));
    setStreamFrom(page.changesAfter);
  }

  return (
    <section data-testid="project-sidebar" className="space-y-3">
      <div className="flex items-center justify-between gap-2">
        <h2 className="text-sm font-semibold tracking-tight">Sessions</h2>
        <span
          data-testid="sidebar-stream-state"
          data-state={streamState}
          className="text-[11px] text-zinc-600 dark:text-zinc-400"
          aria-live="polite"
        >
          {STREAM_LABEL[streamState]}
        </span>
      </div>
      <input
        type="search"
        data-shell-search
        data-testid="session-search"
        aria-label="Search sessions and tasks"
        placeholder="Search sessions…  /"
        value={search}
        maxLength={200}
        onChange={(event) => setSearch(event.target.value)}
        className="w-full rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-950"
      />
      <SidebarFilterBar filter={list.filter} counts={counts} onChange={changeFilter} />
      {error ? (
        <p role="alert" className="text-xs text-red-700 dark:text-red-400">
          {error}
        </p>
      ) : null}
      {list.groups.length === 0 ? (
        <p className="rounded-lg border border-dashed border-zinc-300 p-4 text-center text-xs text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
          {list.query ? `Nothing matches “${list.query}”.` : EMPTY[list.filter]}
        </p>
      ) : (
        <ul aria-label="Sessions" aria-busy={loading === "filter"} className="space-y-2">
          {list.groups.map((group) => (
            <TaskGroupCard key={group.id} projectId={projectId} group={group} currentPath={pathname} />
          ))}
        </ul>
      )}
      {list.nextCursor ? (
        <button
          type="button"
          onClick={loadMore}
          disabled={loading !== undefined}
          className="w-full rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-50 disabled:opacity-60 dark:border-zinc-700 dark:hover:bg-zinc-900"
        >
          {loading === "more" ? "Loading…" : "Load more"}
        </button>
      ) : null}
    </section>
  );
}
