"use client";

import "@xyflow/react/dist/style.css";
import {
  Background,
  Controls,
  type Edge,
  MarkerType,
  type NodeHandle,
  Position,
  ReactFlow,
  useNodesInitialized,
  useReactFlow,
} from "@xyflow/react";
import { useRouter } from "next/navigation";
import { type RefObject, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { TaskGraph as TaskGraphData } from "@/lib/graph/types";
import { layoutTree, NODE_HEIGHT, NODE_WIDTH, shapeKeyOf, type TreeShape } from "./layout-tree";
import { TaskGraphNode, type TaskNode } from "./TaskGraphNode";
import { useLiveTaskGraph } from "./use-live-task-graph";

const nodeTypes = { task: TaskGraphNode };

// A first view no smaller than this: a tree hundreds of cards wide shows its middle, where its root
// is, with the cards' colours still to be seen; zooming out (to 0.01) shows the rest.
const FIT = { minZoom: 0.05 };

const PARENT_COLOUR = "#a1a1aa";
const DEPENDENCY_COLOUR = "#8b5cf6";
const BLOCKING_COLOUR = "#f97316";

// Every card has the same size and the same link points, so React Flow draws the graph without
// measuring 500 cards or rendering handles first (and a status change does not make it measure again).
const HANDLES: NodeHandle[] = [
  { id: "parent", type: "target", position: Position.Top, x: NODE_WIDTH / 2, y: 0 },
  { id: "child", type: "source", position: Position.Bottom, x: NODE_WIDTH / 2, y: NODE_HEIGHT },
  { id: "waits-left", type: "target", position: Position.Left, x: 0, y: NODE_HEIGHT / 2 },
  { id: "waits-right", type: "target", position: Position.Right, x: NODE_WIDTH, y: NODE_HEIGHT / 2 },
  { id: "unblocks-left", type: "source", position: Position.Left, x: 0, y: NODE_HEIGHT / 2 },
  { id: "unblocks-right", type: "source", position: Position.Right, x: NODE_WIDTH, y: NODE_HEIGHT / 2 },
];

/**
 * A root task's tree, live: cards coloured by status, solid lines to subtasks, dashed ones for
 * dependencies (orange and moving while they block). Laid out again only when the tree's shape
 * changes; pan and pinch-zoom are React Flow's own.
 */
export function TaskGraph({ initial, initialLayout }: { initial: TaskGraphData; initialLayout: TreeShape }) {
  // Drawn in the browser only: rendering 500 cards on the server too would double the work.
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  return mounted ? (
    <LiveTaskGraph initial={initial} initialLayout={initialLayout} />
  ) : (
    <div data-testid="task-graph" data-ready="false" className={FRAME}>
      <p className="p-4 text-sm text-zinc-600 dark:text-zinc-400">Laying out {initial.tasks.length} tasks…</p>
    </div>
  );
}

const FRAME = "relative h-full min-h-80 w-full overflow-hidden rounded-lg border border-zinc-200 dark:border-zinc-800";

function LiveTaskGraph({ initial, initialLayout }: { initial: TaskGraphData; initialLayout: TreeShape }) {
  const { graph, state } = useLiveTaskGraph(initial);
  const router = useRouter();
  const [ready, setReady] = useState(false);
  const markReady = useCallback(() => setReady(true), []);
  const frame = useRef<HTMLDivElement>(null);

  // The page comes laid out (by the server); the layout is done again, here, only when the shape
  // (tasks and their parents) changes.
  const shape = useRef<TreeShape>(initialLayout);
  const key = shapeKeyOf(graph.tasks);
  if (shape.current.key !== key) shape.current = layoutTree(graph.tasks);
  const { positions } = shape.current;

  const nodes = useMemo<TaskNode[]>(
    () =>
      graph.tasks.map((task) => ({
        id: task.id,
        type: "task",
        position: positions[task.id] ?? { x: 0, y: 0 },
        width: NODE_WIDTH,
        height: NODE_HEIGHT,
        measured: { width: NODE_WIDTH, height: NODE_HEIGHT },
        handles: HANDLES,
        data: {
          task,
          href: `/projects/${encodeURIComponent(graph.projectId)}/tasks/${encodeURIComponent(task.id)}`,
          focused: task.id === graph.focusId,
        },
      })),
    [graph, positions],
  );

  const edges = useMemo<Edge[]>(() => {
    const titles = new Map(graph.tasks.map((t) => [t.id, t.title]));
    const subtaskLinks: Edge[] = graph.tasks.flatMap((t) =>
      t.parentId && titles.has(t.parentId)
        ? [
            {
              id: `parent:${t.parentId}:${t.id}`,
              source: t.parentId,
              target: t.id,
              sourceHandle: "child",
              targetHandle: "parent",
              type: "smoothstep",
              className: "graph-edge-parent",
              ariaLabel: `${titles.get(t.parentId)} dispatched ${t.title}`,
              style: { stroke: PARENT_COLOUR, strokeWidth: 1.5 },
            },
          ]
        : [],
    );
    const dependencyLinks: Edge[] = graph.dependencies.map((d) => {
      const colour = d.blocking ? BLOCKING_COLOUR : DEPENDENCY_COLOUR;
      // Between the facing sides of the two cards, so the line does not run across either of them.
      const rightwards = (positions[d.dependsOnTaskId]?.x ?? 0) <= (positions[d.taskId]?.x ?? 0);
      return {
        id: `dependency:${d.dependsOnTaskId}:${d.taskId}`,
        source: d.dependsOnTaskId,
        target: d.taskId,
        sourceHandle: rightwards ? "unblocks-right" : "unblocks-left",
        targetHandle: rightwards ? "waits-left" : "waits-right",
        className: d.blocking ? "graph-edge-dependency graph-edge-blocking" : "graph-edge-dependency",
        ariaLabel: `${titles.get(d.taskId)} ${d.blocking ? "is blocked by" : "depended on"} ${titles.get(d.dependsOnTaskId)}`,
        animated: d.blocking,
        zIndex: 1,
        markerEnd: { type: MarkerType.ArrowClosed, color: colour },
        style: { stroke: colour, strokeWidth: d.blocking ? 2.5 : 1.5, strokeDasharray: "6 4" },
      };
    });
    return [...subtaskLinks, ...dependencyLinks];
  }, [graph, positions]);

  return (
    <div
      ref={frame}
      data-testid="task-graph"
      data-ready={ready ? "true" : "false"}
      data-node-count={nodes.length}
      data-edge-count={edges.length}
      data-stream-state={state}
      className={FRAME}
    >
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodeClick={(event, node) => {
          // A plain click opens the task in the app (beside the graph when the panel can take it);
          // a modified or middle click is the link's own (a new tab or window).
          if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
          event.preventDefault();
          router.push(node.data.href);
        }}
        fitView
        fitViewOptions={FIT}
        minZoom={0.01}
        maxZoom={2}
        nodesDraggable={false}
        nodesConnectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        elementsSelectable={false}
        colorMode="system"
        aria-label="Task graph"
      >
        <Background gap={24} />
        <Controls showInteractive={false} />
        <ReadySignal frame={frame} links={edges.length} onReady={markReady} />
        <FitOnNewShape shapeKey={key} />
      </ReactFlow>
    </div>
  );
}

/**
 * Marks (performance mark `sam:graph-ready`) the first frame in which every card and every link of
 * the graph is drawn: React Flow draws the links a frame or more after the cards.
 */
function ReadySignal({
  frame,
  links,
  onReady,
}: {
  frame: RefObject<HTMLDivElement | null>;
  links: number;
  onReady: () => void;
}) {
  const initialized = useNodesInitialized();
  const done = useRef(false);
  useEffect(() => {
    if (!initialized || done.current) return;
    let next = 0;
    const check = () => {
      const drawn = frame.current?.querySelectorAll(".react-flow__edge-path").length ?? 0;
      if (drawn < links) {
        next = requestAnimationFrame(check);
        return;
      }
      done.current = true;
      performance.mark("sam:graph-ready");
      onReady();
    };
    next = requestAnimationFrame(check);
    return () => cancelAnimationFrame(next);
  }, [initialized, frame, links, onReady]);
  return null;
}

/** Fits the view again when tasks join or leave the tree, so a new subtask shows up in view. */
function FitOnNewShape({ shapeKey }: { shapeKey: string }) {
  const { fitView } = useReactFlow();
  const shown = useRef(shapeKey);
  useEffect(() => {
    if (shapeKey === shown.current) return;
    shown.current = shapeKey;
    requestAnimationFrame(() => void fitView({ ...FIT, duration: 200 }));
  }, [shapeKey, fitView]);
  return null;
}
