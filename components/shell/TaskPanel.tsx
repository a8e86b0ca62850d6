"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { type ReactNode, useEffect } from "react";

/**
 * The right panel: task (or pull request, or task graph: `kind`) details beside the chat. On phones it covers the page.
 * Closing it (the button, Esc) goes back to the page it was opened from. `graph` links a task to its task graph.
 */
export function TaskPanel({
  title,
  fullPage,
  kind = "Task",
  graph,
  children,
}: {
  title: string;
  fullPage: string;
  kind?: "Task" | "Pull request" | "Task graph";
  graph?: string;
  children: ReactNode;
}) {
  const router = useRouter();
  useEffect(() => {
    const close = () => router.back();
    document.addEventListener("sam:close-panel", close);
    return () => document.removeEventListener("sam:close-panel", close);
  }, [router]);
  return (
    <aside
      aria-label={`${kind}: ${title}`}
      data-testid="task-panel"
      className="absolute inset-0 z-20 flex flex-col border-l border-zinc-200 bg-white lg:static lg:z-auto lg:w-[32rem] lg:shrink-0 dark:border-zinc-800 dark:bg-zinc-950"
    >
      <div className="flex h-10 shrink-0 items-center gap-2 border-b border-zinc-200 px-3 text-sm dark:border-zinc-800">
        <span className="font-medium text-zinc-600 dark:text-zinc-400">{kind} details</span>
        {graph ? (
          <Link
            href={graph}
            data-testid="task-graph-link"
            className="ml-auto text-zinc-600 underline dark:text-zinc-400"
          >
            Graph
          </Link>
        ) : null}
        <a href={fullPage} className={`${graph ? "" : "ml-auto "}text-zinc-600 underline dark:text-zinc-400`}>
          Open full page
        </a>
        <button
          type="button"
          aria-label={`Close ${kind.toLowerCase()} details`}
          onClick={() => router.back()}
          className="rounded-md p-1 hover:bg-zinc-100 dark:hover:bg-zinc-900"
        >
          <svg aria-hidden viewBox="0 0 20 20" className="size-4" fill="currentColor">
            <path d="M5.3 4 10 8.6 14.7 4 16 5.3 11.4 10l4.6 4.7-1.3 1.3-4.7-4.6L5.3 16 4 14.7 8.6 10 4 5.3z" />
          </svg>
        </button>
      </div>
      <div className="min-h-0 flex-1 overflow-y-auto p-4">{children}</div>
    </aside>
  );
}
