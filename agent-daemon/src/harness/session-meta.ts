/**
 * What the daemon tells the built-in agent in `session/new`'s `_meta.sam`: the model and its
 * credentials travel over the ACP connection, never through the environment or a file, so they
 * stay out of everything the agent's shell can see.
 */
import { z } from "zod";

export const samSessionMetaSchema = z.object({
  model: z.string().min(1),
  modelApiKey: z.string().optional(),
  modelBaseUrl: z.string().optional(),
  mode: z.enum(["task", "conversation"]),
});
export type SamSessionMeta = z.infer<typeof samSessionMetaSchema>;

/** The name of the MCP server (the web app) in `session/new`'s `mcpServers`. */
export const SAM_MCP_SERVER_NAME = "sam";
