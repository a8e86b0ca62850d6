import type { IdeaStatus } from "@/db/schema";
import type { ActionState, FormAction } from "../forms/action-state";

/** One card of the board, as the page renders it and the board stream sends it. */
export interface BoardCardJson {
  id: string;
  title: string;
  status: IdeaStatus;
  priority: number;
  position: number;
  excerpt: string;
  linkedSessions: number;
  lastTaskStatus: string | null;
  lastTaskFailure: string | null;
  updatedAt: number;
}

export type MoveAction = (input: {
  ideaId: string;
  status: IdeaStatus;
  afterId: string | null;
}) => Promise<ActionState>;
export type UpdateAction = (ideaId: string, state: ActionState, formData: FormData) => Promise<ActionState>;
export type CreateAction = FormAction;
