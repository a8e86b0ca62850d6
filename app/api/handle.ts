import { errorResponse, SamError } from "@/lib/errors";

/** Runs a route handler body; every failure becomes the one error response shape. */
export async function handle(fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (err) {
    return errorResponse(err);
  }
}

/** The request's JSON body; a body that is not JSON is refused with a clear message. */
export async function jsonBody(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.trim() === "") throw new SamError("invalid_input", "The request body must be a JSON object");
  try {
    return JSON.parse(text);
  } catch {
    throw new SamError("invalid_input", "The request body is not valid JSON");
  }
}
