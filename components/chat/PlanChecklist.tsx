import type { PlanEntry } from "@/lib/chat/chunks";

const MARK: Record<PlanEntry["status"], string> = { completed: "☑", in_progress: "◐", pending: "☐" };
const STATUS: Record<PlanEntry["status"], string> = {
  completed: "done",
  in_progress: "in progress",
  pending: "to do",
};

/** The agent's plan as a checklist: what is done, what it is on, what is left. */
export function PlanChecklist({ entries }: { entries: PlanEntry[] }) {
  const done = entries.filter((e) => e.status === "completed").length;
  return (
    <div data-testid="agent-plan" className="rounded-md border border-zinc-200 px-3 py-2 text-sm dark:border-zinc-800">
      <div className="mb-1 text-xs font-medium text-zinc-600 dark:text-zinc-400">
        Plan · {done} of {entries.length} done
      </div>
      <ul className="space-y-0.5">
        {entries.map((entry, i) => (
          <li
            // The plan is replaced whole; entries have no identity beyond their place.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above
            key={i}
            data-status={entry.status}
            className={`flex gap-2 ${entry.status === "completed" ? "text-zinc-500 line-through dark:text-zinc-500" : ""}`}
          >
            <span aria-hidden>{MARK[entry.status]}</span>
            <span className="sr-only">{STATUS[entry.status]}: </span>
            <span className={entry.status === "in_progress" ? "font-medium" : ""}>{entry.content}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
