import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { ensurePrivateDir, ensurePrivateFile } from "./private-files";

/**
 * What `npm start` serves, recorded in the data dir so that the command line (`sam login-link`)
 * builds links to the server that actually runs rather than to a guessed HOST:PORT.
 */
const FILE_NAME = "server.json";

const serverRecordSchema = z.object(
  {
    url: z.url({ protocol: /^https?$/, message: "must be an absolute http(s) URL" }),
    pid: z
      .number({ message: "must be a process id" })
      .int({ message: "must be a process id" })
      .positive({ message: "must be a process id" }),
    startedAt: z.iso.datetime({ message: "must be an ISO date" }),
  },
  { message: "must be a JSON object" },
);

export type ServerRecord = z.infer<typeof serverRecordSchema>;

export type RunningServer =
  | { state: "running"; record: ServerRecord; file: string }
  | { state: "none"; file: string }
  /** Recorded by a process that has ended without removing it (killed, crashed). */
  | { state: "stale"; record: ServerRecord; file: string }
  | { state: "corrupt"; problem: string; file: string };

export function serverRecordFile(dataDir: string): string {
  return path.join(dataDir, FILE_NAME);
}

/** Records the server this process runs; readable by the data dir's owner only (0600). */
export function writeServerRecord(dataDir: string, record: ServerRecord): void {
  ensurePrivateDir(dataDir);
  const file = serverRecordFile(dataDir);
  // Written aside and renamed: a reader never sees half a record.
  const partial = `${file}.${process.pid}.tmp`;
  ensurePrivateFile(partial);
  fs.writeFileSync(partial, `${JSON.stringify(record, null, 2)}\n`);
  fs.renameSync(partial, file);
}

/** Removes the record if this process wrote it: another server may have started on the data dir since. */
export function removeServerRecord(dataDir: string, pid: number = process.pid): void {
  const found = readServerRecord(dataDir);
  if ((found.state === "running" || found.state === "stale") && found.record.pid === pid) {
    fs.rmSync(found.file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The server recorded in the data dir, and whether its process still runs. */
export function readServerRecord(dataDir: string): RunningServer {
  const file = serverRecordFile(dataDir);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { state: "none", file };
    return { state: "corrupt", problem: (err as Error).message, file };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { state: "corrupt", problem: "it is not JSON", file };
  }
  const parsed = serverRecordSchema.safeParse(json);
  if (!parsed.success) {
    const problem = parsed.error.issues.map((i) => `${i.path.join(".") || "the record"} ${i.message}`).join("; ");
    return { state: "corrupt", problem, file };
  }
  const record = parsed.data;
  return isAlive(record.pid) ? { state: "running", record, file } : { state: "stale", record, file };
}
