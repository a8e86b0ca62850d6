"use client";

import {
  type CollisionDetection,
  closestCorners,
  DndContext,
  type DragEndEvent,
  type DragOverEvent,
  type DragStartEvent,
  KeyboardSensor,
  PointerSensor,
  pointerWithin,
  TouchSensor,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import { arrayMove, sortableKeyboardCoordinates } from "@dnd-kit/sortable";
import { useCallback, useMemo, useRef, useState } from "react";
import type { IdeaStatus } from "@/db/schema";
import { IDEA_COLUMNS, isMovableStatus } from "./board-columns";
import type { BoardCardJson, CreateAction, MoveAction, UpdateAction } from "./board-types";
import { IdeaColumn } from "./IdeaColumn";
import { PRIORITY_LABEL } from "./idea-labels";
import { useBoardStream } from "./use-board-stream";

type Columns = Record<IdeaStatus, string[]>;

function columnsOf(cards: BoardCardJson[]): Columns {
  const columns = Object.fromEntries(IDEA_COLUMNS.map((s) => [s, [] as string[]])) as Columns;
  const sorted = [...cards].sort((a, b) => a.position - b.position);
  for (const card of sorted) columns[card.status].push(card.id);
  return columns;
}

const COLUMN_PREFIX = "column:";

/** What is under the pointer wins (a card before its column); the keyboard, with no pointer, takes the nearest. */
const collision: CollisionDetection = (args) => {
  const within = pointerWithin(args);
  return within.length > 0 ? within : closestCorners(args);
};

/** Whether a card that started in `from` may be dropped in `to`: executing and done are not entered or left by hand. */
const canEnter = (from: IdeaStatus, to: IdeaStatus) => from === to || (isMovableStatus(from) && isMovableStatus(to));

/**
 * The project's ideas as a kanban: a column per status, cards dragged (mouse, touch or keyboard)
 * between columns and within one, or moved with each card's "Move to" menu. The board follows the
 * project's idea stream; while a drag or a move is under way the user's order wins, and the next
 * board from the server that includes the move takes over.
 */
export function IdeaBoard({
  projectId,
  initialCards,
  create,
  update,
  move,
}: {
  projectId: string;
  initialCards: BoardCardJson[];
  create: CreateAction;
  update: UpdateAction;
  move: MoveAction;
}) {
  const [cards, setCards] = useState(initialCards);
  const [columns, setColumnsState] = useState(() => columnsOf(initialCards));
  const columnsRef = useRef(columns);
  const setColumns = useCallback((next: Columns) => {
    columnsRef.current = next;
    setColumnsState(next);
  }, []);
  const latest = useRef(initialCards);
  const dragging = useRef<{ id: string; from: IdeaStatus; index: number } | null>(null);
  const pendingMove = useRef<{ ideaId: string; status: IdeaStatus; afterId: string | null } | null>(null);
  const [error, setError] = useState<string>();
  const [query, setQuery] = useState("");
  const [priority, setPriority] = useState("any");

  /** Whether a board from the server already shows the move the user just made. */
  const showsMove = useCallback((board: BoardCardJson[]) => {
    const pending = pendingMove.current;
    if (!pending) return true;
    const column = columnsOf(board)[pending.status];
    const at = column.indexOf(pending.ideaId);
    return at >= 0 && (pending.afterId === null ? at === 0 : column[at - 1] === pending.afterId);
  }, []);

  const onBoard = useCallback(
    (next: BoardCardJson[]) => {
      latest.current = next;
      setCards(next);
      if (dragging.current) return;
      if (pendingMove.current && !showsMove(next)) return;
      pendingMove.current = null;
      setColumns(columnsOf(next));
    },
    [setColumns, showsMove],
  );
  const streamState = useBoardStream(projectId, onBoard);

  const byId = useMemo(() => new Map(cards.map((c) => [c.id, c])), [cards]);
  const visible = useCallback(
    (card: BoardCardJson) => {
      if (priority !== "any" && String(card.priority) !== priority) return false;
      const q = query.trim().toLowerCase();
      return !q || card.title.toLowerCase().includes(q) || card.excerpt.toLowerCase().includes(q);
    },
    [query, priority],
  );

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 5 } }),
    useSensor(TouchSensor, { activationConstraint: { delay: 200, tolerance: 8 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );

  const columnOf = (id: string): IdeaStatus | undefined => {
    if (id.startsWith(COLUMN_PREFIX)) return id.slice(COLUMN_PREFIX.length) as IdeaStatus;
    return IDEA_COLUMNS.find((s) => columnsRef.current[s].includes(id));
  };

  /** Saves a card's new place; on a refusal the board goes back to what the server last said. */
  const commit = async (ideaId: string, status: IdeaStatus, next: Columns) => {
    const index = next[status].indexOf(ideaId);
    const afterId = index > 0 ? (next[status][index - 1] ?? null) : null;
    setColumns(next);
    setError(undefined);
    pendingMove.current = { ideaId, status, afterId };
    const result = await move({ ideaId, status, afterId });
    if (result.error) {
      pendingMove.current = null;
      setError(result.error);
      setColumns(columnsOf(latest.current));
    } else if (showsMove(latest.current)) {
      pendingMove.current = null;
      setColumns(columnsOf(latest.current));
    }
  };

  const onDragStart = ({ active }: DragStartEvent) => {
    const id = String(active.id);
    const from = columnOf(id);
    if (from) dragging.current = { id, from, index: columnsRef.current[from].indexOf(id) };
  };

  const onDragOver = ({ active, over }: DragOverEvent) => {
    const origin = dragging.current;
    if (!over || !origin) return;
    const id = String(active.id);
    const from = columnOf(id);
    const to = columnOf(String(over.id));
    if (!from || !to || from === to || !canEnter(origin.from, to)) return;
    const current = columnsRef.current;
    const target = current[to];
    const overIndex = target.indexOf(String(over.id));
    const at = overIndex >= 0 ? overIndex : target.length;
    setColumns({
      ...current,
      [from]: current[from].filter((c) => c !== id),
      [to]: [...target.slice(0, at), id, ...target.slice(at)],
    });
  };

  const onDragEnd = ({ active, over }: DragEndEvent) => {
    const origin = dragging.current;
    dragging.current = null;
    if (!origin) return;
    const id = String(active.id);
    const status = columnOf(id);
    const overStatus = over ? columnOf(String(over.id)) : undefined;
    if (!over || !status || !overStatus || !canEnter(origin.from, status)) {
      setColumns(columnsOf(latest.current));
      return;
    }
    let next = columnsRef.current;
    const overIndex = next[status].indexOf(String(over.id));
    if (overStatus === status && overIndex >= 0 && String(over.id) !== id) {
      next = { ...next, [status]: arrayMove(next[status], next[status].indexOf(id), overIndex) };
    }
    if (status === origin.from && next[status].indexOf(id) === origin.index) {
      setColumns(columnsOf(latest.current));
      return;
    }
    void commit(id, status, next);
  };

  const onDragCancel = () => {
    dragging.current = null;
    setColumns(columnsOf(latest.current));
  };

  /** The "Move to" menu: the card goes to the top of the chosen column. */
  const moveTo = (id: string, to: IdeaStatus) => {
    const from = columnOf(id);
    if (!from || from === to || !canEnter(from, to)) return;
    const current = columnsRef.current;
    void commit(id, to, { ...current, [from]: current[from].filter((c) => c !== id), [to]: [id, ...current[to]] });
  };

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-2">
        <input
          type="search"
          aria-label="Search ideas"
          placeholder="Search ideas…"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          className="w-full rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm sm:w-64 dark:border-zinc-700 dark:bg-zinc-900"
        />
        <select
          aria-label="Filter by priority"
          value={priority}
          onChange={(e) => setPriority(e.target.value)}
          className="rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
        >
          <option value="any">Any priority</option>
          {[3, 2, 1, 0].map((p) => (
            <option key={p} value={String(p)}>
              {PRIORITY_LABEL[p]}
            </option>
          ))}
        </select>
        <span
          data-testid="board-stream"
          data-state={streamState}
          className="ml-auto text-xs text-zinc-500"
          title="Changes made by agents and other people appear here as they happen"
        >
          {streamState === "live" ? "● Live" : streamState === "lost" ? "Not updating — reload" : "Connecting…"}
        </span>
      </div>
      {error ? (
        <p
          role="alert"
          className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
        >
          {error}
        </p>
      ) : null}
      <DndContext
        sensors={sensors}
        collisionDetection={collision}
        onDragStart={onDragStart}
        onDragOver={onDragOver}
        onDragEnd={onDragEnd}
        onDragCancel={onDragCancel}
      >
        <div className="-mx-4 flex snap-x gap-3 overflow-x-auto px-4 pb-2 lg:mx-0 lg:grid lg:grid-cols-6 lg:overflow-visible lg:px-0">
          {IDEA_COLUMNS.map((status) => (
            <IdeaColumn
              key={status}
              projectId={projectId}
              status={status}
              cards={columns[status].flatMap((id) => {
                const card = byId.get(id);
                return card && visible(card) ? [card] : [];
              })}
              total={columns[status].length}
              create={status === "draft" ? create : undefined}
              update={update}
              moveTo={moveTo}
            />
          ))}
        </div>
      </DndContext>
    </div>
  );
}
