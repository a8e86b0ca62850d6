import Link from "next/link";
import { requireUser } from "@/app/current-user";
import { loadProjectOr404 } from "@/app/projects/load-project";
import { PullRequestList } from "@/components/pulls/PullRequestList";
import { PageBody } from "@/components/shell/PageBody";
import { getDb } from "@/db/client";
import { PULL_REQUEST_STATES, type PullRequestState } from "@/db/schema";
import { listPullRequests } from "@/lib/pulls/pull-json";

const FILTERS: { state?: PullRequestState; label: string }[] = [
  { label: "All" },
  ...PULL_REQUEST_STATES.map((state) => ({ state, label: state.charAt(0).toUpperCase() + state.slice(1) })),
];

/** The project's pull requests, filtered by state with `?state=open|merged|closed` (any other value shows all). */
export default async function PullsPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ state?: string | string[] }>;
}) {
  const user = await requireUser();
  const project = await loadProjectOr404(user.id, (await params).id);
  const asked = (await searchParams).state;
  const state = PULL_REQUEST_STATES.find((s) => s === asked);
  const pulls = await listPullRequests(getDb(), project.id, state);
  return (
    <PageBody title="Pull requests">
      <nav aria-label="Filter by state" className="mb-4">
        <ul className="flex flex-wrap gap-1">
          {FILTERS.map((f) => (
            <li key={f.label}>
              <Link
                href={`/projects/${project.id}/pulls${f.state ? `?state=${f.state}` : ""}`}
                aria-current={f.state === state ? "true" : undefined}
                className="block rounded-md border border-zinc-300 px-3 py-1 text-sm hover:bg-zinc-100 aria-[current=true]:bg-zinc-900 aria-[current=true]:text-white dark:border-zinc-700 dark:hover:bg-zinc-900 dark:aria-[current=true]:bg-zinc-100 dark:aria-[current=true]:text-zinc-900"
              >
                {f.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <PullRequestList projectId={project.id} pulls={pulls} />
    </PageBody>
  );
}
