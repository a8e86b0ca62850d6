import { execFile } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const SAM_BIN = path.join(root, "bin/sam.mjs");

export interface SamRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `sam` executable in a child process, `input` on its standard input. The instance's
 * variables come only from `env`, so a developer's own SAM_DATA_DIR or DATABASE_URL never leaks
 * into a test.
 */
export function runSam(args: string[], env: Record<string, string>, cwd = root, input = ""): Promise<SamRun> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(childEnv)) {
    if (/^(SAM_|DATABASE_|AUTH_)/.test(key) || key === "PORT" || key === "HOST") delete childEnv[key];
  }
  Object.assign(childEnv, env);
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [SAM_BIN, ...args],
      { cwd, env: childEnv, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== "number") return reject(err);
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
    // Standard input is `input`, then closed, as a pipe into the command would be.
    child.stdin?.end(input);
  });
}
