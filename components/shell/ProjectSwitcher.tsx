"use client";

import Link from "next/link";
import { useEffect, useRef } from "react";

/** The current project's name; opened, every project of the user to switch to. */
export function ProjectSwitcher({
  current,
  projects,
}: {
  current: { id: string; name: string };
  projects: { id: string; name: string }[];
}) {
  const menu = useRef<HTMLDetailsElement>(null);
  // A choice (or Esc) closes the menu.
  useEffect(() => {
    const close = (event: KeyboardEvent) => {
      if (event.key === "Escape" && menu.current?.open) menu.current.open = false;
    };
    document.addEventListener("keydown", close);
    return () => document.removeEventListener("keydown", close);
  }, []);
  return (
    <details ref={menu} className="group relative" data-testid="project-switcher">
      <summary className="flex cursor-pointer list-none items-center gap-2 rounded-md px-2 py-1.5 hover:bg-zinc-200/70 dark:hover:bg-zinc-800 [&::-webkit-details-marker]:hidden">
        <span className="flex size-6 shrink-0 items-center justify-center rounded bg-blue-600 text-xs font-semibold text-white uppercase">
          {current.name.slice(0, 1)}
        </span>
        <h2 className="min-w-0 flex-1 truncate font-semibold" data-testid="project-name">
          {current.name}
        </h2>
        <svg aria-hidden viewBox="0 0 20 20" className="size-4 shrink-0 text-zinc-500" fill="currentColor">
          <path d="M6 8l4 4 4-4z" />
        </svg>
        <span className="sr-only">Switch project</span>
      </summary>
      <ul className="absolute inset-x-0 top-full z-50 mt-1 max-h-72 overflow-y-auto rounded-md border border-zinc-200 bg-white p-1 text-sm shadow-lg dark:border-zinc-700 dark:bg-zinc-900">
        {projects.map((project) => (
          <li key={project.id}>
            <Link
              href={`/projects/${project.id}`}
              onClick={() => menu.current?.removeAttribute("open")}
              aria-current={project.id === current.id ? "true" : undefined}
              className="block truncate rounded px-2 py-1.5 hover:bg-zinc-100 aria-[current=true]:font-semibold dark:hover:bg-zinc-800"
            >
              {project.name}
            </Link>
          </li>
        ))}
        <li className="mt-1 border-t border-zinc-200 pt-1 dark:border-zinc-700">
          <Link
            href="/projects"
            onClick={() => menu.current?.removeAttribute("open")}
            className="block rounded px-2 py-1.5 text-zinc-600 hover:bg-zinc-100 dark:text-zinc-400 dark:hover:bg-zinc-800"
          >
            All projects…
          </Link>
        </li>
      </ul>
    </details>
  );
}
