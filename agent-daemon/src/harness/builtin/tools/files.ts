/**
 * The built-in agent's file tools. Every path goes through `resolveInWorkspace`, so nothing outside
 * the workspace can be read, written or listed; a refusal is a thrown error, which the loop reports
 * as a failed tool result and feeds back to the model.
 */
import type { Dirent } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { type ToolSet, tool } from "ai";
import { z } from "zod";
import { errorMessage } from "../errors.ts";
import { displayPath, resolveInWorkspace } from "./workspace-path.ts";

const READ_LIMIT_BYTES = 256 * 1024;
const LIST_LIMIT = 1000;
const SEARCH_MATCH_LIMIT = 200;
const SEARCH_FILE_LIMIT_BYTES = 1024 * 1024;
const SEARCH_LINE_CHARS = 400;
// Directories no listing or search descends into: git internals and installed dependencies.
const SKIPPED_DIRS = new Set([".git", "node_modules"]);

const pathArg = z.string().min(1).describe("A path relative to the workspace root.");

interface Entry {
  real: string;
  dirent: Dirent;
}

/** Depth-first walk below `dir`, not following symlinks (they may point out of the workspace). */
async function* walk(dir: string, recursive: boolean): AsyncGenerator<Entry> {
  const dirents = await fs.readdir(dir, { withFileTypes: true });
  dirents.sort((a, b) => a.name.localeCompare(b.name));
  for (const dirent of dirents) {
    const real = path.join(dir, dirent.name);
    yield { real, dirent };
    if (recursive && dirent.isDirectory() && !SKIPPED_DIRS.has(dirent.name)) yield* walk(real, true);
  }
}

/** The regular files at `real`: the file itself, or every file below the folder. */
async function* filesAt(real: string): AsyncGenerator<string> {
  if (!(await fs.stat(real)).isDirectory()) {
    yield real;
    return;
  }
  for await (const { real: entry, dirent } of walk(real, true)) if (dirent.isFile()) yield entry;
}

function isBinary(content: Buffer): boolean {
  return content.subarray(0, 8192).includes(0);
}

function lineMatcher(pattern: string, regex: boolean): (line: string) => boolean {
  if (!regex) return (line) => line.includes(pattern);
  let compiled: RegExp;
  try {
    compiled = new RegExp(pattern);
  } catch (error) {
    throw new Error(`invalid regular expression ${pattern}: ${errorMessage(error)}`);
  }
  return (line) => compiled.test(line);
}

export function fileTools(root: string): ToolSet {
  return {
    read_file: tool({
      description: `Read a text file of the workspace (at most ${READ_LIMIT_BYTES / 1024} KB are returned).`,
      inputSchema: z.object({ path: pathArg }),
      execute: async ({ path: requested }) => {
        const real = await resolveInWorkspace(root, requested);
        const content = await fs.readFile(real);
        const truncated = content.length > READ_LIMIT_BYTES;
        return {
          path: displayPath(root, real),
          size: content.length,
          content: content.subarray(0, READ_LIMIT_BYTES).toString("utf8"),
          ...(truncated ? { truncated: `only the first ${READ_LIMIT_BYTES} bytes are shown` } : {}),
        };
      },
    }),

    write_file: tool({
      description: "Create or overwrite a file of the workspace with the given content; parent folders are created.",
      inputSchema: z.object({ path: pathArg, content: z.string() }),
      execute: async ({ path: requested, content }) => {
        const real = await resolveInWorkspace(root, requested);
        await fs.mkdir(path.dirname(real), { recursive: true });
        await fs.writeFile(real, content);
        return { path: displayPath(root, real), bytes: Buffer.byteLength(content) };
      },
    }),

    edit_file: tool({
      description:
        "Replace one exact occurrence of `old` with `new` in a workspace file. `old` must occur exactly once; include enough surrounding text to make it unique.",
      inputSchema: z.object({ path: pathArg, old: z.string().min(1), new: z.string() }),
      execute: async ({ path: requested, old, new: replacement }) => {
        const real = await resolveInWorkspace(root, requested);
        const content = await fs.readFile(real, "utf8");
        const occurrences = content.split(old).length - 1;
        if (occurrences === 0) throw new Error(`the text to replace was not found in ${requested}`);
        if (occurrences > 1) {
          throw new Error(
            `the text to replace occurs ${occurrences} times in ${requested}; include more context so it occurs once`,
          );
        }
        const index = content.indexOf(old);
        await fs.writeFile(real, content.slice(0, index) + replacement + content.slice(index + old.length));
        return { path: displayPath(root, real), replaced: 1 };
      },
    }),

    list_files: tool({
      description: `List a workspace folder (default: the root). Folders end with "/", symlinks with "@". Recursive listings do not descend into ${[...SKIPPED_DIRS].join(", ")} or symlinks; at most ${LIST_LIMIT} entries.`,
      inputSchema: z.object({ path: pathArg.optional(), recursive: z.boolean().optional() }),
      execute: async ({ path: requested = ".", recursive = false }) => {
        const real = await resolveInWorkspace(root, requested);
        const entries: string[] = [];
        let truncated = false;
        for await (const { real: entry, dirent } of walk(real, recursive)) {
          if (entries.length === LIST_LIMIT) {
            truncated = true;
            break;
          }
          const suffix = dirent.isDirectory() ? "/" : dirent.isSymbolicLink() ? "@" : "";
          entries.push(displayPath(root, entry) + suffix);
        }
        return { path: displayPath(root, real), entries, ...(truncated ? { truncated: true } : {}) };
      },
    }),

    search_files: tool({
      description: `Search the workspace's text files line by line for a plain-text pattern (or a JavaScript regular expression with regex: true). Skips ${[...SKIPPED_DIRS].join(", ")}, symlinks, binary files and files over ${SEARCH_FILE_LIMIT_BYTES / 1024 / 1024} MB; at most ${SEARCH_MATCH_LIMIT} matches.`,
      inputSchema: z.object({
        pattern: z.string().min(1),
        path: pathArg.optional(),
        regex: z.boolean().optional(),
      }),
      execute: async ({ pattern, path: requested = ".", regex = false }) => {
        const matches = lineMatcher(pattern, regex);
        const real = await resolveInWorkspace(root, requested);
        const found: Array<{ path: string; line: number; text: string }> = [];
        for await (const file of filesAt(real)) {
          const stat = await fs.stat(file);
          if (stat.size > SEARCH_FILE_LIMIT_BYTES) continue;
          const content = await fs.readFile(file);
          if (isBinary(content)) continue;
          const lines = content.toString("utf8").split(/\r?\n/);
          for (const [index, line] of lines.entries()) {
            if (!matches(line)) continue;
            if (found.length === SEARCH_MATCH_LIMIT) return { matches: found, truncated: true };
            found.push({ path: displayPath(root, file), line: index + 1, text: line.slice(0, SEARCH_LINE_CHARS) });
          }
        }
        return { matches: found };
      },
    }),
  };
}
