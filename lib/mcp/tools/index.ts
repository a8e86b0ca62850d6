import type { ToolDefinition } from "../tool";
import { addDependencyTool } from "./add-dependency";
import { completeTask } from "./complete-task";
import { dispatchTaskTool } from "./dispatch-task";
import { getInstructions } from "./get-instructions";
import { getTaskDependenciesTool } from "./get-task-dependencies";
import { removePendingSubtaskTool } from "./remove-pending-subtask";
import { retrySubtaskTool } from "./retry-subtask";
import { sendMessageToSubtaskTool } from "./send-message-to-subtask";
import { stopSubtaskTool } from "./stop-subtask";
import { updateTaskStatus } from "./update-task-status";

/** Every MCP tool SAM serves, by name. */
export const TOOLS: readonly ToolDefinition[] = [
  getInstructions,
  updateTaskStatus,
  completeTask,
  dispatchTaskTool,
  sendMessageToSubtaskTool,
  stopSubtaskTool,
  retrySubtaskTool,
  addDependencyTool,
  removePendingSubtaskTool,
  getTaskDependenciesTool,
] as ToolDefinition[];
