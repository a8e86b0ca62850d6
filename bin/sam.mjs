#!/usr/bin/env node
// The `sam` CLI: runs the TypeScript sources directly through tsx, with the repository's
// tsconfig so that the `@/` path alias resolves wherever the command is started from.
import path from "node:path";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const onlyHelp = argv.length === 0 || argv.includes("--help") || argv.includes("-h");
if (!onlyHelp) {
  // Every command but help uses the database. Loading these plain-JavaScript libraries before the
  // TypeScript loader is installed spares each of their modules a trip through its hooks (~40% of
  // a command's start-up); the TypeScript sources later get these same module instances.
  await Promise.all([import("zod"), import("@libsql/client"), import("drizzle-orm/libsql")]);
}
const { register } = await import("tsx/esm/api");
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
register({ tsconfig: path.join(root, "tsconfig.json") });
const { main } = await import("../cli/main.ts");
process.exitCode = await main(argv);
