import type { SidebarFilter } from "@/lib/sidebar/filters";
import type { FilterCounts } from "@/lib/sidebar/types";

const LABEL: Record<SidebarFilter, string> = {
  all: "All",
  active: "Active",
  blocked: "Blocked",
  failed: "Failed",
  done: "Done",
};

const ALERT: Partial<Record<SidebarFilter, string>> = {
  blocked: "text-orange-700 dark:text-orange-400",
  failed: "text-red-700 dark:text-red-400",
};

/** The state filter; blocked and failed show how many groups they hold, in their warning colours. */
export function SidebarFilterBar({
  filter,
  counts,
  onChange,
}: {
  filter: SidebarFilter;
  counts: FilterCounts;
  onChange: (filter: SidebarFilter) => void;
}) {
  return (
    <fieldset className="flex flex-wrap gap-1">
      <legend className="sr-only">Show</legend>
      {(Object.keys(LABEL) as SidebarFilter[]).map((f) => {
        const count = f === "all" || f === "done" ? undefined : counts[f];
        return (
          <button
            key={f}
            type="button"
            aria-pressed={filter === f}
            data-filter={f}
            onClick={() => onChange(f)}
            className={`rounded-md px-2 py-1 text-xs ${
              filter === f
                ? "bg-zinc-900 font-medium text-white dark:bg-zinc-100 dark:text-zinc-900"
                : `hover:bg-zinc-100 dark:hover:bg-zinc-800 ${count ? (ALERT[f] ?? "") : "text-zinc-600 dark:text-zinc-400"}`
            }`}
          >
            {LABEL[f]}
            {count ? <span className="ml-1 tabular-nums">{count}</span> : null}
          </button>
        );
      })}
    </fieldset>
  );
}
