/**
 * Failures worded for the user: anything thrown, and the model provider's errors, which the AI SDK
 * gives as an `APICallError` (inside a `RetryError` once retried) with the status and the
 * provider's own message, or without a status when the server could not be reached.
 */
import { APICallError, RetryError } from "ai";
import { KEY_ENDPOINT_HEADER } from "../../keys/key-proxy.ts";

/** The message of anything thrown, for reports to the model and the client. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Where the model is, for "cannot reach": the configured base URL, else the request's origin. */
function modelLocation(error: APICallError, baseUrl: string | undefined): string {
  if (baseUrl) return baseUrl;
  try {
    return new URL(error.url).origin;
  } catch {
    return error.url;
  }
}

/** The root cause of a failed connection (`connect ECONNREFUSED 127.0.0.1:1`). */
function connectionCause(error: APICallError): string {
  const cause = error.cause;
  if (cause instanceof Error) return cause.message || (cause as NodeJS.ErrnoException).code || String(cause);
  return error.message.replace(/^Cannot connect to API: /, "");
}

/** A failed model call as the user should read it; other errors keep their message. */
export function describeModelError(error: unknown, baseUrl: string | undefined): string {
  const last = RetryError.isInstance(error) ? error.lastError : error;
  if (!APICallError.isInstance(last)) return errorMessage(last);
  const status = last.statusCode;
  // The daemon's key endpoint answered for a provider it could not reach: its message says where and why.
  if (last.responseHeaders?.[KEY_ENDPOINT_HEADER] && status === 502) return `cannot reach the model: ${last.message}`;
  if (status === undefined)
    return `cannot reach the model at ${modelLocation(last, baseUrl)}: ${connectionCause(last)}`;
  if (status === 401 || status === 403)
    return `the model provider refused the API key (HTTP ${status}): ${last.message}`;
  return `the model provider answered HTTP ${status}: ${last.message}`;
}
