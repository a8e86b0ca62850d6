import { afterEach, describe, expect, test, vi } from "vitest";
import {
  ERROR_CODES,
  type ErrorCode,
  errorBody,
  errorResponse,
  httpStatusOf,
  jsonRpcErrorOf,
  SamError,
  toSamError,
} from "@/lib/errors";

afterEach(() => vi.restoreAllMocks());

describe("error codes", () => {
  test.each<[ErrorCode, number]>([
    ["invalid_input", 400],
    ["unauthenticated", 401],
    ["forbidden", 403],
    ["not_found", 404],
    ["method_not_allowed", 405],
    ["conflict", 409],
    ["payload_too_large", 413],
    ["unsupported_media_type", 415],
    ["repo_invalid", 422],
    ["limit_reached", 429],
    ["internal", 500],
    ["unavailable", 503],
  ])("%s maps to HTTP %i", (code, status) => {
    expect(httpStatusOf(new SamError(code, "x"))).toBe(status);
  });

  test("invalid input and internal errors use the standard JSON-RPC codes; every code has its own", () => {
    expect(ERROR_CODES.invalid_input.jsonRpc).toBe(-32602);
    expect(ERROR_CODES.internal.jsonRpc).toBe(-32603);
    const rpcCodes = Object.values(ERROR_CODES).map((c) => c.jsonRpc);
    expect(new Set(rpcCodes).size).toBe(rpcCodes.length);
  });
});

describe("HTTP responses", () => {
  test("a SamError becomes its status and a JSON body with code, message and field details", async () => {
    const err = new SamError("invalid_input", "Invalid input: maxDepth: too big", {
      fields: [{ field: "maxDepth", message: "too big" }],
    });
    const res = errorResponse(err);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/application\/json/);
    expect(await res.json()).toEqual({
      error: {
        code: "invalid_input",
        message: "Invalid input: maxDepth: too big",
        details: { fields: [{ field: "maxDepth", message: "too big" }] },
      },
    });
  });

  test("a body without details has no details key", () => {
    expect(errorBody(new SamError("not_found", "Project not found"))).toEqual({
      error: { code: "not_found", message: "Project not found" },
    });
  });

  test("an unexpected error becomes a 500 that does not leak its message, and is logged", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = errorResponse(new Error("connection string postgres://admin:hunter2@db"));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("hunter2");
    expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: "Internal error" } });
    expect(log).toHaveBeenCalledOnce();
  });

  test("a 401 names the bearer scheme it would accept; route-specific headers are added", () => {
    expect(errorResponse(new SamError("unauthenticated", "Sign in first")).headers.get("www-authenticate")).toBe(
      'Bearer realm="SAM"',
    );
    expect(errorResponse(new SamError("forbidden", "no")).headers.get("www-authenticate")).toBeNull();
    const res = errorResponse(new SamError("method_not_allowed", "POST only"), { allow: "POST" });
    expect([res.status, res.headers.get("allow")]).toEqual([405, "POST"]);
  });

  test("an expected error is not logged", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    errorResponse(new SamError("forbidden", "Only a project owner can change this project"));
    expect(log).not.toHaveBeenCalled();
  });
});

describe("JSON-RPC errors", () => {
  test("a SamError keeps its message and carries its code and details in data", () => {
    const err = new SamError("limit_reached", "This task already has 5 active children", { limit: 5 });
    expect(jsonRpcErrorOf(err)).toEqual({
      code: -32029,
      message: "This task already has 5 active children",
      data: { code: "limit_reached", limit: 5 },
    });
  });

  test("an unexpected error becomes an internal error without its message", () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(jsonRpcErrorOf(new TypeError("x is undefined"))).toEqual({
      code: -32603,
      message: "Internal error",
      data: { code: "internal" },
    });
  });
});

describe("recognising SamErrors", () => {
  test("a SamError from another copy of the module is still recognised by name and code", () => {
    const foreign = Object.assign(new Error("Project not found"), { name: "SamError", code: "not_found" });
    expect(SamError.is(foreign)).toBe(true);
    expect(toSamError(foreign)).toBe(foreign);
  });

  test("thrown non-errors become internal errors", () => {
    expect(toSamError("boom")).toMatchObject({ code: "internal", message: "Internal error" });
    expect(SamError.is({ name: "SamError", code: "not_found" })).toBe(false);
  });
});

describe("a busy or unreachable database", () => {
  test("an `unavailable` error wrapped by the query builder keeps its code: 503 over HTTP, -32053 over JSON-RPC", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const wrapped = new Error("Failed query: INSERT INTO tasks ...", {
      cause: new SamError("unavailable", "The database is too busy to take this change; try again shortly"),
    });
    expect(toSamError(wrapped).code).toBe("unavailable");
    const res = errorResponse(wrapped);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      error: { code: "unavailable", message: "The database is too busy to take this change; try again shortly" },
    });
    const rpc = jsonRpcErrorOf(wrapped);
    expect(rpc).toMatchObject({ code: -32053, data: { code: "unavailable" } });
    expect(rpc.code).not.toBe(-32603);
  });
});
