/** What a task waiting for its subtasks shows: "Waiting on 2 subtasks". */
export function waitingOnLabel(activeChildren: number): string {
  return `Waiting on ${activeChildren} subtask${activeChildren === 1 ? "" : "s"}`;
}
