import Link from "next/link";

export interface ProjectListItem {
  id: string;
  name: string;
  repo: string;
  defaultBranch: string;
  role: string;
  archivedAt: Date | null;
}

export function ProjectList({ projects }: { projects: ProjectListItem[] }) {
  if (projects.length === 0) {
    return (
      <p className="rounded-lg border border-dashed border-zinc-300 p-6 text-center text-sm text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
        No projects yet. Add a git repository to start.
      </p>
    );
  }
  return (
    <ul
      className="divide-y divide-zinc-200 rounded-lg border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800"
      data-testid="project-list"
    >
      {projects.map((p) => (
        <li key={p.id}>
          <Link href={`/projects/${p.id}`} className="block px-4 py-3 hover:bg-zinc-50 dark:hover:bg-zinc-900">
            <div className="flex items-center gap-2">
              <span className="font-medium">{p.name}</span>
              {p.archivedAt ? (
                <span className="rounded bg-zinc-200 px-1.5 py-0.5 text-xs dark:bg-zinc-800">archived</span>
              ) : null}
              <span className="ml-auto text-xs text-zinc-600 dark:text-zinc-400">{p.role}</span>
            </div>
            <div className="mt-0.5 truncate font-mono text-xs text-zinc-600 dark:text-zinc-400">
              {p.repo} · {p.defaultBranch}
            </div>
          </Link>
        </li>
      ))}
    </ul>
  );
}
