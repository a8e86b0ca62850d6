/** The share of a group's children that completed, as a bar and as "1/3 completed". */
export function GroupProgress({ completed, total, failed }: { completed: number; total: number; failed: boolean }) {
  const percent = total === 0 ? 0 : Math.round((completed / total) * 100);
  const text = `${completed}/${total} completed`;
  return (
    <div data-testid="group-progress" className="flex items-center gap-2">
      <div
        role="progressbar"
        aria-label="Subtasks completed"
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={completed}
        aria-valuetext={text}
        className="h-1.5 flex-1 overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
      >
        <div
          className={`h-full rounded-full transition-[width] ${failed ? "bg-red-500" : "bg-emerald-500"}`}
          style={{ width: `${percent}%` }}
        />
      </div>
      <span className="shrink-0 text-[11px] tabular-nums text-zinc-600 dark:text-zinc-400">{text}</span>
    </div>
  );
}
