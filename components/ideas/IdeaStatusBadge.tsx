import type { IdeaStatus } from "@/db/schema";
import { STATUS_LABEL } from "./idea-labels";

const STYLE: Record<IdeaStatus, string> = {
  draft: "bg-zinc-100 text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300",
  exploring: "bg-violet-100 text-violet-800 dark:bg-violet-950 dark:text-violet-300",
  ready: "bg-sky-100 text-sky-800 dark:bg-sky-950 dark:text-sky-300",
  executing: "bg-blue-100 text-blue-800 dark:bg-blue-950 dark:text-blue-300",
  done: "bg-emerald-100 text-emerald-800 dark:bg-emerald-950 dark:text-emerald-300",
  parked: "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-300",
};

/** An idea's status as a coloured pill. */
export function IdeaStatusBadge({ status }: { status: IdeaStatus }) {
  return (
    <span
      data-idea-status={status}
      className={`inline-flex shrink-0 items-center rounded-full px-2 py-0.5 text-xs font-medium ${STYLE[status]}`}
    >
      {STATUS_LABEL[status]}
    </span>
  );
}
