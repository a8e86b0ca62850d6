import { waitingOnLabel } from "@/lib/tasks/waiting-on";

/** "Waiting on N subtasks": shown while a task is awaiting_subtasks (count: its active children). */
export function WaitingOnSubtasks({ count }: { count: number }) {
  if (count === 0) return null;
  return (
    <span
      data-testid="waiting-on"
      className="shrink-0 whitespace-nowrap text-[11px] font-semibold text-indigo-700 dark:text-indigo-300"
    >
      {waitingOnLabel(count)}
    </span>
  );
}
