/** What the graph's lines mean. */
export function GraphLegend() {
  return (
    <ul
      aria-label="Legend"
      className="flex flex-wrap items-center gap-x-4 gap-y-1 text-xs text-zinc-600 dark:text-zinc-400"
    >
      <li className="flex items-center gap-1.5">
        <svg aria-hidden width="28" height="6">
          <line x1="0" y1="3" x2="28" y2="3" stroke="#a1a1aa" strokeWidth="2" />
        </svg>
        subtask
      </li>
      <li className="flex items-center gap-1.5">
        <svg aria-hidden width="28" height="6">
          <line x1="0" y1="3" x2="28" y2="3" stroke="#8b5cf6" strokeWidth="2" strokeDasharray="6 4" />
        </svg>
        depends on (done)
      </li>
      <li className="flex items-center gap-1.5">
        <svg aria-hidden width="28" height="6">
          <line x1="0" y1="3" x2="28" y2="3" stroke="#f97316" strokeWidth="3" strokeDasharray="6 4" />
        </svg>
        blocking: waits on an unfinished task
      </li>
      <li>cards are coloured by status</li>
    </ul>
  );
}
