#!/usr/bin/env node
// The built-in agent as an ACP agent over stdio; the daemon runs it for `builtin-subprocess` sessions.
import { register } from "tsx/esm/api";

register();
await import("../src/harness/stdio-main.ts");
