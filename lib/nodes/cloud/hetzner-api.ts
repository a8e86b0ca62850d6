/**
 * The few Hetzner Cloud API endpoints SAM uses (https://docs.hetzner.cloud): create, get, list and
 * delete servers, and server type prices. Only what SAM reads of each answer is checked.
 */
import { z } from "zod";
import { SamError } from "../../errors";

const envSchema = z.object({
  // A stand-in of the API (tests) or a proxy in front of it.
  SAM_HETZNER_API_URL: z
    .string()
    .trim()
    .optional()
    .transform((v) => (v === "" ? undefined : v))
    .pipe(z.url({ protocol: /^https?$/, message: "must be an absolute http(s) URL" }).optional()),
});

/** The API's base URL: SAM_HETZNER_API_URL, else Hetzner's own. */
export function hetznerApiUrl(env: Record<string, string | undefined> = process.env): string {
  const parsed = envSchema.safeParse({ SAM_HETZNER_API_URL: env.SAM_HETZNER_API_URL });
  if (!parsed.success)
    throw new SamError("invalid_input", "Invalid environment: SAM_HETZNER_API_URL must be an absolute http(s) URL");
  return (parsed.data.SAM_HETZNER_API_URL ?? "https://api.hetzner.cloud/v1").replace(/\/+$/, "");
}

const REQUEST_TIMEOUT_MS = 30_000;

const serverSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  status: z.string(),
  created: z.string(),
  labels: z.record(z.string(), z.string()),
  public_net: z.object({ ipv4: z.object({ ip: z.string() }).nullable().optional() }).optional(),
});
export type HetznerServer = z.infer<typeof serverSchema>;

const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

const priceSchema = z.object({
  location: z.string(),
  price_hourly: z.object({ net: z.string(), gross: z.string() }),
});
const serverTypesSchema = z.object({
  server_types: z.array(z.object({ id: z.number().int(), name: z.string(), prices: z.array(priceSchema) })),
});

/** A failed API call: the provider's error code (or `network`), and words a person can act on. */
export class HetznerApiError extends SamError {
  constructor(
    readonly apiCode: string,
    message: string,
    readonly httpStatus?: number,
  ) {
    super(apiCode === "not_found" ? "not_found" : "unavailable", message, { provider: "hetzner", apiCode });
  }
}

/** The Hetzner error as a sentence that says what to do about it. */
function explain(code: string, message: string, details: unknown): string {
  switch (code) {
    case "rate_limit_exceeded":
      return `Hetzner's rate limit was hit (${message}); SAM tries again later`;
    case "resource_limit_exceeded":
      return `The Hetzner project's quota is used up (${message}): raise the limit at Hetzner, delete servers, or lower max VMs`;
    case "unauthorized":
      return `Hetzner refused the API token (${message}): set a valid token`;
    case "forbidden":
    case "token_readonly":
      return `The Hetzner API token may not do this (${message}): it needs read and write permission`;
    case "invalid_input": {
      const parsed = z
        .object({ fields: z.array(z.object({ name: z.string(), messages: z.array(z.string()) })) })
        .safeParse(details);
      const fields = parsed.success
        ? parsed.data.fields.map((f) => `${f.name}: ${f.messages.join(", ")}`).join("; ")
        : message;
      return `Hetzner refused the server's settings (${fields}): check server type, location and image`;
    }
    case "resource_unavailable":
    case "placement_error":
      return `Hetzner has no such server free in this location now (${message}); SAM tries again later`;
    case "invalid_server_type":
      return `The server type cannot be used (${message}): choose another`;
    default:
      return `Hetzner answered ${code}: ${message}`;
  }
}

/** A client of one Hetzner Cloud project, authenticated by its API token. */
export class HetznerApi {
  constructor(
    private readonly token: string,
    private readonly baseUrl: string = hetznerApiUrl(),
  ) {}

  private async call<S extends z.ZodType>(
    method: "GET" | "POST" | "DELETE",
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.infer<S>> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      throw new HetznerApiError("network", `The Hetzner API could not be reached: ${(err as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? {} : JSON.parse(text);
    } catch {
      throw new HetznerApiError(
        "bad_response",
        `The Hetzner API answered HTTP ${res.status} with something not JSON`,
        res.status,
      );
    }
    if (!res.ok) {
      const error = errorBodySchema.safeParse(json);
      const code = error.success ? error.data.error.code : `http_${res.status}`;
      const message = error.success ? error.data.error.message : `HTTP ${res.status}`;
      throw new HetznerApiError(
        code,
        explain(code, message, error.success ? error.data.error.details : undefined),
        res.status,
      );
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new HetznerApiError("bad_response", `The Hetzner API's answer to ${method} ${path} is not as documented`);
    }
    return parsed.data;
  }

  /** Creates and starts a server; its cloud-init runs `userData` on first boot. */
  async createServer(input: {
    name: string;
    serverType: string;
    image: string;
    location: string;
    userData: string;
    labels: Record<string, string>;
  }): Promise<HetznerServer> {
    const answer = await this.call("POST", "/servers", z.object({ server: serverSchema }), {
      name: input.name,
      server_type: input.serverType,
      image: input.image,
      location: input.location,
      user_data: input.userData,
      labels: input.labels,
      start_after_create: true,
    });
    return answer.server;
  }

  /** The server, or undefined when it does not exist (any more). */
  async getServer(id: number): Promise<HetznerServer | undefined> {
    try {
      return (await this.call("GET", `/servers/${id}`, z.object({ server: serverSchema }))).server;
    } catch (err) {
      if (err instanceof HetznerApiError && err.apiCode === "not_found") return undefined;
      throw err;
    }
  }

  /** Every server having the labels (a label selector such as `sam-settings=abc`), all pages. */
  async listServers(labelSelector: string): Promise<HetznerServer[]> {
    const pageSchema = z.object({
      servers: z.array(serverSchema),
      meta: z.object({ pagination: z.object({ next_page: z.number().int().nullable() }) }).optional(),
    });
    const servers: HetznerServer[] = [];
    for (let page: number | null = 1; page !== null; ) {
      const query = new URLSearchParams({ label_selector: labelSelector, page: String(page), per_page: "50" });
      const answer: z.infer<typeof pageSchema> = await this.call("GET", `/servers?${query}`, pageSchema);
      servers.push(...answer.servers);
      page = answer.meta?.pagination.next_page ?? null;
    }
    return servers;
  }

  /** Deletes a server; one already gone counts as deleted. */
  async deleteServer(id: number): Promise<void> {
    try {
      await this.call("DELETE", `/servers/${id}`, z.object({ action: z.object({ id: z.number().int() }) }));
    } catch (err) {
      if (err instanceof HetznerApiError && err.apiCode === "not_found") return;
      throw err;
    }
  }

  /** The server type's gross hourly price in the location, in EUR (Hetzner bills in euros). */
  async hourlyPrice(serverType: string, location: string): Promise<{ perHour: number; currency: string } | undefined> {
    const query = new URLSearchParams({ name: serverType });
    const answer = await this.call("GET", `/server_types?${query}`, serverTypesSchema);
    const price = answer.server_types.find((t) => t.name === serverType)?.prices.find((p) => p.location === location)
      ?.price_hourly.gross;
    const perHour = price === undefined ? Number.NaN : Number(price);
    return Number.isFinite(perHour) ? { perHour, currency: "EUR" } : undefined;
  }
}

/** Server ids are positive integers; a stored provider_ref is one as text. */
export function serverIdOf(providerRef: string | null): number | undefined {
  return providerRef && /^[1-9]\d{0,15}$/.test(providerRef) ? Number(providerRef) : undefined;
}
