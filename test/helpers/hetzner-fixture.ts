import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

/**
 * A stand-in of the Hetzner Cloud API endpoints SAM uses, checking each request against the
 * published description (docs.hetzner.cloud, "Servers" and "Server Types"; the shapes as the
 * official hcloud-go client's `schema` package has them): method and path, the bearer token,
 * required fields and their types, unknown fields refused, and the documented limits. It answers
 * in the documented shapes and keeps its servers in memory. A request that breaks the description
 * gets the API's own `invalid_input` (or `json_error`) answer and is recorded as a violation.
 */

export interface FixtureServer {
  id: number;
  name: string;
  serverType: string;
  image: string;
  location: string;
  userData: string | undefined;
  labels: Record<string, string>;
  created: string;
}

export interface HetznerRequest {
  method: string;
  path: string;
  body?: unknown;
}

export interface InjectedError {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

export interface HetznerFixture {
  /** The API base, as SAM_HETZNER_API_URL (ends in /v1). */
  url: string;
  token: string;
  servers: Map<number, FixtureServer>;
  requests: HetznerRequest[];
  /** Every way a request differed from the description; a test expects none. */
  violations: string[];
  /** The next matching requests ("POST /servers") get this error instead of an answer. */
  failNext: (route: string, error: InjectedError, times?: number) => void;
  stop: () => Promise<void>;
}

// The server types and locations the stand-in offers, with prices as GET /server_types lists them.
const SERVER_TYPES = [
  { id: 104, name: "cx22", cores: 2, memory: 4, disk: 40, gross: "0.0060000000000000", net: "0.0050420168" },
  { id: 105, name: "cx32", cores: 4, memory: 8, disk: 80, gross: "0.0104000000000000", net: "0.0087394958" },
];
const LOCATIONS = ["fsn1", "nbg1", "hel1"];
const IMAGES = ["debian-12", "debian-13", "ubuntu-24.04"];

// Labels: key [prefix/]name, name and value 63 characters at most, alphanumeric at both ends.
const LABEL_PART = /^([a-z0-9A-Z]([-_.a-z0-9A-Z]*[a-z0-9A-Z])?)?$/;
const labelsSchema = z.record(z.string(), z.string()).refine(
  (labels) =>
    Object.entries(labels).every(([key, value]) => {
      const name = key.includes("/") ? key.slice(key.lastIndexOf("/") + 1) : key;
      return name !== "" && name.length <= 63 && LABEL_PART.test(name) && value.length <= 63 && LABEL_PART.test(value);
    }),
  "labels must be key/value pairs of at most 63 alphanumeric characters, '-', '_' or '.'",
);

const idOrName = z.union([z.string().min(1), z.number().int().positive()]);

// POST /servers: "Create a Server". name, server_type and image are required.
const createServerSchema = z
  .object({
    name: z
      .string()
      .max(63)
      .regex(
        /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/,
        "a valid hostname (RFC 1123)",
      ),
    server_type: idOrName,
    image: idOrName,
    location: z.string().optional(),
    datacenter: z.string().optional(),
    start_after_create: z.boolean().optional(),
    ssh_keys: z.array(idOrName).optional(),
    volumes: z.array(z.number().int()).optional(),
    networks: z.array(z.number().int()).optional(),
    firewalls: z.array(z.object({ firewall: z.number().int() }).strict()).optional(),
    user_data: z
      .string()
      .refine((s) => Buffer.byteLength(s) <= 32 * 1024, "user_data is limited to 32 KiB")
      .optional(),
    labels: labelsSchema.optional(),
    automount: z.boolean().optional(),
    placement_group: z.number().int().optional(),
    public_net: z
      .object({
        enable_ipv4: z.boolean().optional(),
        enable_ipv6: z.boolean().optional(),
        ipv4: z.number().int().nullable().optional(),
        ipv6: z.number().int().nullable().optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((b) => !(b.location && b.datacenter), "location and datacenter cannot be used together");

const listServersQuerySchema = z
  .object({
    name: z.string().optional(),
    label_selector: z.string().optional(),
    sort: z.string().optional(),
    status: z.string().optional(),
    page: z.coerce.number().int().min(1).optional(),
    per_page: z.coerce.number().int().min(1).max(50).optional(),
  })
  .strict();

const listServerTypesQuerySchema = z
  .object({
    name: z.string().optional(),
    page: z.coerce.number().int().min(1).optional(),
    per_page: z.coerce.number().int().min(1).max(50).optional(),
  })
  .strict();

/** `k=v`, `k!=v`, `k`, `!k`, comma-separated, all of which must hold (the API's label selector). */
function matchesSelector(labels: Record<string, string>, selector: string): boolean {
  return selector
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .every((term) => {
      const neq = /^([^!=]+)!=(.*)$/.exec(term);
      if (neq) return labels[neq[1]!] !== neq[2];
      const eq = /^([^!=]+)==?(.*)$/.exec(term);
      if (eq) return labels[eq[1]!] === eq[2];
      if (term.startsWith("!")) return !(term.slice(1) in labels);
      return term in labels;
    });
}

function action(command: string, serverId: number) {
  const now = new Date().toISOString();
  return {
    id: Math.floor(Math.random() * 1e9),
    command,
    status: "running",
    progress: 0,
    started: now,
    finished: null,
    resources: [{ id: serverId, type: "server" }],
    error: null,
  };
}

function serverJson(s: FixtureServer) {
  const type = SERVER_TYPES.find((t) => t.name === s.serverType)!;
  return {
    id: s.id,
    name: s.name,
    status: "initializing",
    created: s.created,
    public_net: {
      ipv4: { id: s.id + 1000, ip: `203.0.113.${s.id % 250}`, blocked: false, dns_ptr: "static.example" },
      ipv6: null,
      floating_ips: [],
      firewalls: [],
    },
    private_net: [],
    server_type: {
      id: type.id,
      name: type.name,
      description: type.name.toUpperCase(),
      cores: type.cores,
      memory: type.memory,
      disk: type.disk,
      storage_type: "local",
      cpu_type: "shared",
      architecture: "x86",
    },
    datacenter: { id: 1, name: `${s.location}-dc14`, location: { id: 1, name: s.location } },
    image: { id: 114690387, type: "system", name: s.image, os_flavor: "debian" },
    iso: null,
    rescue_enabled: false,
    locked: false,
    backup_window: null,
    outgoing_traffic: null,
    ingoing_traffic: null,
    included_traffic: 21990232555520,
    protection: { delete: false, rebuild: false },
    labels: s.labels,
    volumes: [],
    load_balancers: [],
    primary_disk_size: type.disk,
    placement_group: null,
  };
}

function pagination(page: number, perPage: number, total: number) {
  const last = Math.max(1, Math.ceil(total / perPage));
  return {
    page,
    per_page: perPage,
    previous_page: page > 1 ? page - 1 : null,
    next_page: page < last ? page + 1 : null,
    last_page: last,
    total_entries: total,
  };
}

export async function startHetznerFixture(opts: { token?: string; host?: string } = {}): Promise<HetznerFixture> {
  const token = opts.token ?? "hcloud-test-token-0123456789abcdef0123456789abcdef0123456789abcd";
  const servers = new Map<number, FixtureServer>();
  const requests: HetznerRequest[] = [];
  const violations: string[] = [];
  const injected: { route: string; error: InjectedError; times: number }[] = [];
  let nextId = 4711;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fixture");
      const method = req.method ?? "GET";
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const fail = (status: number, code: string, message: string, details?: unknown) =>
        send(status, { error: { code, message, details: details ?? null } });
      const invalid = (issues: z.ZodError) => {
        const fields = issues.issues.map((i) => ({
          name: i.code === "unrecognized_keys" ? i.keys.join(",") : i.path.join(".") || "(body)",
          messages: [i.message],
        }));
        violations.push(`${method} ${url.pathname}: ${fields.map((f) => `${f.name}: ${f.messages[0]}`).join("; ")}`);
        fail(400, "invalid_input", "invalid input in fields", { fields });
      };

      const path = url.pathname.replace(/^\/v1/, "");
      let body: unknown;
      const text = Buffer.concat(chunks).toString("utf8");
      requests.push({ method, path: `${path}${url.search}` });
      if (!url.pathname.startsWith("/v1/")) {
        violations.push(`${method} ${url.pathname}: not under /v1`);
        return fail(404, "not_found", "not found");
      }
      if (req.headers.authorization !== `Bearer ${token}`) {
        if (!/^Bearer \S+$/.test(req.headers.authorization ?? ""))
          violations.push(`${method} ${path}: no bearer token`);
        return fail(401, "unauthorized", "unable to authenticate");
      }
      if (text !== "") {
        if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) {
          violations.push(`${method} ${path}: a body that is not application/json`);
          return fail(400, "json_error", "content-type must be application/json");
        }
        try {
          body = JSON.parse(text);
        } catch {
          violations.push(`${method} ${path}: a body that is not JSON`);
          return fail(400, "json_error", "invalid JSON");
        }
        requests[requests.length - 1]!.body = body;
      }
      const routeKey = `${method} ${path.replace(/\/\d+$/, "/{id}")}`;
      const fault = injected.find((f) => f.route === routeKey || f.route === `${method} ${path}`);
      if (fault) {
        fault.times--;
        if (fault.times <= 0) injected.splice(injected.indexOf(fault), 1);
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (fault.error.status === 429) {
          Object.assign(headers, {
            "ratelimit-limit": "3600",
            "ratelimit-remaining": "0",
            "ratelimit-reset": String(Math.floor(Date.now() / 1000) + 1),
          });
        }
        res.writeHead(fault.error.status, headers);
        res.end(
          JSON.stringify({
            error: { code: fault.error.code, message: fault.error.message, details: fault.error.details ?? null },
          }),
        );
        return;
      }

      const query = Object.fromEntries(url.searchParams);
      if (method === "POST" && path === "/servers") {
        const parsed = createServerSchema.safeParse(body);
        if (!parsed.success) return invalid(parsed.error);
        const b = parsed.data;
        const type = SERVER_TYPES.find((t) => t.name === b.server_type || t.id === b.server_type);
        if (!type)
          return fail(400, "invalid_input", "server type not found", {
            fields: [{ name: "server_type", messages: ["server type not found"] }],
          });
        if (b.location && !LOCATIONS.includes(b.location)) {
          return fail(400, "invalid_input", "location not found", {
            fields: [{ name: "location", messages: ["location not found"] }],
          });
        }
        if (typeof b.image !== "string" || !IMAGES.includes(b.image)) {
          return fail(400, "invalid_input", "image not found", {
            fields: [{ name: "image", messages: ["image not found"] }],
          });
        }
        if ([...servers.values()].some((s) => s.name === b.name)) {
          return fail(409, "uniqueness_error", "server name is already used", { fields: [{ name: "name" }] });
        }
        const created: FixtureServer = {
          id: nextId++,
          name: b.name,
          serverType: type.name,
          image: b.image,
          location: b.location ?? LOCATIONS[0]!,
          userData: b.user_data,
          labels: b.labels ?? {},
          created: new Date().toISOString(),
        };
        servers.set(created.id, created);
        return send(201, {
          server: serverJson(created),
          action: action("create_server", created.id),
          next_actions: [action("start_server", created.id)],
          root_password: null,
        });
      }
      if (method === "GET" && path === "/servers") {
        const parsed = listServersQuerySchema.safeParse(query);
        if (!parsed.success) return invalid(parsed.error);
        const { label_selector, name, page = 1, per_page = 25 } = parsed.data;
        const all = [...servers.values()]
          .filter((s) => (label_selector ? matchesSelector(s.labels, label_selector) : true))
          .filter((s) => (name ? s.name === name : true));
        return send(200, {
          servers: all.slice((page - 1) * per_page, page * per_page).map(serverJson),
          meta: { pagination: pagination(page, per_page, all.length) },
        });
      }
      const one = /^\/servers\/(\d+)$/.exec(path);
      if (one && (method === "GET" || method === "DELETE")) {
        if (text !== "") violations.push(`${method} ${path}: a body where none is taken`);
        const found = servers.get(Number(one[1]));
        if (!found) return fail(404, "not_found", "server not found");
        if (method === "GET") return send(200, { server: serverJson(found) });
        servers.delete(found.id);
        return send(200, { action: action("delete_server", found.id) });
      }
      if (method === "GET" && path === "/server_types") {
        const parsed = listServerTypesQuerySchema.safeParse(query);
        if (!parsed.success) return invalid(parsed.error);
        const types = SERVER_TYPES.filter((t) => (parsed.data.name ? t.name === parsed.data.name : true));
        return send(200, {
          server_types: types.map((t) => ({
            id: t.id,
            name: t.name,
            description: t.name.toUpperCase(),
            category: "shared",
            cores: t.cores,
            memory: t.memory,
            disk: t.disk,
            deprecated: false,
            deprecation: null,
            prices: LOCATIONS.map((location) => ({
              location,
              price_hourly: { net: t.net, gross: t.gross },
              price_monthly: { net: "3.7900000000", gross: "4.5101000000000000" },
              included_traffic: 21990232555520,
              price_per_tb_traffic: { net: "1.0000000000", gross: "1.1900000000000000" },
            })),
            storage_type: "local",
            cpu_type: "shared",
            architecture: "x86",
            included_traffic: 0,
            locations: LOCATIONS.map((name, i) => ({ id: i + 1, name, deprecation: null })),
          })),
          meta: { pagination: pagination(1, 25, types.length) },
        });
      }
      violations.push(`${method} ${path}: not an endpoint the stand-in knows`);
      fail(404, "not_found", "not found");
    });
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/v1`,
    token,
    servers,
    requests,
    violations,
    failNext: (route, error, times = 1) => injected.push({ route, error, times }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
