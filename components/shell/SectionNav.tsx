"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

export type ProjectSection = "chat" | "ideas" | "pulls" | "settings";

/** Which section a path of the project is in: chat covers sessions and tasks too. */
export function sectionOf(pathname: string, projectId: string): ProjectSection {
  const rest = pathname.slice(`/projects/${projectId}`.length);
  if (rest.startsWith("/ideas")) return "ideas";
  if (rest.startsWith("/pulls")) return "pulls";
  if (rest.startsWith("/settings")) return "settings";
  return "chat";
}

/** The project's sections, the current one highlighted. */
export function SectionNav({ projectId }: { projectId: string }) {
  const current = sectionOf(usePathname(), projectId);
  const item = (section: ProjectSection, href: string, label: string) => (
    <li>
      <Link
        href={href}
        aria-current={current === section ? "true" : undefined}
        data-section={section}
        className="block rounded-md px-2 py-1.5 text-sm text-zinc-700 hover:bg-zinc-200/70 aria-[current=true]:bg-zinc-200 aria-[current=true]:font-semibold aria-[current=true]:text-zinc-950 dark:text-zinc-300 dark:hover:bg-zinc-800 dark:aria-[current=true]:bg-zinc-800 dark:aria-[current=true]:text-white"
      >
        {label}
      </Link>
    </li>
  );
  return (
    <ul aria-label="Sections" className="space-y-0.5">
      {item("chat", `/projects/${projectId}`, "Chat")}
      {item("ideas", `/projects/${projectId}/ideas`, "Ideas")}
      {item("pulls", `/projects/${projectId}/pulls`, "Pull requests")}
      {item("settings", `/projects/${projectId}/settings`, "Settings")}
    </ul>
  );
}
