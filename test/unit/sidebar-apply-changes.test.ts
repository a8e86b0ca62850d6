import { describe, expect, test } from "vitest";
import { applyChanges, type SidebarList } from "@/lib/sidebar/apply-changes";
import type { SidebarChanges, SidebarGroup } from "@/lib/sidebar/types";

function group(id: string, createdAt: number, over: Partial<SidebarGroup> = {}): SidebarGroup {
  return {
    id,
    sessionId: `s-${id}`,
    title: id,
    mode: "task",
    status: "running",
    failureReason: null,
    branch: null,
    createdAt,
    updatedAt: createdAt,
    childCount: 0,
    waitingOn: 0,
    childStatusCounts: {},
    progress: { completed: 0, total: 0 },
    flags: { active: true, blocked: false, failed: false },
    usage: null,
    children: [],
    ...over,
  };
}

const changes = (...groups: SidebarGroup[]): SidebarChanges => ({
  cursor: 1,
  groups,
  counts: { active: 0, blocked: 0, failed: 0 },
});
const ids = (groups: SidebarGroup[]) => groups.map((g) => g.id);

describe("patching the sidebar with live changes", () => {
  const shown = [group("c", 30), group("b", 20), group("a", 10)];

  test("a changed group replaces the one shown, in its place", () => {
    const list: SidebarList = { filter: "all", groups: shown, nextCursor: null };
    const next = applyChanges(
      list,
      changes(group("b", 20, { status: "completed", progress: { completed: 2, total: 2 } })),
    );
    expect(ids(next)).toEqual(["c", "b", "a"]);
    expect(next[1]).toMatchObject({ status: "completed", progress: { completed: 2, total: 2 } });
  });

  test("a new group joins by age; one older than the loaded pages waits for Load more", () => {
    const paged: SidebarList = { filter: "all", groups: shown, nextCursor: "10_a" };
    expect(ids(applyChanges(paged, changes(group("d", 40), group("old", 5))))).toEqual(["d", "c", "b", "a"]);
    const complete: SidebarList = { ...paged, nextCursor: null };
    expect(ids(applyChanges(complete, changes(group("old", 5), group("bb", 25))))).toEqual([
      "c",
      "bb",
      "b",
      "a",
      "old",
    ]);
  });

  test("under a filter a group that stops matching leaves and one that starts matching joins", () => {
    const list: SidebarList = {
      filter: "blocked",
      groups: [group("b", 20, { flags: { active: true, blocked: true, failed: false } })],
      nextCursor: null,
    };
    const next = applyChanges(
      list,
      changes(group("b", 20), group("c", 30, { flags: { active: true, blocked: true, failed: false } })),
    );
    expect(ids(next)).toEqual(["c"]);
  });

  test("applying the same batch twice gives the same list", () => {
    const list: SidebarList = { filter: "all", groups: shown, nextCursor: null };
    const batch = changes(group("d", 40), group("a", 10, { status: "failed" }));
    const once = applyChanges(list, batch);
    expect(applyChanges({ ...list, groups: once }, batch)).toEqual(once);
  });

  test("under a search, a group joins or stays only while its title or a subtask's contains the text", () => {
    const list: SidebarList = {
      filter: "all",
      query: "Parser",
      groups: [group("b", 20, { title: "fix parser" })],
      nextCursor: null,
    };
    const renamed = group("b", 20, { title: "fix lexer" });
    expect(ids(applyChanges(list, changes(renamed)))).toEqual([]);
    const child = { ...renamed, children: [{ title: "Update the PARSER docs" }] } as unknown as SidebarGroup;
    expect(ids(applyChanges(list, changes(child)))).toEqual(["b"]);
    expect(ids(applyChanges(list, changes(group("n", 40, { title: "new parser" }), group("x", 50))))).toEqual([
      "n",
      "b",
    ]);
  });
});
