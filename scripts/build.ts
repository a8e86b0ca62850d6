import { ensureBuilt } from "./build-state";

await ensureBuilt();
