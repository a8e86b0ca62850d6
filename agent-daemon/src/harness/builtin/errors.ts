/** The message of anything thrown, for reports to the model and the client. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
