import type { ToolDefinition } from "../tool";
import { completeTask } from "./complete-task";
import { getInstructions } from "./get-instructions";
import { updateTaskStatus } from "./update-task-status";

/** Every MCP tool SAM serves, by name. */
export const TOOLS: readonly ToolDefinition[] = [getInstructions, updateTaskStatus, completeTask] as ToolDefinition[];
