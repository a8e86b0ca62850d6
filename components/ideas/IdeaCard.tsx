"use client";

import { useSortable } from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import Link from "next/link";
import { type SyntheticEvent, useState } from "react";
import type { IdeaStatus } from "@/db/schema";
import { HAND_MOVED, isMovableStatus } from "./board-columns";
import type { BoardCardJson, UpdateAction } from "./board-types";
import { ConversationIcon } from "./ConversationIcon";
import { IdeaCardEditor } from "./IdeaCardEditor";
import { STATUS_LABEL } from "./idea-labels";
import { PriorityBadge } from "./PriorityBadge";
import { markdownToPlainText } from "./plain-text";

/** Controls inside a card keep their own clicks; anywhere else a press may start a drag. */
const OWN_CLICKS = "select, input, textarea, button:not([data-drag-handle])";

/**
 * A card on the board: title (opens the idea), a plain-text preview, priority, linked conversations,
 * the last run's failure. A pointer drags it from anywhere but its controls (after a few pixels, so
 * a click still opens it); the keyboard picks it up from its grip.
 */
export function IdeaCard({
  projectId,
  card,
  update,
  moveTo,
}: {
  projectId: string;
  card: BoardCardJson;
  update: UpdateAction;
  moveTo: (id: string, to: IdeaStatus) => void;
}) {
  const [editing, setEditing] = useState(false);
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, transform, transition, isDragging } = useSortable({
    id: card.id,
    disabled: editing,
  });
  const movable = isMovableStatus(card.status);
  const preview = markdownToPlainText(card.excerpt);
  const fromCard = (sensor: "onPointerDown" | "onTouchStart") => (e: SyntheticEvent) => {
    // dnd-kit types its listeners as bare functions.
    const start = listeners?.[sensor] as ((e: SyntheticEvent) => void) | undefined;
    if (!(e.target as HTMLElement).closest(OWN_CLICKS)) start?.(e);
  };
  const conversations = `${card.linkedSessions} linked conversation${card.linkedSessions === 1 ? "" : "s"}`;
  return (
    <li
      ref={setNodeRef}
      style={{ transform: CSS.Translate.toString(transform), transition }}
      data-testid="idea-card"
      data-idea-id={card.id}
      {...listeners}
      onPointerDown={fromCard("onPointerDown")}
      onTouchStart={fromCard("onTouchStart")}
      className={`rounded-md border border-zinc-200 bg-white p-2 text-sm shadow-sm dark:border-zinc-700 dark:bg-zinc-950 ${editing ? "" : "cursor-grab"} ${
        isDragging ? "relative z-10 opacity-80 ring-2 ring-sky-400" : ""
      }`}
    >
      {editing ? (
        <IdeaCardEditor card={card} update={update} done={() => setEditing(false)} />
      ) : (
        <>
          <div className="flex items-start gap-1.5">
            <button
              type="button"
              ref={setActivatorNodeRef}
              data-drag-handle
              {...attributes}
              aria-label={`Drag ${card.title}`}
              className="mt-0.5 cursor-grab touch-none rounded px-0.5 text-zinc-400 hover:bg-zinc-100 hover:text-zinc-700 focus-visible:outline-2 focus-visible:outline-sky-500 active:cursor-grabbing dark:hover:bg-zinc-800 dark:hover:text-zinc-200"
            >
              <span aria-hidden="true">⠿</span>
            </button>
            <Link
              href={`/projects/${projectId}/ideas/${card.id}`}
              draggable={false}
              className="min-w-0 flex-1 font-medium break-words hover:underline"
            >
              {card.title}
            </Link>
          </div>
          {preview ? (
            <p data-testid="idea-preview" className="mt-1 line-clamp-2 pl-5 text-xs text-zinc-600 dark:text-zinc-400">
              {preview}
            </p>
          ) : null}
          {card.status === "ready" && card.lastTaskStatus === "failed" ? (
            <p data-testid="idea-last-failure" className="mt-1 pl-5 text-xs text-red-700 dark:text-red-400">
              Last run failed{card.lastTaskFailure ? `: ${card.lastTaskFailure}` : ""}
            </p>
          ) : null}
          <div className="mt-1.5 flex flex-wrap items-center gap-x-2 gap-y-1 pl-5 text-xs text-zinc-600 dark:text-zinc-400">
            <PriorityBadge priority={card.priority} />
            <span data-testid="idea-link-count" data-count={card.linkedSessions} title={conversations}>
              <span aria-hidden="true" className="inline-flex items-center gap-0.5">
                <ConversationIcon />
                {card.linkedSessions}
              </span>
              <span className="sr-only">{conversations}</span>
            </span>
            <span className="ml-auto flex items-center gap-1">
              {movable ? (
                <select
                  aria-label={`Move ${card.title} to`}
                  value={card.status}
                  onChange={(e) => moveTo(card.id, e.target.value as IdeaStatus)}
                  className="rounded border border-zinc-200 bg-transparent px-1 py-0.5 text-xs dark:border-zinc-700"
                >
                  {HAND_MOVED.map((s) => (
                    <option key={s} value={s}>
                      {STATUS_LABEL[s]}
                    </option>
                  ))}
                </select>
              ) : null}
              <button
                type="button"
                onClick={() => setEditing(true)}
                aria-label={`Edit ${card.title}`}
                className="rounded px-1 py-0.5 hover:bg-zinc-100 hover:text-zinc-800 dark:hover:bg-zinc-800 dark:hover:text-zinc-200"
              >
                Edit
              </button>
            </span>
          </div>
        </>
      )}
    </li>
  );
}
