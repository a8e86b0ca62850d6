/** What a queued task waits on before the scheduler may start it. */
export function BlockedBadge({ titles }: { titles: string[] }) {
  if (titles.length === 0) return null;
  return (
    <span
      data-testid="blocked-badge"
      className="inline-flex max-w-full items-center rounded bg-orange-100 px-1.5 py-0.5 text-[11px] font-semibold text-orange-900 dark:bg-orange-950 dark:text-orange-300"
    >
      <span className="truncate">BLOCKED: Waiting on {titles.join(", ")}</span>
    </span>
  );
}
