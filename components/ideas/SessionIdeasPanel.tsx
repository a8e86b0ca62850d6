import Link from "next/link";
import type { IdeaStatus } from "@/db/schema";
import { IdeaStatusBadge } from "./IdeaStatusBadge";
import { PriorityBadge } from "./PriorityBadge";

export interface SessionIdeaItem {
  id: string;
  title: string;
  status: IdeaStatus;
  priority: number;
  context: string | null;
}

/** The ideas a conversation created or linked, each opening its page. */
export function SessionIdeasPanel({ projectId, ideas }: { projectId: string; ideas: SessionIdeaItem[] }) {
  return (
    <section aria-labelledby="session-ideas-heading" data-testid="session-ideas" className="space-y-2">
      <h2 id="session-ideas-heading" className="text-sm font-semibold">
        Ideas from this conversation{" "}
        <span className="font-normal text-zinc-600 dark:text-zinc-400">({ideas.length})</span>
      </h2>
      {ideas.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          None yet. Ideas the agent captures here show up in this list.
        </p>
      ) : (
        <ul className="space-y-1.5">
          {ideas.map((idea) => (
            <li key={idea.id}>
              <Link
                href={`/projects/${projectId}/ideas/${idea.id}`}
                className="block rounded-md border border-zinc-200 px-3 py-2 text-sm hover:border-zinc-400 dark:border-zinc-800 dark:hover:border-zinc-600"
              >
                <span className="flex items-center gap-2">
                  <span className="min-w-0 flex-1 truncate font-medium">{idea.title}</span>
                  <IdeaStatusBadge status={idea.status} />
                </span>
                <span className="mt-0.5 flex gap-2 text-xs text-zinc-600 dark:text-zinc-400">
                  <PriorityBadge priority={idea.priority} />
                  {idea.context ? <span className="min-w-0 truncate">{idea.context}</span> : null}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
