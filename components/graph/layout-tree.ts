import dagre from "@dagrejs/dagre";

export const NODE_WIDTH = 232;
export const NODE_HEIGHT = 92;

export interface TreeShape {
  /** Changes exactly when a task is added or removed or moves to another parent. */
  key: string;
  /** Each task's top-left corner by id, top-down: parents above their children. A plain object, so a page can hand it to the browser. */
  positions: Record<string, { x: number; y: number }>;
}

/** What the layout depends on: the tasks and who their parents are, nothing else (a status change keeps it). */
export function shapeKeyOf(tasks: readonly { id: string; parentId: string | null }[]): string {
  return tasks.map((t) => `${t.id}<${t.parentId ?? ""}`).join("|");
}

/**
 * A tree laid out top-down by dagre, synchronously. Only parent→child links rank the tasks:
 * dependencies join siblings, and ranking by them too would push a dependent task a level down.
 */
export function layoutTree(tasks: readonly { id: string; parentId: string | null }[]): TreeShape {
  const graph = new dagre.graphlib.Graph();
  // network-simplex (the default) ranks each subtask one below its parent; longest-path would sink every leaf to the bottom.
  graph.setGraph({ rankdir: "TB", nodesep: 32, ranksep: 72, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(tasks.map((t) => t.id));
  for (const t of tasks) graph.setNode(t.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const t of tasks) if (t.parentId && ids.has(t.parentId)) graph.setEdge(t.parentId, t.id);
  dagre.layout(graph);
  const positions: TreeShape["positions"] = {};
  for (const t of tasks) {
    const { x, y } = graph.node(t.id);
    // dagre places centres; React Flow places top-left corners.
    positions[t.id] = { x: x - NODE_WIDTH / 2, y: y - NODE_HEIGHT / 2 };
  }
  return { key: shapeKeyOf(tasks), positions };
}
