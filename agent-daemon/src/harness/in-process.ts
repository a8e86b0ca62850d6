/**
 * The built-in agent in the daemon's own process, connected through in-memory byte pipes with the
 * same newline-delimited JSON framing as stdio, so both harness kinds run the same ACP code path.
 */
import { ndJsonStream } from "@agentclientprotocol/sdk";
import type { HarnessTransport } from "./acp-client.ts";
import { serveBuiltinAgent } from "./builtin/agent.ts";

export function startInProcessAgent(): HarnessTransport {
  const toAgent = new TransformStream<Uint8Array, Uint8Array>();
  const toClient = new TransformStream<Uint8Array, Uint8Array>();
  const agent = serveBuiltinAgent(ndJsonStream(toClient.writable, toAgent.readable));
  return {
    stream: ndJsonStream(toAgent.writable, toClient.readable),
    ended: agent.closed.then(() => "the built-in agent closed its connection"),
    terminate: async () => {
      agent.close();
      await agent.closed;
    },
  };
}
