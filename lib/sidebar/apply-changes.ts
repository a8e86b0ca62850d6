import { groupMatches, groupMatchesQuery, type SidebarFilter } from "./filters";
import type { SidebarChanges, SidebarGroup } from "./types";

export interface SidebarList {
  filter: SidebarFilter;
  /** The search text the list is narrowed by; empty or absent: none. */
  query?: string;
  groups: SidebarGroup[];
  /** Where the next page starts; null once every page is loaded. */
  nextCursor: string | null;
}

/** Newest first; two roots created in the same millisecond are ordered by id, as the pages are. */
function isNewer(a: SidebarGroup, b: SidebarGroup): boolean {
  return a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);
}

/**
 * The groups after a batch of live changes: a changed group replaces the one shown; a group that
 * now matches the filter joins in its place by age if that place is among the loaded pages (older
 * ones arrive with "Load more"); a group that no longer matches (the filter or the search) leaves. Applying a batch twice
 * gives the same list, so a resumed stream that sends again does no harm.
 */
export function applyChanges(list: SidebarList, changes: SidebarChanges): SidebarGroup[] {
  let groups = list.groups;
  for (const group of changes.groups) {
    const shown = groups.some((g) => g.id === group.id);
    if (!groupMatches(list.filter, group) || !groupMatchesQuery(list.query ?? "", group)) {
      if (shown) groups = groups.filter((g) => g.id !== group.id);
    } else if (shown) {
      groups = groups.map((g) => (g.id === group.id ? group : g));
    } else {
      const oldest = groups.at(-1);
      if (list.nextCursor !== null && oldest && !isNewer(group, oldest)) continue;
      const at = groups.findIndex((g) => isNewer(group, g));
      groups = at === -1 ? [...groups, group] : [...groups.slice(0, at), group, ...groups.slice(at)];
    }
  }
  return groups;
}
