"use client";

import {
  type Announcements,
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
import { PRIORITY_LABEL, STATUS_LABEL } from "./idea-labels";
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

/**
 * A pointer drag that ends over a card's title must not open the idea: dnd-kit stops the click's
 * propagation, which keeps the link's own handler from running but not the browser's navigation.
 * A listener on the window, ahead of everything else, cancels that click.
 */
function suppressClickAfterDrag(): () => void {
  const cancel = (e: MouseEvent) => e.preventDefault();
  window.addEventListener("click", cancel, { capture: true });
  // The click that ends a drag comes with the pointer's release; dnd-kit waits as long.
  return () => setTimeout(() => window.removeEventListener("click", cancel, { capture: true }), 50);
}

const screenReaderInstructions = {
  draggable:
    "To pick up an idea, press Space or Enter. Use the arrow keys to move it between columns and within a column. " +
    "Press Space or Enter again to drop it, or Escape to cancel.",
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
  const columnOf = useCallback((id: string): IdeaStatus | undefined => {
    if (id.startsWith(COLUMN_PREFIX)) return id.slice(COLUMN_PREFIX.length) as IdeaStatus;
    return IDEA_COLUMNS.find((s) => columnsRef.current[s].includes(id));
  }, []);
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
  const endClickSuppression = useRef<(() => void) | null>(null);

  /** What a screen reader hears while a card moves: the ideas' titles and the columns' names, never ids. */
  const announcements = useMemo<Announcements>(() => {
    const title = (id: string | number) => latest.current.find((c) => c.id === String(id))?.title ?? "the idea";
    const place = (id: string | number) => {
      const status = columnOf(String(id));
      const column = status ? STATUS_LABEL[status] : "no column";
      return String(id).startsWith(COLUMN_PREFIX) ? column : `${title(id)} in ${column}`;
    };
    return {
      onDragStart: ({ active }) => `Picked up ${title(active.id)}.`,
      onDragOver: ({ active, over }) => {
        if (!over) return `${title(active.id)} is over no column.`;
        // Over its own place (right after being picked up): nothing new to say.
        if (over.id === active.id) return undefined;
        const to = columnOf(String(over.id));
        const from = dragging.current?.from;
        return to && from && !canEnter(from, to)
          ? `${title(active.id)} cannot go to ${STATUS_LABEL[to]}: Execute and its task move ideas there.`
          : `${title(active.id)} is over ${place(over.id)}.`;
      },
      onDragEnd: ({ active, over }) => {
        const status = columnOf(String(active.id));
        return over && status
          ? `${title(active.id)} was dropped in ${STATUS_LABEL[status]}.`
          : `${title(active.id)} was put back.`;
      },
      onDragCancel: ({ active }) => `Moving ${title(active.id)} was cancelled; it is back where it was.`,
    };
  }, [columnOf]);
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

  const onDragStart = ({ active, activatorEvent }: DragStartEvent) => {
    if (activatorEvent.type.startsWith("pointer") || activatorEvent.type.startsWith("touch")) {
      endClickSuppression.current = suppressClickAfterDrag();
    }
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

  const stopClickSuppression = () => {
    endClickSuppression.current?.();
    endClickSuppression.current = null;
  };

  const onDragEnd = ({ active, over }: DragEndEvent) => {
    stopClickSuppression();
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
    stopClickSuppression();
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
    <div className="min-w-0 max-w-full space-y-4">
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
          className="ml-auto text-xs text-zinc-600 dark:text-zinc-400"
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
        accessibility={{ announcements, screenReaderInstructions }}
        collisionDetection={collision}
        onDragStart={onDragStart}
        onDragOver={onDragOver}
        onDragEnd={onDragEnd}
        onDragCancel={onDragCancel}
      >
        {/* The columns scroll sideways inside the board, so the page itself never gets wider than the screen. */}
        <div data-testid="idea-columns" className="flex snap-x gap-3 overflow-x-auto pb-2">
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
