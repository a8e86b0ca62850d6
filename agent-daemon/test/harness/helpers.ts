import { z } from "zod";
import { startHarness } from "../../src/harness/start.ts";
import type { HarnessEvent, HarnessOptions, HarnessSession } from "../../src/harness/types.ts";

// Nothing listens on port 1: harness tests without a web app get an unreachable MCP server.
export const NO_WEB_APP = "http://127.0.0.1:1/api/mcp";
export const TASK_TOKEN = "task-token-0123456789abcdef0123456789abcdef";

/** A user message carrying a sam-script. */
export function script(steps: unknown[], prose = "Please do this."): string {
  return `${prose}\n\n\`\`\`sam-script\n${JSON.stringify(steps, null, 2)}\n\`\`\`\n`;
}

export interface TestHarness {
  harness: HarnessSession;
  /** Events reported while the session started (e.g. an unreachable MCP server). */
  startEvents: HarnessEvent[];
  /** Events reported since the start. */
  events: HarnessEvent[];
  crashes: string[];
}

export async function openHarness(
  options: Pick<HarnessOptions, "kind" | "cwd"> & Partial<HarnessOptions>,
): Promise<TestHarness> {
  const startEvents: HarnessEvent[] = [];
  const events: HarnessEvent[] = [];
  const crashes: string[] = [];
  let started = false;
  const harness = await startHarness({
    mode: "task",
    model: "scripted",
    mcpUrl: NO_WEB_APP,
    taskToken: TASK_TOKEN,
    onEvent: (event) => (started ? events : startEvents).push(event),
    onCrash: (reason) => crashes.push(reason),
    ...options,
  });
  started = true;
  return { harness, startEvents, events, crashes };
}

/** A compact trace of events, for asserting on their order. */
export function trace(events: HarnessEvent[]): string[] {
  return events.map((event) => {
    switch (event.type) {
      case "agent_text":
        return `text: ${event.text}`;
      case "agent_thought":
        return `thought: ${event.text}`;
      case "tool_call":
        return `call ${event.name}`;
      case "tool_result":
        return `${event.status} ${event.name}`;
      case "usage":
        return `usage ${event.inputTokens}/${event.outputTokens}`;
      case "plan":
        return `plan ${event.entries.length}`;
      default:
        return `error: ${event.message}`;
    }
  });
}

export function results(events: HarnessEvent[]): Array<Extract<HarnessEvent, { type: "tool_result" }>> {
  return events.filter((event) => event.type === "tool_result");
}

/** The stdout of a shell tool result. */
export function stdoutOf(result: HarnessEvent | undefined): string {
  return z.object({ stdout: z.string() }).parse(result?.type === "tool_result" ? result.output : undefined).stdout;
}
