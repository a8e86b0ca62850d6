/** Starts the in-process scheduler when the Node.js server boots (not on the edge, not at build). */
export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startSchedulerFromEnv } = await import("./lib/scheduler/boot");
  startSchedulerFromEnv();
}
