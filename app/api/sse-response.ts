const HEARTBEAT_MS = 15_000;
// How long a browser waits before reconnecting after the connection drops.
const RETRY_MS = 2000;

/**
 * A feed as Server-Sent Events, one `frame` per item. The feed is pulled one item at a time, so a
 * slow reader holds it back instead of filling memory; it is closed whether the client leaves or
 * the feed runs out (a poll in progress stops at once, a paused feed lets go of its listeners). A
 * failing feed just ends the stream: the client reconnects with where it was and loses nothing.
 */
export function sseResponse<T>(
  req: Request,
  open: (signal: AbortSignal) => AsyncGenerator<T>,
  frame: (item: T) => string,
  what: string,
): Response {
  const stop = new AbortController();
  const feed = open(stop.signal);
  const encoder = new TextEncoder();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const finish = () => {
    clearInterval(heartbeat);
    req.signal.removeEventListener("abort", finish);
    stop.abort();
    void feed.return(undefined);
  };
  req.signal.addEventListener("abort", finish, { once: true });

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`retry: ${RETRY_MS}\n\n`));
      // A comment line keeps proxies and idle timeouts from closing a quiet stream.
      heartbeat = setInterval(() => controller.enqueue(encoder.encode(": keep-alive\n\n")), HEARTBEAT_MS);
    },
    async pull(controller) {
      let next: IteratorResult<T>;
      try {
        next = await feed.next();
      } catch (err) {
        console.error(`sam: the ${what} stream failed:`, err);
        next = { done: true, value: undefined };
      }
      // After a disconnect the stream is already cancelled and takes nothing more.
      if (stop.signal.aborted) return;
      if (next.done) {
        finish();
        controller.close();
      } else {
        controller.enqueue(encoder.encode(frame(next.value)));
      }
    },
    cancel: finish,
  });

  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      // no-transform: compression would hold events back until a buffer fills.
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
