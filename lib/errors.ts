/**
 * The one error type of SAM. Every failure that reaches a user, an agent or a script carries a
 * stable code; HTTP statuses and JSON-RPC error codes are derived from it here and nowhere else.
 */
export const ERROR_CODES = {
  invalid_input: { http: 400, jsonRpc: -32602 },
  unauthenticated: { http: 401, jsonRpc: -32001 },
  forbidden: { http: 403, jsonRpc: -32003 },
  not_found: { http: 404, jsonRpc: -32004 },
  method_not_allowed: { http: 405, jsonRpc: -32005 },
  conflict: { http: 409, jsonRpc: -32009 },
  payload_too_large: { http: 413, jsonRpc: -32013 },
  unsupported_media_type: { http: 415, jsonRpc: -32015 },
  limit_reached: { http: 429, jsonRpc: -32029 },
  repo_invalid: { http: 422, jsonRpc: -32022 },
  unavailable: { http: 503, jsonRpc: -32053 },
  internal: { http: 500, jsonRpc: -32603 },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldIssue {
  field: string;
  message: string;
}

export class SamError extends Error {
  readonly code: ErrorCode;
  readonly details?: { fields?: FieldIssue[]; [key: string]: unknown };

  constructor(code: ErrorCode, message: string, details?: SamError["details"]) {
    super(message);
    this.name = "SamError";
    this.code = code;
    this.details = details;
  }

  static is(err: unknown): err is SamError {
    return err instanceof SamError || (err instanceof Error && err.name === "SamError" && "code" in err);
  }
}

/**
 * Turns any thrown value into a SamError; unknown failures become `internal` without leaking
 * internals. A SamError wrapped by a library (the query builder wraps what the database layer
 * throws, e.g. `unavailable` when the database stays busy) keeps its code.
 */
export function toSamError(err: unknown): SamError {
  for (let e = err; e instanceof Error; e = e.cause) if (SamError.is(e)) return e;
  return new SamError("internal", "Internal error");
}

/** Internal errors are bugs and are logged whole; an unavailable database is logged in one line. */
function logUnexpected(err: unknown, samError: SamError): void {
  if (samError.code === "internal") console.error(err);
  else if (samError.code === "unavailable") console.warn(`sam: ${samError.message}`);
}

export function errorBody(err: SamError) {
  return {
    error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) },
  };
}

export function httpStatusOf(err: SamError): number {
  return ERROR_CODES[err.code].http;
}

/**
 * The HTTP response for an error; route handlers call this and nothing else. A 401 names the scheme
 * that would be accepted (every API that refuses a caller takes a bearer token); `headers` adds what
 * only the route knows, such as the methods it allows.
 */
export function errorResponse(err: unknown, headers?: Record<string, string>): Response {
  const samError = toSamError(err);
  logUnexpected(err, samError);
  const challenge: Record<string, string> =
    samError.code === "unauthenticated" ? { "www-authenticate": 'Bearer realm="SAM"' } : {};
  return Response.json(errorBody(samError), { status: httpStatusOf(samError), headers: { ...challenge, ...headers } });
}

/** The JSON-RPC error object for an error; the MCP endpoint calls this and nothing else. */
export function jsonRpcErrorOf(err: unknown): { code: number; message: string; data?: unknown } {
  const samError = toSamError(err);
  logUnexpected(err, samError);
  return {
    code: ERROR_CODES[samError.code].jsonRpc,
    message: samError.message,
    data: { code: samError.code, ...(samError.details ?? {}) },
  };
}
