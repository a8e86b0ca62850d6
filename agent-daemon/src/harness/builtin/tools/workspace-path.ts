/**
 * Confinement of the file tools to the workspace. A requested path is resolved the way the
 * filesystem would resolve it (symlinks followed, including dangling ones and those in missing
 * parents), and refused unless the result lies inside the workspace root.
 */
import fs from "node:fs/promises";
import path from "node:path";

// The same bound the kernel puts on symlink chains (ELOOP).
const MAX_SYMLINK_HOPS = 40;

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined;
}

/** Like realpath, but a path that does not exist yet resolves to where it would be created. */
async function resolveReal(target: string, hops = 0): Promise<string> {
  try {
    return await fs.realpath(target);
  } catch (error) {
    if (errorCode(error) !== "ENOENT") throw error;
  }
  const stat = await fs.lstat(target).catch(() => undefined);
  if (stat?.isSymbolicLink()) {
    // A dangling symlink: writing through it would create its target, so its target is what counts.
    if (hops >= MAX_SYMLINK_HOPS) throw new Error(`too many levels of symbolic links at ${target}`);
    const link = await fs.readlink(target);
    return resolveReal(path.resolve(path.dirname(target), link), hops + 1);
  }
  const parent = path.dirname(target);
  if (parent === target) return target;
  return path.join(await resolveReal(parent, hops), path.basename(target));
}

export function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/**
 * The real absolute path of `requested` (relative to the workspace root, or absolute), or an
 * error naming the path if it resolves outside the workspace. `root` must itself be a real path.
 */
export async function resolveInWorkspace(root: string, requested: string): Promise<string> {
  const real = await resolveReal(path.resolve(root, requested));
  if (!isInside(root, real)) throw new Error(`path ${requested} is outside the workspace`);
  return real;
}

/** How a workspace path is shown to the model: relative to the root, `.` for the root itself. */
export function displayPath(root: string, real: string): string {
  return path.relative(root, real) || ".";
}
