/**
 * The share of a group's children that completed, as a bar and as "1/3 completed". A native
 * progress element draws the bar: an inline width would be refused by the content security policy.
 */
export function GroupProgress({ completed, total, failed }: { completed: number; total: number; failed: boolean }) {
  const text = `${completed}/${total} completed`;
  const fill = failed
    ? "[&::-moz-progress-bar]:bg-red-500 [&::-webkit-progress-value]:bg-red-500"
    : "[&::-moz-progress-bar]:bg-emerald-500 [&::-webkit-progress-value]:bg-emerald-500";
  return (
    <div data-testid="group-progress" className="flex items-center gap-2">
      <progress
        aria-label="Subtasks completed"
        value={completed}
        max={Math.max(total, 1)}
        aria-valuemin={0}
        aria-valuemax={total}
        aria-valuenow={completed}
        aria-valuetext={text}
        className={`h-1.5 min-w-0 flex-1 appearance-none overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800 [&::-moz-progress-bar]:rounded-full [&::-webkit-progress-bar]:bg-zinc-200 dark:[&::-webkit-progress-bar]:bg-zinc-800 [&::-webkit-progress-value]:rounded-full [&::-webkit-progress-value]:transition-[width] ${fill}`}
      />
      <span className="shrink-0 text-[11px] tabular-nums text-zinc-600 dark:text-zinc-400">{text}</span>
    </div>
  );
}
