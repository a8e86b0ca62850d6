import { z } from "zod";
import { SamError } from "../errors";
import { type ModelProvider, PROVIDERS } from "./providers";

/** How a provider is reached: where, and with which key (none for a keyless local server). */
export interface ModelConnection {
  provider: ModelProvider;
  baseUrl: string;
  apiKey?: string;
}

export interface ProviderModel {
  id: string;
  name?: string;
}

/** Why a provider could not be used; `message` says it to the user. */
export type ConnectionProblem = "missing_key" | "refused_key" | "unreachable" | "not_found" | "bad_answer";

export type ConnectionResult =
  | { ok: true; message: string; models: ProviderModel[] }
  | { ok: false; problem: ConnectionProblem; message: string };

const TIMEOUT_MS = 10_000;
// Anthropic's API version header; the model list has been stable since.
const ANTHROPIC_VERSION = "2023-06-01";

// What /models answers at OpenAI, OpenAI-compatible servers (Ollama, vLLM) and Anthropic alike.
const modelListSchema = z.object({
  data: z.array(z.object({ id: z.string().min(1), display_name: z.string().optional() }).passthrough()),
});

function problem(kind: ConnectionProblem, message: string): SamError {
  return new SamError(kind === "missing_key" ? "invalid_input" : "unavailable", message, { problem: kind });
}

/** The message for a missing key, naming the secret to add. */
export function missingKeyMessage(provider: ModelProvider): string {
  const { label, keySecret } = PROVIDERS[provider];
  return `${label} needs an ${keySecret} secret: add it under the project's secrets`;
}

/** Node's fetch hides why a connection failed in `cause.code`. */
function unreachableReason(err: unknown): string {
  if (err instanceof DOMException && (err.name === "TimeoutError" || err.name === "AbortError")) {
    return `no answer within ${TIMEOUT_MS / 1000} s`;
  }
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  switch (cause?.code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "no such host";
    case "ECONNRESET":
      return "the connection was reset";
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
      return "the connection timed out";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "no route to the host";
    default:
      return cause?.message ?? (err instanceof Error ? err.message : String(err));
  }
}

/** The provider's own error message, if its body has one (OpenAI and Anthropic both use error.message). */
async function providerMessage(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === "string") return message.slice(0, 300);
  } catch {
    // Not JSON: the status says enough.
  }
  return "";
}

/**
 * The provider's models, fetched live (GET {base}/models). Throws a SamError whose message is meant
 * for the user and whose details.problem says which problem it was.
 */
export async function listModels(connection: ModelConnection): Promise<ProviderModel[]> {
  const { provider, baseUrl, apiKey } = connection;
  const info = PROVIDERS[provider];
  if (info.keyRequired && !apiKey) throw problem("missing_key", missingKeyMessage(provider));
  const url = `${baseUrl}/models${provider === "anthropic" ? "?limit=1000" : ""}`;
  const headers: Record<string, string> =
    provider === "anthropic"
      ? { "x-api-key": apiKey ?? "", "anthropic-version": ANTHROPIC_VERSION }
      : apiKey
        ? { authorization: `Bearer ${apiKey}` }
        : {};
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
  } catch (err) {
    throw problem("unreachable", `cannot reach ${baseUrl}: ${unreachableReason(err)}`);
  }
  if (res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw problem(
      "refused_key",
      apiKey
        ? `the provider refused the key (HTTP ${res.status}): check the ${info.keySecret} secret`
        : `the server asks for a key (HTTP ${res.status}): add an ${info.keySecret} secret`,
    );
  }
  if (res.status === 404) {
    await res.body?.cancel();
    throw problem(
      "not_found",
      `${baseUrl} has no model list (HTTP 404): is the base URL right? OpenAI-compatible servers usually end in /v1`,
    );
  }
  if (!res.ok) {
    const detail = await providerMessage(res);
    throw problem("bad_answer", `${baseUrl} answered HTTP ${res.status}${detail ? `: ${detail}` : ""}`);
  }
  const parsed = modelListSchema.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) throw problem("bad_answer", `${baseUrl} did not answer with a model list`);
  return parsed.data.data
    .map((m) => ({ id: m.id, ...(m.display_name ? { name: m.display_name } : {}) }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** Tries the connection by listing the models; says whether `model` (an id) is among them. */
export async function testConnection(connection: ModelConnection, model?: string): Promise<ConnectionResult> {
  let models: ProviderModel[];
  try {
    models = await listModels(connection);
  } catch (err) {
    if (!SamError.is(err) || typeof err.details?.problem !== "string") throw err;
    return { ok: false, problem: err.details.problem as ConnectionProblem, message: err.message };
  }
  const count = `${models.length} model${models.length === 1 ? "" : "s"}`;
  const which = !model
    ? ""
    : models.some((m) => m.id === model)
      ? `, ${model} among them`
      : `, but ${model} is not among them`;
  return { ok: true, message: `Connected to ${connection.baseUrl}: ${count}${which}.`, models };
}
