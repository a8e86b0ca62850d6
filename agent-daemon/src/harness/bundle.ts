/**
 * The built-in agent as one JavaScript file, built by esbuild from its sources when the daemon
 * starts. A sandboxed session starts Node.js on it in about 150 ms, against about 600 ms for
 * loading the TypeScript sources through tsx, which would transpile them anew in every sandbox.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ENTRY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "stdio-main.ts");
export const BUNDLE_FILE = "sam-harness.mjs";

/**
 * Writes the bundle into `dir` (a directory of the daemon's, bound read-only into sandboxes) and
 * returns its path, or undefined with the reason logged when it cannot be built: sessions then run
 * the sources through tsx, only slower to start.
 */
export async function bundleHarness(dir: string, log: (message: string) => void): Promise<string | undefined> {
  // A daemon run from the archive SAM serves (lib/nodes/daemon-bundle.ts) has no sources: its
  // agent is bundled already, as bin/sam-harness.mjs.
  if (!fs.existsSync(ENTRY)) return undefined;
  const outfile = path.join(dir, BUNDLE_FILE);
  const temp = `${outfile}.${process.pid}.tmp`;
  try {
    const esbuild = await import("esbuild");
    await esbuild.build({
      entryPoints: [ENTRY],
      outfile: temp,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      logLevel: "silent",
      // Bundled CommonJS modules still `require` Node's own modules.
      banner: {
        js: "import { createRequire as __samRequire } from 'node:module'; const require = __samRequire(import.meta.url);",
      },
    });
    fs.chmodSync(temp, 0o644);
    fs.renameSync(temp, outfile);
    return outfile;
  } catch (err) {
    fs.rmSync(temp, { force: true });
    log(
      `could not bundle the built-in agent, sessions load its sources instead: ${err instanceof Error ? err.message : String(err)}`,
    );
    return undefined;
  }
}
