/**
 * Removes credentials embedded in URLs (`https://user:token@host/...`) from text before it reaches
 * a log, an error response or an event: repository URLs may carry them, and git echoes URLs back.
 */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, "$1***@");
}
