import type { z } from "zod";
import type { Db } from "@/db/client";
import type { TaskIdentity } from "../auth/task-tokens";

/** Who is calling: the task whose token came with the request. */
export interface ToolContext {
  db: Db;
  caller: TaskIdentity;
}

export interface ToolDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  input: S;
  handler: (ctx: ToolContext, args: z.output<S>) => Promise<unknown>;
}

export function defineTool<S extends z.ZodType>(def: ToolDefinition<S>): ToolDefinition<S> {
  return def;
}
