import { describe, expect, it } from "vitest";
import { layoutTree, NODE_HEIGHT, NODE_WIDTH, shapeKeyOf } from "@/components/graph/layout-tree";

/** A root, three subtasks, and a grandchild under the third. */
const TREE = [
  { id: "root", parentId: null },
  { id: "a", parentId: "root" },
  { id: "b", parentId: "root" },
  { id: "c", parentId: "root" },
  { id: "g", parentId: "c" },
];

describe("the task graph's layout", () => {
  it("places every subtask one level below its parent, whether or not it has subtasks itself", () => {
    const { positions } = layoutTree(TREE);
    const y = (id: string) => positions[id]!.y;
    expect(y("a")).toBe(y("b"));
    expect(y("b")).toBe(y("c"));
    expect(y("a")).toBeGreaterThan(y("root") + NODE_HEIGHT);
    expect(y("g")).toBeGreaterThan(y("c") + NODE_HEIGHT);
  });

  it("never lets two cards overlap", () => {
    const { positions } = layoutTree(TREE);
    const boxes = Object.values(positions);
    for (const [i, p] of boxes.entries()) {
      for (const q of boxes.slice(i + 1)) {
        const apart = Math.abs(p.x - q.x) >= NODE_WIDTH || Math.abs(p.y - q.y) >= NODE_HEIGHT;
        expect(apart).toBe(true);
      }
    }
  });

  it("keys the layout by the tree's shape only: a status change keeps it, a new subtask changes it", () => {
    const withStatus = TREE.map((t) => ({ ...t, status: t.id === "a" ? "completed" : "running" }));
    expect(shapeKeyOf(withStatus)).toBe(shapeKeyOf(TREE));
    expect(shapeKeyOf([...TREE, { id: "h", parentId: "a" }])).not.toBe(shapeKeyOf(TREE));
    expect(shapeKeyOf(TREE.map((t) => (t.id === "g" ? { ...t, parentId: "a" } : t)))).not.toBe(shapeKeyOf(TREE));
  });
});
