import type { IdeaStatus } from "@/db/schema";

export const STATUS_LABEL: Record<IdeaStatus, string> = {
  draft: "Draft",
  exploring: "Exploring",
  ready: "Ready",
  executing: "Executing",
  done: "Done",
  parked: "Parked",
};

export const PRIORITY_LABEL: Record<number, string> = { 0: "No priority", 1: "Low", 2: "Medium", 3: "High" };
