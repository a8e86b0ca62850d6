/** How many subtasks a task dispatched, as "N SUB". */
export function SubCountBadge({ count }: { count: number }) {
  if (count === 0) return null;
  return (
    <span
      data-testid="sub-count"
      title={`${count} subtask${count === 1 ? "" : "s"}`}
      className="shrink-0 rounded bg-violet-100 px-1.5 py-0.5 text-[10px] font-bold tracking-wide text-violet-800 dark:bg-violet-950 dark:text-violet-300"
    >
      {count} SUB
    </span>
  );
}
