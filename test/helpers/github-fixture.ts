import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { JSONSchema } from "zod/v4/core";
import description from "../fixtures/github/api-description.json" with { type: "json" };

/** Someone signed in at the stand-in GitHub, as its OAuth and REST endpoints describe them. */
export interface GitHubPerson {
  id: number;
  login: string;
  name: string;
  /** The public profile email, or null as most people leave it. */
  publicEmail: string | null;
  emails: { email: string; verified: boolean; primary: boolean }[];
  orgs: string[];
}

export interface GitHubFixture {
  /** The base URL SAM is given as AUTH_GITHUB_URL (a GitHub Enterprise Server's). */
  url: string;
  clientId: string;
  clientSecret: string;
  /** Who the next authorization is for: the person "signed in at GitHub" in the browser. */
  signInAs: (person: GitHubPerson) => void;
  /** Every request SAM (or the browser) made, as "METHOD /path". */
  requests: string[];
  /** Every way a request differed from what GitHub documents; a test expects none. */
  violations: string[];
  stop: () => Promise<void>;
}

// GitHub's "Authorizing OAuth apps" documents these parameters of the web flow. response_type is
// OAuth 2.0's own (RFC 6749 §4.1.1), which GitHub accepts and Auth.js sends.
const authorizeQuerySchema = z
  .object({
    client_id: z.string().min(1),
    redirect_uri: z.url().optional(),
    login: z.string().optional(),
    scope: z.string().optional(),
    state: z.string().optional(),
    allow_signup: z.enum(["true", "false"]).optional(),
    prompt: z.literal("select_account").optional(),
    code_challenge: z.string().min(43).max(128).optional(),
    code_challenge_method: z.literal("S256").optional(),
    response_type: z.literal("code").optional(),
  })
  .strict();

// The token exchange, same document; grant_type is RFC 6749 §4.1.3's, accepted by GitHub.
const accessTokenBodySchema = z
  .object({
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
    code: z.string().min(1),
    redirect_uri: z.url().optional(),
    repository_id: z.string().optional(),
    code_verifier: z.string().min(43).max(128).optional(),
    grant_type: z.literal("authorization_code").optional(),
  })
  .strict();

interface ApiParameter {
  name: string;
  in: string;
  required?: boolean;
  schema: { type: string };
}
interface ApiOperation {
  parameters: ApiParameter[];
  responses: { 200: { content: { "application/json": { schema: unknown } } } };
}
// The sign-in's operations; the description's pull request operations are github-pulls-fixture.ts's.
const operations = Object.fromEntries(
  Object.entries(description.paths).filter(([route]) => route.startsWith("/user")),
) as unknown as Record<string, { get: ApiOperation }>;
const responseSchemas = new Map(
  Object.entries(operations).map(([route, item]) => [
    route,
    z.fromJSONSchema(item.get.responses[200].content["application/json"].schema as JSONSchema.JSONSchema, {
      defaultTarget: "openapi-3.0",
    }),
  ]),
);
// The description's servers: `{protocol}://{hostname}/api/v3`.
const API_PREFIX = "/api/v3";

