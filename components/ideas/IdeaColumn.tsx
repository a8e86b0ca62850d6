"use client";

import { useDroppable } from "@dnd-kit/core";
import { SortableContext, verticalListSortingStrategy } from "@dnd-kit/sortable";
import type { IdeaStatus } from "@/db/schema";
import type { BoardCardJson, CreateAction, UpdateAction } from "./board-types";
import { IdeaCard } from "./IdeaCard";
import { STATUS_LABEL } from "./idea-labels";
import { NewIdeaForm } from "./NewIdeaForm";

const HINT: Partial<Record<IdeaStatus, string>> = {
  executing: "Ideas being built by a task",
  done: "Built: their branch is on the idea",
};

/** One status column: a drop target holding its cards in order. */
export function IdeaColumn({
  projectId,
  status,
  cards,
  total,
  create,
  update,
  moveTo,
}: {
  projectId: string;
  status: IdeaStatus;
  cards: BoardCardJson[];
  total: number;
  create?: CreateAction;
  update: UpdateAction;
  moveTo: (id: string, to: IdeaStatus) => void;
}) {
  const { setNodeRef, isOver } = useDroppable({ id: `column:${status}` });
  const headingId = `column-${status}-heading`;
  return (
    <section
      aria-labelledby={headingId}
      data-testid={`column-${status}`}
      className={`flex w-64 shrink-0 grow snap-start flex-col rounded-lg border p-2 ${
        isOver
          ? "border-sky-400 bg-sky-50 dark:border-sky-600 dark:bg-sky-950/40"
          : "border-zinc-200 bg-zinc-50 dark:border-zinc-800 dark:bg-zinc-900/50"
      }`}
    >
      <h2 id={headingId} className="flex items-center gap-2 px-1 pb-2 text-sm font-semibold">
        {STATUS_LABEL[status]}
        <span className="rounded-full bg-zinc-200 px-1.5 text-xs font-medium text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">
          {cards.length === total ? total : `${cards.length}/${total}`}
        </span>
      </h2>
      {create ? <NewIdeaForm create={create} /> : null}
      <SortableContext id={status} items={cards.map((c) => c.id)} strategy={verticalListSortingStrategy}>
        <ul
          ref={setNodeRef}
          className="flex min-h-24 flex-1 flex-col gap-2"
          aria-label={`${STATUS_LABEL[status]} ideas`}
        >
          {cards.map((card) => (
            <IdeaCard key={card.id} projectId={projectId} card={card} update={update} moveTo={moveTo} />
          ))}
          {cards.length === 0 ? (
            <li className="rounded-md border border-dashed border-zinc-300 px-2 py-4 text-center text-xs text-zinc-600 dark:border-zinc-700 dark:text-zinc-400">
              {HINT[status] ?? "Drop ideas here"}
            </li>
          ) : null}
        </ul>
      </SortableContext>
    </section>
  );
}
