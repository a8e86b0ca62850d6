import Link from "next/link";

export function ProjectNav({
  projectId,
  name,
  current,
}: {
  projectId: string;
  name: string;
  current: "overview" | "settings";
}) {
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
    <div className="mb-6 flex flex-wrap items-center gap-2">
      <h1 className="mr-4 text-2xl font-semibold tracking-tight">{name}</h1>
      {tab(`/projects/${projectId}`, "Overview", current === "overview")}
      {tab(`/projects/${projectId}/settings`, "Settings", current === "settings")}
    </div>
  );
}
