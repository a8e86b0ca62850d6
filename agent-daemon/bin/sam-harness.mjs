#!/usr/bin/env node
// The built-in agent as an ACP agent over stdio: the daemon runs it for its sessions, and any ACP
// client (an editor such as Zed) can: `node bin/sam-harness.mjs --model provider:model [--base-url URL]`.
import { register } from "tsx/esm/api";

register();
await import("../src/harness/stdio-main.ts");
