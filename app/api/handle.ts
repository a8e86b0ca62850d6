import { loadConfig } from "@/lib/config";
import { errorResponse, SamError } from "@/lib/errors";
import { assertJsonContentType, readBodyText } from "@/lib/http/request-rules";

/** Runs a route handler body; every failure becomes the one error response shape. */
export async function handle(fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (err) {
    return errorResponse(err);
  }
}

/**
 * The request's JSON body. It must be sent as application/json (a form post from another site cannot
 * be) and is read no further than the cap (SAM_MAX_BODY_BYTES, or `maxBytes` for a route that needs
 * more); anything else is refused with a message that names the problem.
 */
export async function jsonBody(req: Request, opts: { maxBytes?: number } = {}): Promise<unknown> {
  assertJsonContentType(req.headers);
  const text = await readBodyText(req, opts.maxBytes ?? loadConfig().maxBodyBytes);
  if (text.trim() === "") throw new SamError("invalid_input", "The request body must be a JSON object");
  try {
    return JSON.parse(text);
  } catch {
    throw new SamError("invalid_input", "The request body is not valid JSON");
  }
}
