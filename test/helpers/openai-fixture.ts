/**
 * A scripted OpenAI-compatible server: the stand-in for an LLM that real providers, agents and SAM's
 * key endpoint talk to in tests. It speaks the chat completions API (streaming and not, tool calls,
 * usage figures) and the model list, accepts one key, and answers as the test scripts it.
 * Everything between it and the repository is real.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

export interface FixtureReply {
  text?: string;
  toolCalls?: Array<{ name: string; arguments: Record<string, unknown> }>;
  usage?: { promptTokens: number; completionTokens: number; cachedTokens?: number };
  /** Answer only once this settles (a turn the test stops mid-way); streams send their first chunk before. */
  hold?: Promise<unknown>;
  /** Answer with this HTTP error instead, in OpenAI's error format. */
  error?: { status: number; message: string };
}

export interface FixtureRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: a recorded request body is whatever the client sent.
  body: any;
  at: number;
}

export interface OpenAIFixture {
  /** The base URL clients are given, ending in /v1. */
  url: string;
  /** The only key it accepts (Authorization: Bearer); any other gets 401. */
  apiKey: string;
  /** Every request, in arrival order. */
  requests: FixtureRequest[];
  /** The well-formed chat completion requests, in order. */
  completions(): FixtureRequest[];
  /** How chat completions are answered: called per request with its body and its index among them. */
  // biome-ignore lint/suspicious/noExplicitAny: the body is the client's JSON.
  respond(fn: (body: any, index: number) => FixtureReply): void;
  /** Resolves at the next chat completion request (or the n-th overall, counted from 1). */
  nextCompletion(n?: number): Promise<FixtureRequest>;
  close(): Promise<void>;
}

// What the chat completions endpoint requires of a request, as OpenAI documents it.
const completionRequestSchema = z
  .object({
    model: z.string().min(1),
    messages: z
      .array(
        z
          .object({
            role: z.enum(["system", "developer", "user", "assistant", "tool"]),
          })
          .passthrough(),
      )
      .min(1),
    stream: z.boolean().optional(),
    tools: z
      .array(
        z
          .object({
            type: z.literal("function"),
            function: z.object({ name: z.string().min(1) }).passthrough(),
          })
          .passthrough(),
      )
      .optional(),
  })
  .passthrough();

const DEFAULT_USAGE = { promptTokens: 100, completionTokens: 20, cachedTokens: 0 };

/**
 * A stateless plan: the reply to a request is `steps[k]`, where k is how many assistant tool-call
 * rounds its messages already hold; past the end, the last step. Side requests an agent makes (a
 * title, a check) see the same conversation and so the same step.
 */
// biome-ignore lint/suspicious/noExplicitAny: the body is the client's JSON.
export function replyByRound(steps: FixtureReply[]): (body: any) => FixtureReply {
  if (steps.length === 0) throw new Error("replyByRound needs at least one step");
  return (body) => {
    const messages: Array<{ role?: string; tool_calls?: unknown[] }> = Array.isArray(body?.messages)
      ? body.messages
      : [];
    const rounds = messages.filter((m) => m.role === "assistant" && (m.tool_calls?.length ?? 0) > 0).length;
    return steps[Math.min(rounds, steps.length - 1)] as FixtureReply;
  };
}

function usageJson(usage: FixtureReply["usage"]) {
  const u = { ...DEFAULT_USAGE, ...usage };
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens ?? 0 },
  };
}

