/**
 * The daemon's diagnostics. They go to stderr: stdout carries exactly one line, the listening URL,
 * which a supervisor parses.
 */
export function log(message: string): void {
  console.error(`sam-daemon: ${message}`);
}
