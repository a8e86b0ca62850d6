import type { IdeaStatus } from "@/db/schema";

/** The board's columns, left to right. */
export const IDEA_COLUMNS: readonly IdeaStatus[] = ["draft", "exploring", "ready", "executing", "done", "parked"];

/** Columns a card moves between by hand; executing and done follow Execute and its task. */
export const HAND_MOVED: readonly IdeaStatus[] = ["draft", "exploring", "ready", "parked"];

export const isMovableStatus = (status: IdeaStatus) => HAND_MOVED.includes(status);
