import { ensureBuilt } from "../../scripts/build-state";

/** One production build for every browser test (rebuilt only when the sources changed). */
export default async function setup() {
  await ensureBuilt((line) => console.log(`[e2e] ${line}`));
}
