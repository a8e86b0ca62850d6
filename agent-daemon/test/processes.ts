import fs from "node:fs";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Its process group. */
  pgrp: number;
  /** The command line, arguments joined by spaces. */
  cmdline: string;
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    // The process exited while we looked.
    return "";
  }
}

/** The live processes of this machine (zombies, which have exited, are left out). */
export function listProcesses(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readOrEmpty(`/proc/${entry}/stat`);
    // `pid (comm) state ppid pgrp …`; comm may itself hold spaces and parentheses.
    const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (!state || state === "Z" || state === "X") continue;
    const cmdline = readOrEmpty(`/proc/${entry}/cmdline`).split("\0").join(" ").trim();
    found.push({ pid: Number(entry), ppid: Number(ppid), pgrp: Number(pgrp), cmdline });
  }
  return found;
}

/** Whether the process mentions `text` in its command line, working directory or environment. */
export function mentions(pid: number, text: string): boolean {
  if (readOrEmpty(`/proc/${pid}/cmdline`).includes(text) || readOrEmpty(`/proc/${pid}/environ`).includes(text)) {
    return true;
  }
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(text);
  } catch {
    return false;
  }
}

/** Every process below `pid` (children, their children, …). */
export function descendantsOf(pid: number, all: ProcessInfo[] = listProcesses()): ProcessInfo[] {
  const below: ProcessInfo[] = [];
  let parents = new Set([pid]);
  while (parents.size > 0) {
    const children = all.filter((p) => parents.has(p.ppid));
    below.push(...children);
    parents = new Set(children.map((p) => p.pid));
  }
  return below;
}

/** Whether a process is still running (an exited one may linger as a zombie until it is reaped). */
export function isRunning(pid: number): boolean {
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  return state !== undefined && state !== "" && state !== "Z" && state !== "X";
}
