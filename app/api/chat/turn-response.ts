import { createUIMessageStream, createUIMessageStreamResponse } from "ai";
import type { Db } from "@/db/client";
import type { ChatChunk, ChatMessage } from "@/lib/chat/chunks";
import { streamTurn, type TurnStreamOptions } from "@/lib/chat/turn-stream";

/** A turn's reply as an AI SDK UI message stream response that ends when the turn does. */
export function turnResponse(
  db: Db,
  req: Request,
  opts: Omit<TurnStreamOptions, "signal">,
  first: ChatChunk[] = [],
): Response {
  const stream = createUIMessageStream<ChatMessage>({
    async execute({ writer }) {
      for (const chunk of first) writer.write(chunk);
      for await (const chunk of streamTurn(db, { ...opts, signal: req.signal })) writer.write(chunk);
    },
    onError: (err) => {
      console.error(`sam: the chat stream of session ${opts.sessionId} failed:`, err);
      return "The live reply was interrupted; reload to see the rest.";
    },
  });
  // Keep-alive comments stop proxies and idle timeouts from closing a quiet turn.
  return createUIMessageStreamResponse({ stream, keepAliveMs: 15_000 });
}
