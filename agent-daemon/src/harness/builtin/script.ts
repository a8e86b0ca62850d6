/**
 * The `sam-script` format the scripted model plays: a fenced ```sam-script block holding a JSON
 * array of steps. Parsing is strict and every problem names the step (counted from 1), because a
 * script is written by hand in a task description and its author needs to find the mistake.
 */
import { z } from "zod";

export const MAX_SLEEP_MS = 60_000;

const toolCallSchema = z.strictObject({
  tool: z.string().min(1),
  args: z.record(z.string(), z.unknown()).default({}),
});
const stepSchemas = {
  say: z.strictObject({ say: z.string() }),
  sleep: z.strictObject({ sleep: z.number().int().min(0).max(MAX_SLEEP_MS) }),
  tool: toolCallSchema,
  parallel: z.strictObject({ parallel: z.array(toolCallSchema).min(1) }),
} as const;
const STEP_KINDS = Object.keys(stepSchemas) as Array<keyof typeof stepSchemas>;

export type ScriptToolCall = z.output<typeof toolCallSchema>;
/** What the model says or does before its next tool call. */
export type Utterance = { say: string } | { sleep: number };
/** One model call's output: what it says, then the tool calls it makes (none in the last round). */
export interface Round {
  utterances: Utterance[];
  toolCalls: ScriptToolCall[];
}

export class ScriptError extends Error {
  constructor(problem: string) {
    super(`sam-script: ${problem}`);
    this.name = "ScriptError";
  }
}

const FENCE = /```sam-script[ \t]*\r?\n([\s\S]*?)```/g;

/**
 * The body of the last sam-script block in `text`, if there is one: a message that quotes an
 * earlier script (a retry's description carries the original task) and adds its own plays its own.
 */
export function findScript(text: string): string | undefined {
  return [...text.matchAll(FENCE)].at(-1)?.[1];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  return issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}

function parseStep(value: unknown, number: number): Utterance | { toolCalls: ScriptToolCall[] } {
  const kinds =
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? STEP_KINDS.filter((kind) => kind in value)
      : [];
  const kind = kinds[0];
  if (kind === undefined) {
    throw new ScriptError(
      `step ${number}: expected an object with one of ${STEP_KINDS.map((k) => `"${k}"`).join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  if (kinds.length > 1) throw new ScriptError(`step ${number}: a step has only one of ${kinds.join(", ")}`);
  const parsed = stepSchemas[kind].safeParse(value);
  if (!parsed.success) throw new ScriptError(`step ${number}: ${describeIssue(parsed.error.issues[0]!)}`);
  const step = parsed.data;
  if ("tool" in step) return { toolCalls: [step] };
  if ("parallel" in step) return { toolCalls: step.parallel };
  return step;
}

/** Parses a script body into rounds; throws a `ScriptError` naming the problem. */
export function parseScript(body: string): Round[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new ScriptError(`invalid JSON: ${error instanceof Error ? error.message : error}`);
  }
  if (!Array.isArray(json)) throw new ScriptError("expected a JSON array of steps");
  const rounds: Round[] = [];
  let utterances: Utterance[] = [];
  for (const [index, value] of json.entries()) {
    const step = parseStep(value, index + 1);
    if ("toolCalls" in step) {
      rounds.push({ utterances, toolCalls: step.toolCalls });
      utterances = [];
    } else {
      utterances.push(step);
    }
  }
  rounds.push({ utterances, toolCalls: [] });
  return rounds;
}
