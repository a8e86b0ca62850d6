import { PRIORITY_LABEL } from "./idea-labels";

const STYLE: Record<number, string> = {
  1: "text-zinc-600 dark:text-zinc-400",
  2: "text-amber-700 dark:text-amber-400",
  3: "text-red-700 dark:text-red-400",
};

/** An idea's priority in a word; nothing for "no priority". */
export function PriorityBadge({ priority }: { priority: number }) {
  if (!priority) return null;
  return (
    <span className={`text-xs font-medium ${STYLE[priority] ?? ""}`} title="Priority">
      {PRIORITY_LABEL[priority]}
    </span>
  );
}
