import type http from "node:http";
import type { z } from "zod";
import { RequestError } from "./errors.ts";

// Large enough for the biggest request the contract allows (a 200,000-character prompt, which is up
// to 800 KB of UTF-8, plus its fields), small enough that a stray upload cannot exhaust memory.
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

export function sendError(res: http.ServerResponse, err: RequestError): void {
  sendJson(res, err.status, { error: { code: err.code, message: err.message } });
}

/** Reads and parses the request's JSON body; a missing body reads as `{}`. */
export async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new RequestError(413, "payload_too_large", "The request body is too large");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RequestError(413, "payload_too_large", "The request body is too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new RequestError(400, "invalid_json", "The request body is not valid JSON");
  }
}

/** Validates `value`; a failure names every offending field: `repo: Invalid input: expected string`. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`);
  throw new RequestError(400, "invalid_input", problems.join("; "));
}
