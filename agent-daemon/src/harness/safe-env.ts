/**
 * The environment handed to agent-run processes (the harness subprocess and every shell command).
 *
 * It is built from an allowlist, never from `process.env` wholesale: the daemon's environment
 * holds its node token, and anything an agent's shell can read (its own env, `/proc/$PPID/environ`
 * of a harness subprocess) must not carry a secret. The task token and model API key travel over
 * ACP instead.
 */
const ALLOWED = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "LC_ALL",
  "LC_CTYPE",
  "TERM",
  "TZ",
  "TMPDIR",
  // Git identity, so commits an agent makes are attributed the way the node's owner configured.
  "GIT_AUTHOR_NAME",
  "GIT_AUTHOR_EMAIL",
  "GIT_COMMITTER_NAME",
  "GIT_COMMITTER_EMAIL",
] as const;

const FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin";

export function safeEnv(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ALLOWED) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= FALLBACK_PATH;
  return env;
}
