import { z } from "zod";
import { SamError } from "../errors";
import { MISSING_BASE_URL, type ModelProvider, PROVIDERS } from "./providers";

/** How a provider is reached: where, and with which key (none for a keyless local server). */
export interface ModelConnection {
  provider: ModelProvider;
  /** Undefined for an OpenAI-compatible server whose base URL is not set yet. */
  baseUrl?: string;
  apiKey?: string;
}

export interface ProviderModel {
  id: string;
  name?: string;
}

/** Why a provider could not be used; `message` says it to the user. */
export type ConnectionProblem =
  | "missing_key"
  | "missing_base_url"
  | "refused_key"
  | "unreachable"
  | "not_found"
  | "bad_answer";

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
// Gemini's: names such as models/gemini-2.5-pro.
const geminiListSchema = z.object({
  models: z.array(z.object({ name: z.string().min(1), displayName: z.string().optional() }).passthrough()),
});

/** The model list request in each provider's dialect. */
function listRequest(
  provider: ModelProvider,
  baseUrl: string,
  apiKey: string | undefined,
): { url: string; headers: Record<string, string> } {
  switch (provider) {
    case "anthropic":
      return {
        url: `${baseUrl}/models?limit=1000`,
        headers: { "x-api-key": apiKey ?? "", "anthropic-version": ANTHROPIC_VERSION },
      };
    case "google":
      return { url: `${baseUrl}/models?pageSize=1000`, headers: { "x-goog-api-key": apiKey ?? "" } };
    default:
      return { url: `${baseUrl}/models`, headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} };
  }
}

function parseList(provider: ModelProvider, body: unknown): ProviderModel[] | undefined {
  if (provider === "google") {
    const parsed = geminiListSchema.safeParse(body);
    return parsed.data?.models.map((m) => ({
      id: m.name.replace(/^models\//, ""),
      ...(m.displayName ? { name: m.displayName } : {}),
    }));
  }
  const parsed = modelListSchema.safeParse(body);
  return parsed.data?.data.map((m) => ({ id: m.id, ...(m.display_name ? { name: m.display_name } : {}) }));
}

/** Gemini answers a wrong key with 400 rather than 401. */
function isRefusedKey(status: number, body: string): boolean {
  return status === 401 || status === 403 || (status === 400 && /API_KEY_INVALID|API key not valid/.test(body));
}

function problem(kind: ConnectionProblem, message: string): SamError {
  const code = kind === "missing_key" || kind === "missing_base_url" ? "invalid_input" : "unavailable";
  return new SamError(code, message, { problem: kind });
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

/** The provider's own error message, if its body has one (OpenAI, Anthropic and Gemini all use error.message). */
function providerMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
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
  if (!baseUrl) throw problem("missing_base_url", MISSING_BASE_URL);
  if (info.keyRequired && !apiKey) throw problem("missing_key", missingKeyMessage(provider));
  const { url, headers } = listRequest(provider, baseUrl, apiKey);
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
  } catch (err) {
    throw problem("unreachable", `cannot reach ${baseUrl}: ${unreachableReason(err)}`);
  }
  if (!res.ok) {
    const body = await res.text().catch(() => "");
    // The provider's words are left out here: providers quote part of a wrong key in them.
    if (isRefusedKey(res.status, body)) {
      throw problem(
        "refused_key",
        apiKey
          ? `the provider refused the key (HTTP ${res.status}): check the ${info.keySecret} secret`
          : `the server asks for a key (HTTP ${res.status}): add an ${info.keySecret} secret`,
      );
    }
    if (res.status === 404) {
      throw problem(
        "not_found",
        `${baseUrl} has no model list (HTTP 404): is the base URL right? OpenAI-compatible servers usually end in /v1`,
      );
    }
    const detail = providerMessage(body);
    throw problem("bad_answer", `${baseUrl} answered HTTP ${res.status}${detail ? `: ${detail}` : ""}`);
  }
  const models = parseList(provider, await res.json().catch(() => undefined));
  if (!models) throw problem("bad_answer", `${baseUrl} did not answer with a model list`);
  return models.sort((a, b) => a.id.localeCompare(b.id));
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
