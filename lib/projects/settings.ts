import { HARNESS_KINDS, nodeLabelSchema, PERMISSION_POLICIES } from "@sam/agent-daemon/contract";
import { z } from "zod";
import { baseUrlSchema, MODEL_PROVIDERS } from "../models/providers";

// `builtin` runs the agent inside the node's daemon; `builtin-subprocess` gives each session its own
// process, so a crashing agent cannot take other sessions with it.
// The others are external ACP agents the node installs at pinned versions; `acp` runs a custom command.
export const HARNESSES = HARNESS_KINDS;

/** What an agent's sandbox may reach: anything, or nothing but SAM's MCP endpoint. */
export const NETWORK_MODES = ["open", "none"] as const;

/** `scripted`, or `provider:model` for a provider the built-in harness knows. */
export const MODEL_PATTERN = new RegExp(`^(scripted|(${MODEL_PROVIDERS.join("|")}):[A-Za-z0-9._:/@-]{1,200})$`);

/** An empty form field clears an optional text setting. */
const emptyToNull = (v: unknown) =>
  typeof v === "string" && v.trim() === "" ? null : typeof v === "string" ? v.trim() : v;

const int = (min: number, max: number, what: string) =>
  z.coerce
    .number({ message: `${what} must be a number` })
    .int({ message: `${what} must be a whole number` })
    .min(min, { message: `${what} must be between ${min} and ${max}` })
    .max(max, { message: `${what} must be between ${min} and ${max}` });

/** A project's settings as users and scripts submit them; every field optional for partial updates. */
export const projectSettingsSchema = z
  .object({
    maxDepth: int(1, 10, "Max depth"),
    maxChildren: int(1, 20, "Children per parent"),
    maxActiveDispatched: int(1, 50, "Active dispatched tasks"),
    maxRetries: int(0, 10, "Retries"),
    stopGraceSeconds: int(0, 30, "Stop grace seconds"),
    harness: z.enum(HARNESSES, { message: `Harness must be one of ${HARNESSES.join(", ")}` }),
    network: z.enum(NETWORK_MODES, { message: "Network must be open or none" }),
    model: z
      .string()
      .trim()
      .regex(MODEL_PATTERN, {
        message: `Model must be scripted, or provider:model where the provider is ${MODEL_PROVIDERS.slice(0, -1).join(", ")} or ${MODEL_PROVIDERS.at(-1)}`,
      }),
    // Forms send "true"/"false"; scripts may send a boolean.
    deleteBranches: z.preprocess(
      (v) => (v === "true" ? true : v === "false" ? false : v),
      z.boolean({ message: "Delete branches must be true or false" }),
    ),
    // For an OpenAI-compatible server (Ollama, vLLM); a plain setting, not a secret.
    modelBaseUrl: z.preprocess(emptyToNull, baseUrlSchema.nullable()),
    // The custom ACP agent's command line, for harness `acp`.
    agentCommand: z.preprocess(
      emptyToNull,
      z
        .string({ message: "Agent command must be text" })
        .max(2000, { message: "Agent command must be at most 2000 characters" })
        .regex(/^[^\n\r\0]+$/, { message: "Agent command must be one line" })
        .nullable(),
    ),
    permissionPolicy: z.enum(PERMISSION_POLICIES, { message: "Permission policy must be allow or deny" }),
    // Labels a node must have to run the project's tasks: a list, or (from a form or the command
    // line) one string of labels separated by commas or spaces; empty for any node.
    nodeLabels: z.preprocess(
      (v) => (typeof v === "string" ? v.split(/[\s,]+/).filter(Boolean) : v),
      z
        .array(z.string({ message: "Node labels must be a list of labels" }), {
          message: "Node labels must be a list of labels",
        })
        .max(32, { message: "Node labels must be at most 32 labels" })
        // One message for the field (not one per list item), naming the label that is refused.
        .superRefine((labels, ctx) => {
          for (const label of labels) {
            const checked = nodeLabelSchema.safeParse(label);
            if (!checked.success) {
              ctx.addIssue({
                code: "custom",
                message: `Node label ${JSON.stringify(label)}: ${checked.error.issues[0]?.message}`,
              });
              return;
            }
          }
        })
        .transform((labels) => [...new Set(labels)]),
    ),
    githubUrl: z.preprocess(
      emptyToNull,
      z
        .url({ protocol: /^https?$/, message: "GitHub URL must be an http(s) URL such as https://github.example.com" })
        .refine((u) => !new URL(u).username && !new URL(u).password, {
          message: "GitHub URL must not carry credentials; store a GITHUB_TOKEN secret instead",
        })
        .transform((u) => u.replace(/\/+$/, ""))
        .nullable(),
    ),
  })
  .partial()
  .strict();

export type ProjectSettingsInput = z.input<typeof projectSettingsSchema>;
export type ProjectSettings = z.output<typeof projectSettingsSchema>;
