import Link from "next/link";

export type ProjectTab = "chat" | "ideas" | "settings";

export function ProjectNav({ projectId, name, current }: { projectId: string; name: string; current?: ProjectTab }) {
  const tab = (href: string, label: string, active: boolean) => (
    <Link
      href={href}
      aria-current={active ? "page" : undefined}
      className={`rounded-md px-3 py-1.5 text-sm ${active ? "bg-zinc-200 font-medium dark:bg-zinc-800" : "hover:bg-zinc-100 dark:hover:bg-zinc-900"}`}
    >
      {label}
    </Link>
  );
  return (
    <nav aria-label="Project" className="mb-4 flex flex-wrap items-center gap-2">
      <h1 className="mr-4 min-w-0 truncate text-xl font-semibold tracking-tight">{name}</h1>
      {tab(`/projects/${projectId}`, "Chat", current === "chat")}
      {tab(`/projects/${projectId}/ideas`, "Ideas", current === "ideas")}
      {tab(`/projects/${projectId}/settings`, "Settings", current === "settings")}
    </nav>
  );
}