function toolCallsJson(reply: FixtureReply, ids: string[]) {
  return (reply.toolCalls ?? []).map((call, index) => ({
    index,
    id: ids[index],
    type: "function" as const,
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
}

export async function startOpenAIFixture(
  options: { apiKey?: string; models?: string[]; host?: string; port?: number } = {},
): Promise<OpenAIFixture> {
  const apiKey = options.apiKey ?? `sk-fixture-${randomBytes(12).toString("hex")}`;
  const models = options.models ?? ["fixture-model"];
  const requests: FixtureRequest[] = [];
  let responder: (body: unknown, index: number) => FixtureReply = () => ({ text: "Done." });
  const completions: FixtureRequest[] = [];
  const waiters: Array<{ n: number; resolve: (r: FixtureRequest) => void }> = [];
  const open = new Set<http.ServerResponse>();

  const sendError = (res: http.ServerResponse, status: number, message: string, type: string) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message, type, param: null, code: null } }));
  };

  const server = http.createServer(async (req, res) => {
    open.add(res);
    res.on("close", () => open.delete(res));
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const path = new URL(req.url ?? "/", "http://fixture").pathname;
    let body: unknown = null;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        return sendError(res, 400, "the request body is not JSON", "invalid_request_error");
      }
    }
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : (v ?? "")]),
    );
    const recorded: FixtureRequest = { method: req.method ?? "", path, headers, body, at: Date.now() };
    requests.push(recorded);

    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return sendError(res, 401, "Incorrect API key provided.", "invalid_request_error");
    }
    if (req.method === "GET" && path === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: models.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "fixture" })),
        }),
      );
      return;
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      return sendError(res, 404, `no route ${req.method} ${path}`, "invalid_request_error");
    }
    const parsed = completionRequestSchema.safeParse(body);
    if (!parsed.success) return sendError(res, 400, z.prettifyError(parsed.error), "invalid_request_error");

    const index = completions.push(recorded) - 1;
    for (const waiter of waiters.splice(0)) {
      if (waiter.n <= completions.length) waiter.resolve(completions[waiter.n - 1] as FixtureRequest);
      else waiters.push(waiter);
    }
    let reply: FixtureReply;
    try {
      reply = responder(parsed.data, index);
    } catch (error) {
      return sendError(res, 500, `fixture script failed: ${String(error)}`, "server_error");
    }
    const id = `chatcmpl-${index + 1}`;
    const created = Math.floor(Date.now() / 1000);
    const model = parsed.data.model;
    const ids = (reply.toolCalls ?? []).map((_, i) => `call_${index + 1}_${i}`);
    const finishReason = (reply.toolCalls?.length ?? 0) > 0 ? "tool_calls" : "stop";

    if (!parsed.data.stream) {
      if (reply.hold) await reply.hold;
      if (reply.error) return sendError(res, reply.error.status, reply.error.message, "server_error");
      const toolCalls = toolCallsJson(reply, ids).map(({ index: _i, ...call }) => call);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          id,
          object: "chat.completion",
          created,
          model,
          choices: [
            {
              index: 0,
              message: {
                role: "assistant",
                content: reply.text ?? null,
                ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
              },
              finish_reason: finishReason,
            },
          ],
          usage: usageJson(reply.usage),
        }),
      );
      return;
    }

    if (reply.error && !reply.hold) return sendError(res, reply.error.status, reply.error.message, "server_error");
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const chunk = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
      res.write(
        `data: ${JSON.stringify({
          id,
          object: "chat.completion.chunk",
          created,
          model,
          choices: [{ index: 0, delta, finish_reason: finish }],
          ...extra,
        })}\n\n`,
      );
    chunk({ role: "assistant", content: "" }, null);
    if (reply.hold) await reply.hold;
    if (res.destroyed) return;
    if (reply.text) {
      // Two pieces, so clients really assemble a streamed message.
      const half = Math.ceil(reply.text.length / 2);
      chunk({ content: reply.text.slice(0, half) }, null);
      if (reply.text.length > half) chunk({ content: reply.text.slice(half) }, null);
    }
    for (const call of toolCallsJson(reply, ids)) {
      chunk({ tool_calls: [{ ...call, function: { name: call.function.name, arguments: "" } }] }, null);
      chunk({ tool_calls: [{ index: call.index, function: { arguments: call.function.arguments } }] }, null);
    }
    chunk({}, finishReason, { usage: usageJson(reply.usage) });
    res.end("data: [DONE]\n\n");
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;

  return {
    url: `http://${host}:${port}/v1`,
    apiKey,
    requests,
    completions: () => [...completions],
    respond(fn) {
      responder = fn as typeof responder;
    },
    nextCompletion(n) {
      const target = n ?? completions.length + 1;
      const done = completions[target - 1];
      if (done) return Promise.resolve(done);
      return new Promise((resolve) => waiters.push({ n: target, resolve }));
    },
    async close() {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