/** The Private User of GitHub's description, as /user answers its owner. */
function privateUser(base: string, p: GitHubPerson) {
  const api = `${base}${API_PREFIX}/users/${p.login}`;
  const now = new Date().toISOString();
  return {
    login: p.login,
    id: p.id,
    node_id: `U_${p.id}`,
    avatar_url: `${base}/avatars/u/${p.id}`,
    gravatar_id: "",
    url: api,
    html_url: `${base}/${p.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: "User",
    site_admin: false,
    name: p.name,
    company: null,
    blog: "",
    location: null,
    email: p.publicEmail,
    hireable: null,
    bio: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: now,
    updated_at: now,
    private_gists: 0,
    total_private_repos: 0,
    owned_private_repos: 0,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
  };
}

function organization(base: string, login: string, id: number) {
  const api = `${base}${API_PREFIX}/orgs/${login}`;
  return {
    login,
    id,
    node_id: `O_${id}`,
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `${base}/avatars/o/${id}`,
    description: null,
  };
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const base64url = (b: Buffer) => b.toString("base64url");

/**
 * A stand-in for GitHub (Enterprise Server) on 127.0.0.1: the OAuth web flow (authorize, then
 * access_token) and the REST endpoints SAM's sign-in reads. Each request is checked against what
 * GitHub documents: the OAuth parameters of "Authorizing OAuth apps", and for the REST API the
 * excerpt of GitHub's published OpenAPI description in test/fixtures/github, whose response schemas
 * the answers are checked against too. Scopes are enforced as GitHub does.
 */
export async function startGitHubFixture(): Promise<GitHubFixture> {
  const clientId = `Iv1.${randomBytes(8).toString("hex")}`;
  const clientSecret = randomBytes(20).toString("hex");
  const requests: string[] = [];
  const violations: string[] = [];
  let current: GitHubPerson | undefined;
  const codes = new Map<
    string,
    { person: GitHubPerson; redirectUri?: string; challenge?: string; scopes: string[]; used: boolean }
  >();
  const tokens = new Map<string, { person: GitHubPerson; scopes: string[] }>();

  const server = http.createServer((req, res) => {
    void serve(req, res).catch((err: unknown) => {
      violations.push(`fixture failure: ${err instanceof Error ? err.message : String(err)}`);
      res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function json(res: http.ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
  }

  function refuse(res: http.ServerResponse, status: number, what: string) {
    violations.push(what);
    json(res, status, { message: what, documentation_url: "https://docs.github.com/rest" });
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse) {
    const target = new URL(req.url ?? "/", url);
    requests.push(`${req.method} ${target.pathname}`);
    if (target.pathname === "/login/oauth/authorize" && req.method === "GET") return authorize(target, res);
    if (target.pathname === "/login/oauth/access_token" && req.method === "POST") return accessToken(req, res);
    if (target.pathname.startsWith(`${API_PREFIX}/`)) return api(req, target, res);
    refuse(res, 404, `${req.method} ${target.pathname} is not an endpoint SAM should call`);
  }

  function authorize(target: URL, res: http.ServerResponse) {
    const query = authorizeQuerySchema.safeParse(Object.fromEntries(target.searchParams));
    if (!query.success) return refuse(res, 400, `authorize: ${z.prettifyError(query.error)}`);
    const q = query.data;
    if (q.client_id !== clientId) return refuse(res, 400, "authorize: unknown client_id");
    if (!q.redirect_uri?.endsWith("/api/auth/callback/github")) {
      return refuse(res, 400, `authorize: redirect_uri ${q.redirect_uri} is not the app's callback`);
    }
    if (q.code_challenge && q.code_challenge_method !== "S256") {
      return refuse(res, 400, "authorize: code_challenge without code_challenge_method=S256");
    }
    if (!current) return refuse(res, 400, "authorize: no one is signed in at the stand-in GitHub");
    const code = randomBytes(10).toString("hex");
    codes.set(code, {
      person: current,
      redirectUri: q.redirect_uri,
      challenge: q.code_challenge,
      scopes: (q.scope ?? "").split(/[ ,]+/).filter(Boolean),
      used: false,
    });
    const back = new URL(q.redirect_uri);
    back.searchParams.set("code", code);
    if (q.state) back.searchParams.set("state", q.state);
    res.writeHead(302, { location: back.toString() }).end();
  }

  async function accessToken(req: http.IncomingMessage, res: http.ServerResponse) {
    if (!req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) {
      return refuse(res, 400, `access_token: content type ${req.headers["content-type"]} is not a form`);
    }
    if (!req.headers.accept?.includes("application/json")) {
      return refuse(res, 400, "access_token: without Accept: application/json GitHub answers form-encoded");
    }
    const parsed = accessTokenBodySchema.safeParse(Object.fromEntries(new URLSearchParams(await readBody(req))));
    if (!parsed.success) return refuse(res, 400, `access_token: ${z.prettifyError(parsed.error)}`);
    const body = parsed.data;
    if (body.client_id !== clientId || body.client_secret !== clientSecret) {
      return refuse(res, 401, "access_token: wrong client credentials");
    }
    const grant = codes.get(body.code);
    if (!grant || grant.used) return json(res, 200, { error: "bad_verification_code" });
    grant.used = true;
    if (grant.redirectUri && body.redirect_uri !== grant.redirectUri) {
      return refuse(
        res,
        400,
        `access_token: redirect_uri ${body.redirect_uri} differs from the authorization's ${grant.redirectUri}`,
      );
    }
    if (grant.challenge) {
      const expected = body.code_verifier && base64url(createHash("sha256").update(body.code_verifier).digest());
      if (expected !== grant.challenge) return refuse(res, 400, "access_token: code_verifier does not match");
    }
    const token = `gho_${randomBytes(18).toString("hex")}`;
    tokens.set(token, { person: grant.person, scopes: grant.scopes });
    json(res, 200, { access_token: token, token_type: "bearer", scope: grant.scopes.join(",") });
  }

  function api(req: http.IncomingMessage, target: URL, res: http.ServerResponse) {
    const route = target.pathname.slice(API_PREFIX.length);
    const operation = operations[route]?.get;
    if (!operation || req.method !== "GET") {
      return refuse(res, 404, `${req.method} ${route} is not in GitHub's API description excerpt`);
    }
    for (const [name, value] of target.searchParams) {
      const param = operation.parameters.find((p) => p.in === "query" && p.name === name);
      if (!param) return refuse(res, 400, `${route}: query parameter ${name} is not documented`);
      if (param.schema.type === "integer" && !/^\d+$/.test(value)) {
        return refuse(res, 400, `${route}: ${name}=${value} is not an integer`);
      }
    }
    const auth = /^(?:Bearer|token) (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    const grant = auth ? tokens.get(auth) : undefined;
    if (!grant) return refuse(res, 401, `${route}: Requires authentication`);
    const perPage = Number(target.searchParams.get("per_page") ?? "30");
    const page = Number(target.searchParams.get("page") ?? "1");
    const paged = <T>(items: T[]) => items.slice((page - 1) * perPage, page * perPage);
    let body: unknown;
    if (route === "/user") {
      body = privateUser(url, grant.person);
    } else if (route === "/user/emails") {
      if (!grant.scopes.includes("user:email") && !grant.scopes.includes("user")) {
        return refuse(res, 403, "/user/emails needs the user:email scope");
      }
      body = paged(grant.person.emails.map((e) => ({ ...e, visibility: e.primary ? "private" : null })));
    } else {
      if (!grant.scopes.includes("read:org") && !grant.scopes.includes("user")) {
        return refuse(res, 403, "/user/orgs needs the read:org scope");
      }
      body = paged(grant.person.orgs.map((login, i) => organization(url, login, 1000 + i)));
    }
    const conforms = responseSchemas.get(route)?.safeParse(body);
    if (!conforms?.success) violations.push(`the stand-in's own ${route} answer breaks GitHub's description`);
    json(res, 200, body);
  }

  return {
    url,
    clientId,
    clientSecret,
    signInAs: (person) => {
      current = person;
    },
    requests,
    violations,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
