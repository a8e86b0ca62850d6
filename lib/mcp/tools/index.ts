import type { ToolDefinition } from "../tool";
import { addDependencyTool } from "./add-dependency";
import { completeTask } from "./complete-task";
import { createIdeaTool } from "./create-idea";
import { dispatchTaskTool } from "./dispatch-task";
import { getIdeaTool } from "./get-idea";
import { getInstructions } from "./get-instructions";
import { getTaskDependenciesTool } from "./get-task-dependencies";
import { linkIdeaTool } from "./link-idea";
import { listIdeasTool } from "./list-ideas";
import { mergeSubtaskTool } from "./merge-subtask";
import { removePendingSubtaskTool } from "./remove-pending-subtask";
import { requestHumanInputTool } from "./request-human-input";
import { retrySubtaskTool } from "./retry-subtask";
import { sendMessageToSubtaskTool } from "./send-message-to-subtask";
import { stopSubtaskTool } from "./stop-subtask";
import { updateIdeaTool } from "./update-idea";
import { updateTaskStatus } from "./update-task-status";
import { waitForSubtasksTool } from "./wait-for-subtasks";

/** Every MCP tool SAM serves, by name. */
export const TOOLS: readonly ToolDefinition[] = [
  getInstructions,
  updateTaskStatus,
  requestHumanInputTool,
  completeTask,
  dispatchTaskTool,
  sendMessageToSubtaskTool,
  stopSubtaskTool,
  retrySubtaskTool,
  addDependencyTool,
  removePendingSubtaskTool,
  getTaskDependenciesTool,
  waitForSubtasksTool,
  mergeSubtaskTool,
  createIdeaTool,
  linkIdeaTool,
  listIdeasTool,
  getIdeaTool,
  updateIdeaTool,
] as ToolDefinition[];
