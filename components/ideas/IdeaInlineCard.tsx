import Link from "next/link";
import type { IdeaStatus } from "@/db/schema";
import { IdeaIcon } from "./IdeaIcon";
import { IdeaStatusBadge } from "./IdeaStatusBadge";

/** The small card a conversation shows where an agent created or linked an idea. */
export function IdeaInlineCard({
  projectId,
  idea,
}: {
  projectId: string;
  idea: { id: string; title: string; status: IdeaStatus };
}) {
  return (
    <Link
      href={`/projects/${projectId}/ideas/${idea.id}`}
      data-testid="idea-inline-card"
      className="flex max-w-md items-center gap-2 rounded-md border border-zinc-200 bg-zinc-50 px-3 py-2 text-sm hover:border-zinc-400 dark:border-zinc-800 dark:bg-zinc-900 dark:hover:border-zinc-600"
    >
      <IdeaIcon className="h-4 w-4 shrink-0 text-amber-600 dark:text-amber-400" />
      <span className="min-w-0 flex-1 truncate font-medium">{idea.title}</span>
      <IdeaStatusBadge status={idea.status} />
    </Link>
  );
}
