/**
 * Entry point of the harness subprocess and of the standalone built-in agent: the agent over
 * stdin/stdout. Stdout carries the ACP stream and nothing else, so console output of any library
 * is sent to stderr.
 *
 * Standalone, for an ACP client such as Zed (which sends no `_meta.sam`), the model comes from
 * `--model provider:model` or SAM_MODEL, a base URL from `--base-url` or SAM_MODEL_BASE_URL, and
 * the key from the provider's usual variable (ANTHROPIC_API_KEY, OPENAI_API_KEY,
 * OPENAI_COMPATIBLE_API_KEY). Inside SAM none of these is set (the daemon's allowlisted
 * environment) and every session brings its own in `_meta.sam`.
 */
import { Readable, Writable } from "node:stream";
import { parseArgs } from "node:util";
import { ndJsonStream } from "@agentclientprotocol/sdk";
import { serveBuiltinAgent } from "./builtin/agent.ts";
import { type SamSessionMeta, samSessionMetaSchema } from "./session-meta.ts";

console.log = console.error;
console.info = console.error;
console.debug = console.error;

const KEY_VARIABLES: Record<string, string> = {
  anthropic: "ANTHROPIC_API_KEY",
  openai: "OPENAI_API_KEY",
  "openai-compatible": "OPENAI_COMPATIBLE_API_KEY",
};

const USAGE =
  "usage: sam-harness [--model provider:model] [--base-url URL] [--mode conversation|task]\n" +
  "  (or SAM_MODEL and SAM_MODEL_BASE_URL; the key from ANTHROPIC_API_KEY, OPENAI_API_KEY or OPENAI_COMPATIBLE_API_KEY)";

/** The standalone agent's model settings, if it was given a model. */
function standaloneDefaults(): SamSessionMeta | undefined {
  let values: { model?: string; "base-url"?: string; mode?: string };
  try {
    ({ values } = parseArgs({
      options: { model: { type: "string" }, "base-url": { type: "string" }, mode: { type: "string" } },
    }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
  const model = values.model ?? process.env.SAM_MODEL;
  if (!model) return undefined;
  const provider = model.slice(0, Math.max(0, model.indexOf(":")));
  const keyVariable = KEY_VARIABLES[provider];
  const apiKey = keyVariable ? process.env[keyVariable] : undefined;
  const baseUrl = values["base-url"] ?? process.env.SAM_MODEL_BASE_URL;
  const parsed = samSessionMetaSchema.safeParse({
    model,
    mode: values.mode ?? "conversation",
    ...(apiKey ? { modelApiKey: apiKey } : {}),
    ...(baseUrl ? { modelBaseUrl: baseUrl } : {}),
  });
  if (!parsed.success) {
    console.error(
      `invalid settings: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}\n${USAGE}`,
    );
    process.exit(2);
  }
  return parsed.data;
}

const agent = serveBuiltinAgent(
  ndJsonStream(Writable.toWeb(process.stdout), Readable.toWeb(process.stdin)),
  standaloneDefaults(),
);
await agent.closed;
// Sessions are closed; nothing else of the harness's needs to finish.
process.exit(0);
