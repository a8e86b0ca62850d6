/** Why a queued task is not placed yet: its project requires node labels no live node has. */
export function PlacementWaitNote({ reason }: { reason: string }) {
  return (
    <p
      role="status"
      data-testid="task-placement-wait"
      className="rounded-lg bg-amber-50 px-4 py-3 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
    >
      {reason.charAt(0).toUpperCase()}
      {reason.slice(1)}. Add such a node, or change the labels the project requires in its settings.
    </p>
  );
}
