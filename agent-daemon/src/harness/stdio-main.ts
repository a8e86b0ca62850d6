/**
 * Entry point of the harness subprocess: the built-in agent over stdin/stdout. Stdout carries
 * the ACP stream and nothing else, so console output of any library is sent to stderr.
 */
import { Readable, Writable } from "node:stream";
import { ndJsonStream } from "@agentclientprotocol/sdk";
import { serveBuiltinAgent } from "./builtin/agent.ts";

console.log = console.error;
console.info = console.error;
console.debug = console.error;

const agent = serveBuiltinAgent(ndJsonStream(Writable.toWeb(process.stdout), Readable.toWeb(process.stdin)));
await agent.closed;
// Sessions are closed; nothing else of the harness's needs to finish.
process.exit(0);
