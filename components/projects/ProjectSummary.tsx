import type { ProjectWithRole } from "@/lib/projects/projects";

export function ProjectSummary({ project }: { project: ProjectWithRole }) {
  const rows: [string, string][] = [
    ["Repository", project.repo],
    ["Default branch", project.defaultBranch],
    ["Your role", project.role],
    ["Harness", project.harness],
    ["Model", project.model === "scripted" ? "scripted (offline demo model)" : project.model],
    ["Agent network", project.network === "none" ? "none (only SAM's MCP endpoint)" : "open"],
    ["Max depth", String(project.maxDepth)],
    ["Children per parent", String(project.maxChildren)],
    ["Active dispatched tasks", String(project.maxActiveDispatched)],
    ["Retries per lineage", String(project.maxRetries)],
    ["Stop grace", `${project.stopGraceSeconds} s`],
  ];
  return (
    <dl className="grid grid-cols-1 gap-x-6 gap-y-3 rounded-lg border border-zinc-200 p-4 sm:grid-cols-2 dark:border-zinc-800">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt className="text-xs uppercase tracking-wide text-zinc-600 dark:text-zinc-400">{label}</dt>
          <dd className="break-all font-mono text-sm">{value}</dd>
        </div>
      ))}
    </dl>
  );
}
