import type { TaskMode } from "@/db/schema";

export interface ExamplePrompt {
  label: string;
  mode: TaskMode;
  text: string;
}

/**
 * A message the offline `scripted` model plays. Backticks inside the steps are escaped so a
 * subtask's own script can sit inside this one's JSON.
 */
function scripted(text: string, steps: unknown[]): string {
  return `${text}\n\n\`\`\`sam-script\n${JSON.stringify(steps, null, 1).replaceAll("`", "\\u0060")}\n\`\`\`\n`;
}

/** Prompts that show what SAM does with the demo model, which only plays sam-script blocks. */
export const EXAMPLE_PROMPTS: ExamplePrompt[] = [
  {
    label: "Explore the repository",
    mode: "conversation",
    text: scripted("Look around this repository and tell me what it is.", [
      { say: "Let me look around first." },
      { tool: "list_files", args: {} },
      { tool: "shell", args: { command: "git log --oneline | head -5" } },
      { say: "This is the project's **root**, and above are its latest commits. What should we work on?" },
    ]),
  },
  {
    label: "Write a file and ship it",
    mode: "task",
    text: scripted("Add a NOTES.md with a first note.", [
      { say: "Writing the note." },
      { tool: "write_file", args: { path: "NOTES.md", content: "# Notes\n\n- SAM was here.\n" } },
      { tool: "shell", args: { command: "git status --short" } },
      { say: "Done: NOTES.md is written; SAM commits and pushes it when this turn ends." },
    ]),
  },
  {
    label: "Dispatch subtasks, one waiting on another",
    mode: "task",
    text: scripted("Split the work into subtasks: a model, then an API on it, and docs.", [
      { say: "I'll split this into three subtasks." },
      {
        tool: "dispatch_task",
        args: {
          title: "Write the data model",
          description: scripted("Write the data model.", [
            { sleep: 3000 },
            { tool: "write_file", args: { path: "model.txt", content: "model\n" } },
            { say: "Model written." },
          ]),
        },
      },
      {
        tool: "dispatch_task",
        args: {
          title: "Build the API on the model",
          dependsOn: ["{{1.taskId}}"],
          description: scripted("Build the API.", [
            { tool: "write_file", args: { path: "api.txt", content: "api\n" } },
            { say: "API built." },
          ]),
        },
      },
      {
        tool: "dispatch_task",
        args: {
          title: "Write the docs",
          description: scripted("Write the docs.", [
            { tool: "write_file", args: { path: "docs.txt", content: "docs\n" } },
            { say: "Docs written." },
          ]),
        },
      },
      { say: "Three subtasks are on their way; the API waits for the model. Watch them in the sidebar." },
    ]),
  },
  {
    label: "Message a subtask, then stop it",
    mode: "task",
    text: scripted("Start a long subtask, steer it, then stop it.", [
      {
        tool: "dispatch_task",
        args: {
          title: "A long investigation",
          description: scripted("Investigate for a while.", [{ sleep: 30000 }, { say: "Finished investigating." }]),
        },
      },
      { sleep: 4000 },
      {
        tool: "send_message_to_subtask",
        args: { taskId: "{{1.taskId}}", message: "Focus on the failing tests first." },
      },
      { sleep: 2000 },
      { tool: "stop_subtask", args: { taskId: "{{1.taskId}}", reason: "We have what we need." } },
      { say: "I messaged the subtask, then stopped it." },
    ]),
  },
];
