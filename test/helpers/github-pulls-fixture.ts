import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import type { JSONSchema } from "zod/v4/core";
import description from "../fixtures/github/api-description.json" with { type: "json" };
import { gitHttpHandler } from "./git-http-server";
import { makeTempDir } from "./temp-dir";

type MergeMethod = "merge" | "squash" | "rebase";

/** A pull request as the stand-in GitHub keeps it. */
export interface StandInPull {
  number: number;
  title: string;
  body: string | null;
  head: string;
  base: string;
  state: "open" | "closed";
  merged: boolean;
  mergedAt: string | null;
  closedAt: string | null;
  mergeCommitSha: string | null;
  mergeMethod: MergeMethod | null;
  updatedAt: string;
  reviewComments: { id: number; login: string; body: string; path: string; line: number; createdAt: string }[];
  issueComments: { id: number; login: string; body: string; createdAt: string }[];
}

export interface GitHubPullsFixture {
  /** The stand-in's web URL: a project's GitHub Enterprise URL. Its API is at `${url}/api/v3`. */
  url: string;
  /** Creates a repository served over git's smart HTTP at the returned clone URL, with one commit. */
  createRepository: (fullName: string, files: Record<string, string>) => Promise<string>;
  /** A personal access token for the repositories named: `write` may open and merge, `read` only read. */
  grantToken: (repos: string[], access: "read" | "write") => string;
  pull: (fullName: string, number: number) => StandInPull | undefined;
  pulls: (fullName: string) => StandInPull[];
  /** Someone merges the pull request on GitHub's own page. */
  mergeOnGitHub: (fullName: string, number: number, method?: MergeMethod) => Promise<string>;
  /** Someone comments on GitHub: on a line of the diff, or on the whole pull request. */
  commentOnGitHub: (
    fullName: string,
    number: number,
    comment: { login: string; body: string; path?: string; line?: number },
  ) => void;
  /** The commit a branch of a served repository points at, or undefined. */
  branchCommit: (fullName: string, branch: string) => Promise<string | undefined>;
  /** A file of a branch of a served repository, or undefined. */
  readFile: (fullName: string, branch: string, file: string) => Promise<string | undefined>;
  /** Every API request, as "METHOD /path". */
  requests: string[];
  /** Every way a request differed from what GitHub documents; a test expects none. */
  violations: string[];
  stop: () => Promise<void>;
}

interface Parameter {
  name: string;
  in: "path" | "query";
  required?: boolean;
  schema: { type: string; enum?: string[] };
}
interface Operation {
  operationId: string;
  parameters: Parameter[];
  requestBody?: { required?: boolean; content: { "application/json": { schema: unknown } } };
  responses: Record<string, { content?: { "application/json": { schema: unknown } } }>;
}

const API_PREFIX = "/api/v3";
const toZod = (schema: unknown) =>
  z.fromJSONSchema(schema as JSONSchema.JSONSchema, { defaultTarget: "openapi-3.0" }) as z.ZodType;

/** The description's pull request operations, each with a matcher for its path and its schemas. */
const OPERATIONS = Object.entries(description.paths as unknown as Record<string, Record<string, Operation>>)
  .filter(([route]) => route.startsWith("/repos/"))
  .flatMap(([route, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const names: string[] = [];
      // `{ref}` is documented as multi-segment (heads/feature-a); the others are one segment.
      const pattern = route.replace(/\{(\w+)\}/g, (_, name: string) => {
        names.push(name);
        return name === "ref" ? "(.+)" : "([^/]+)";
      });
      return {
        route,
        method: method.toUpperCase(),
        op,
        names,
        regex: new RegExp(`^${pattern}$`),
        body: op.requestBody ? toZod(op.requestBody.content["application/json"].schema) : undefined,
        bodyProperties: Object.keys(
          (op.requestBody?.content["application/json"].schema as { properties?: object } | undefined)?.properties ?? {},
        ),
        responses: new Map(
          Object.entries(op.responses).flatMap(([status, r]) =>
            r.content ? [[Number(status), toZod(r.content["application/json"].schema)] as const] : [],
          ),
        ),
      };
    }),
  );

const runGit = promisify(execFile);
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "GitHub Stand-in",
  GIT_AUTHOR_EMAIL: "noreply@github.invalid",
  GIT_COMMITTER_NAME: "GitHub Stand-in",
  GIT_COMMITTER_EMAIL: "noreply@github.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
};
async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await runGit("git", args, { cwd, env: GIT_ENV, encoding: "utf8" })).stdout.trim();
}
async function gitOk(cwd: string, ...args: string[]): Promise<boolean> {
  return git(cwd, ...args).then(
    () => true,
    () => false,
  );
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

class Answer {
  constructor(
    readonly status: number,
    readonly body?: unknown,
  ) {}
}
const docs = "https://docs.github.com/enterprise-server@3.19/rest";
const error = (status: number, message: string, extra: Record<string, unknown> = {}) =>
  new Answer(status, { message, documentation_url: docs, ...extra });

/**
 * A stand-in for GitHub (Enterprise Server) on 127.0.0.1 for pull requests: the REST endpoints SAM
 * calls and, on the same host, its repositories over git's smart HTTP (`git http-backend`), so the
 * daemon's pushes and SAM's fetches reach the very repositories whose pull requests are merged here.
 * Every API request (path, method, query, body, Authorization) is checked against the excerpt of
 * GitHub's published OpenAPI description in test/fixtures/github, and so is every answer; what
 * differs is recorded in `violations`. Merges really happen in the served repository.
 */
export async function startGitHubPullsFixture(): Promise<GitHubPullsFixture> {
  const root = makeTempDir("sam-github-");
  const handleGit = gitHttpHandler(root.dir);
  const requests: string[] = [];
  const violations: string[] = [];
  const tokens = new Map<string, { repos: Set<string>; access: "read" | "write" }>();
  const repos = new Map<string, { pulls: StandInPull[]; nextNumber: number }>();
  let nextCommentId = 9000;

  const server = http.createServer((req, res) => {
    if (handleGit(req, res)) return;
    void api(req, res).catch((err: unknown) => {
      violations.push(`fixture failure: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const bare = (fullName: string) => path.join(root.dir, `${fullName}.git`);

  function pullJson(fullName: string, p: StandInPull, headSha: string | undefined) {
    return {
      number: p.number,
      html_url: `${url}/${fullName}/pull/${p.number}`,
      state: p.state,
      title: p.title,
      body: p.body,
      merged: p.merged,
      merged_at: p.mergedAt,
      closed_at: p.closedAt,
      merge_commit_sha: p.mergeCommitSha,
      updated_at: p.updatedAt,
      head: { ref: p.head, sha: headSha ?? "0".repeat(40) },
      base: { ref: p.base },
    };
  }

  /** Merges head into base by `method` in a scratch clone and pushes the base; undefined on a conflict. */
  async function merge(fullName: string, p: StandInPull, method: MergeMethod): Promise<string | undefined> {
    const scratch = makeTempDir("sam-github-merge-");
    try {
      const dir = scratch.dir;
      await git(dir, "clone", "--quiet", "--branch", p.base, bare(fullName), ".");
      await git(dir, "fetch", "--quiet", "origin", `refs/heads/${p.head}:refs/remotes/origin/${p.head}`);
      const head = `origin/${p.head}`;
      let ok: boolean;
      if (method === "merge") {
        ok = await gitOk(
          dir,
          "merge",
          "--no-ff",
          "--quiet",
          "-m",
          `Merge pull request #${p.number} from ${p.head}`,
          head,
        );
      } else if (method === "squash") {
        ok =
          (await gitOk(dir, "merge", "--squash", "--quiet", head)) &&
          (await gitOk(dir, "commit", "--quiet", "-m", `${p.title} (#${p.number})`));
      } else {
        ok =
          (await gitOk(dir, "checkout", "--quiet", "-B", "rebased", head)) &&
          (await gitOk(dir, "rebase", "--quiet", `origin/${p.base}`)) &&
          (await gitOk(dir, "checkout", "--quiet", p.base)) &&
          (await gitOk(dir, "merge", "--ff-only", "--quiet", "rebased"));
      }
      if (!ok) return undefined;
      await git(dir, "push", "--quiet", "origin", `HEAD:refs/heads/${p.base}`);
      return await git(dir, "rev-parse", "HEAD");
    } finally {
      scratch.cleanup();
    }
  }

  async function branchCommit(fullName: string, branch: string): Promise<string | undefined> {
    return git(bare(fullName), "rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`).catch(
      () => undefined,
    );
  }

  function settleMerged(p: StandInPull, sha: string, method: MergeMethod) {
    const now = new Date().toISOString();
    Object.assign(p, {
      state: "closed",
      merged: true,
      mergedAt: now,
      closedAt: now,
      mergeCommitSha: sha,
      mergeMethod: method,
      updatedAt: now,
    });
  }

  function record(what: string) {
    violations.push(what);
  }

  async function api(req: http.IncomingMessage, res: http.ServerResponse) {
    const target = new URL(req.url ?? "/", url);
    requests.push(`${req.method} ${target.pathname}`);
    const answer = await answerApi(req, target);
    if (answer.body !== undefined) {
      res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8" });
      res.end(JSON.stringify(answer.body));
    } else {
      res.writeHead(answer.status).end();
    }
  }

  async function answerApi(req: http.IncomingMessage, target: URL): Promise<Answer> {
    if (!target.pathname.startsWith(`${API_PREFIX}/`)) {
      record(`${req.method} ${target.pathname} is neither GitHub's API nor a repository`);
      return error(404, "Not Found");
    }
    const route = target.pathname.slice(API_PREFIX.length);
    const matches = OPERATIONS.filter((o) => o.regex.test(route));
    const operation = matches.find((o) => o.method === req.method);
    if (!operation) {
      record(`${req.method} ${route} is not in GitHub's API description excerpt`);
      return error(matches.length > 0 ? 405 : 404, "Not Found");
    }
    const where = `${operation.method} ${operation.route}`;
    const values = operation.regex.exec(route)?.slice(1).map(decodeURIComponent) ?? [];
    const params = Object.fromEntries(operation.names.map((n, i) => [n, values[i] ?? ""]));
    for (const p of operation.op.parameters) {
      const value = p.in === "path" ? params[p.name] : target.searchParams.get(p.name);
      if (value == null) {
        if (p.required) record(`${where}: the ${p.in} parameter ${p.name} is required`);
        continue;
      }
      if (p.schema.type === "integer" && !/^\d+$/.test(value)) record(`${where}: ${p.name}=${value} is not an integer`);
      if (p.schema.enum && !p.schema.enum.includes(value)) record(`${where}: ${p.name}=${value} is not documented`);
    }
    for (const name of target.searchParams.keys()) {
      if (!operation.op.parameters.some((p) => p.in === "query" && p.name === name)) {
        record(`${where}: query parameter ${name} is not documented`);
      }
    }
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    if (operation.body) {
      if (raw === "") {
        if (operation.op.requestBody?.required) record(`${where}: a request body is required`);
      } else {
        if (!req.headers["content-type"]?.startsWith("application/json")) {
          record(`${where}: content type ${req.headers["content-type"]} is not application/json`);
        }
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          record(`${where}: the body is not JSON`);
          return error(400, "Problems parsing JSON");
        }
        const parsed = operation.body.safeParse(body);
        if (!parsed.success) record(`${where}: ${z.prettifyError(parsed.error)}`);
        for (const key of Object.keys(body ?? {})) {
          if (!operation.bodyProperties.includes(key)) record(`${where}: body property ${key} is not documented`);
        }
      }
    } else if (raw !== "") {
      record(`${where} takes no request body`);
    }
    const answer = await perform(operation.op.operationId, params, body ?? {}, req, target);
    const schema = operation.responses.get(answer.status);
    if (answer.body !== undefined && schema && !schema.safeParse(answer.body).success) {
      record(`the stand-in's own ${answer.status} answer to ${where} breaks GitHub's description`);
    }
    // Any endpoint may answer 401, 403, or 404 for what the token cannot see (GitHub's
    // "Authenticating to the REST API").
    if (!operation.op.responses[String(answer.status)] && ![401, 403, 404].includes(answer.status)) {
      record(`the stand-in answered ${where} with ${answer.status}, which GitHub does not document for it`);
    }
    return answer;
  }

  async function perform(
    operationId: string,
    params: Record<string, string>,
    body: Record<string, unknown>,
    req: http.IncomingMessage,
    target: URL,
  ): Promise<Answer> {
    const fullName = `${params.owner}/${params.repo}`;
    const accept = req.headers.accept ?? "";
    if (!/application\/(vnd\.github[.+\w-]*|json)/.test(accept)) record(`${operationId}: Accept ${accept} is not JSON`);
    const scheme = /^(?:Bearer|token) (\S+)$/.exec(req.headers.authorization ?? "");
    if (!scheme) record(`${operationId}: no Authorization header with a token`);
    const grant = scheme?.[1] ? tokens.get(scheme[1]) : undefined;
    if (!grant) return error(401, "Bad credentials");
    const repo = repos.get(fullName);
    // GitHub hides a repository a token cannot read.
    if (!repo || !grant.repos.has(fullName)) return error(404, "Not Found");
    if (req.method !== "GET" && grant.access !== "write") {
      return error(403, "Resource not accessible by personal access token", { status: "403" });
    }
    const number = Number(params.pull_number ?? params.issue_number);
    const p = repo.pulls.find((x) => x.number === number);
    const perPage = Number(target.searchParams.get("per_page") ?? "30");
    const page = Number(target.searchParams.get("page") ?? "1");
    const paged = <T>(items: T[]) => items.slice((page - 1) * perPage, page * perPage);

    switch (operationId) {
      case "pulls/create": {
        const head = String(body.head ?? "");
        const base = String(body.base ?? "");
        const [headSha, baseSha] = await Promise.all([branchCommit(fullName, head), branchCommit(fullName, base)]);
        const invalid = (field: string) =>
          error(422, "Validation Failed", { errors: [{ resource: "PullRequest", field, code: "invalid" }] });
        if (!headSha) return invalid("head");
        if (!baseSha) return invalid("base");
        if (repo.pulls.some((x) => x.state === "open" && x.head === head && x.base === base)) {
          return error(422, "Validation Failed", {
            errors: [
              { resource: "PullRequest", code: "custom", message: `A pull request already exists for ${head}.` },
            ],
          });
        }
        if (await gitOk(bare(fullName), "merge-base", "--is-ancestor", headSha, baseSha)) {
          return error(422, "Validation Failed", {
            errors: [{ resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${head}` }],
          });
        }
        const created: StandInPull = {
          number: repo.nextNumber++,
          title: String(body.title ?? ""),
          body: typeof body.body === "string" ? body.body : null,
          head,
          base,
          state: "open",
          merged: false,
          mergedAt: null,
          closedAt: null,
          mergeCommitSha: null,
          mergeMethod: null,
          updatedAt: new Date().toISOString(),
          reviewComments: [],
          issueComments: [],
        };
        repo.pulls.push(created);
        return new Answer(201, pullJson(fullName, created, headSha));
      }
      case "pulls/get":
        if (!p) return error(404, "Not Found");
        return new Answer(200, pullJson(fullName, p, await branchCommit(fullName, p.head)));
      case "pulls/update": {
        if (!p) return error(404, "Not Found");
        if (typeof body.title === "string") p.title = body.title;
        if (typeof body.body === "string") p.body = body.body;
        if (body.state === "closed" && p.state === "open") {
          p.state = "closed";
          p.closedAt = new Date().toISOString();
        }
        p.updatedAt = new Date().toISOString();
        return new Answer(200, pullJson(fullName, p, await branchCommit(fullName, p.head)));
      }
      case "pulls/merge": {
        if (!p) return error(404, "Not Found");
        if (p.state !== "open") return error(405, "Pull Request is not mergeable");
        const headSha = await branchCommit(fullName, p.head);
        if (typeof body.sha === "string" && body.sha !== headSha) {
          return error(409, "Head branch was modified. Review and try the merge again.");
        }
        const method = (body.merge_method as MergeMethod | undefined) ?? "merge";
        const sha = await merge(fullName, p, method);
        if (!sha) return error(405, "Pull Request is not mergeable");
        settleMerged(p, sha, method);
        return new Answer(200, { sha, merged: true, message: "Pull Request successfully merged" });
      }
      case "pulls/list-review-comments":
        if (!p) return error(404, "Not Found");
        return new Answer(
          200,
          paged(p.reviewComments).map((c) => ({
            id: c.id,
            body: c.body,
            user: { login: c.login },
            path: c.path,
            line: c.line,
            original_line: c.line,
            created_at: c.createdAt,
            html_url: `${url}/${fullName}/pull/${p.number}#discussion_r${c.id}`,
          })),
        );
      case "issues/list-comments":
        if (!p) return error(404, "Not Found");
        return new Answer(
          200,
          paged(p.issueComments).map((c) => ({
            id: c.id,
            body: c.body,
            user: { login: c.login },
            created_at: c.createdAt,
            html_url: `${url}/${fullName}/pull/${p.number}#issuecomment-${c.id}`,
          })),
        );
      case "git/delete-ref": {
        if (!params.ref?.startsWith("heads/")) return error(422, "Reference does not exist");
        const branch = params.ref.slice("heads/".length);
        if (!(await branchCommit(fullName, branch))) return error(422, "Reference does not exist");
        await git(bare(fullName), "update-ref", "-d", `refs/heads/${branch}`);
        return new Answer(204);
      }
      default:
        record(`${operationId} has no stand-in`);
        return error(404, "Not Found");
    }
  }

  return {
    url,
    async createRepository(fullName, files) {
      const dir = bare(fullName);
      fs.mkdirSync(path.dirname(dir), { recursive: true });
      await git(root.dir, "init", "--quiet", "--bare", "--initial-branch=main", dir);
      // Pushes are anonymous (see git-http-server.ts): the daemon sends no credentials.
      await git(dir, "config", "http.receivepack", "true");
      const work = makeTempDir("sam-github-init-");
      try {
        await git(work.dir, "init", "--quiet", "--initial-branch=main");
        for (const [name, content] of Object.entries(files)) {
          fs.mkdirSync(path.dirname(path.join(work.dir, name)), { recursive: true });
          fs.writeFileSync(path.join(work.dir, name), content);
        }
        await git(work.dir, "add", "-A");
        await git(work.dir, "commit", "--quiet", "-m", "Initial commit");
        await git(work.dir, "push", "--quiet", dir, "main");
      } finally {
        work.cleanup();
      }
      // GitHub numbers pull requests together with issues: SAM's own numbers are not GitHub's.
      repos.set(fullName, { pulls: [], nextNumber: 101 });
      return `${url}/${fullName}.git`;
    },
    grantToken(names, access) {
      const token = `github_pat_${randomBytes(20).toString("hex")}`;
      tokens.set(token, { repos: new Set(names), access });
      return token;
    },
    pull: (fullName, number) => repos.get(fullName)?.pulls.find((p) => p.number === number),
    pulls: (fullName) => repos.get(fullName)?.pulls ?? [],
    async mergeOnGitHub(fullName, number, method = "merge") {
      const p = repos.get(fullName)?.pulls.find((x) => x.number === number);
      if (p?.state !== "open") throw new Error(`${fullName}#${number} is not an open pull request`);
      const sha = await merge(fullName, p, method);
      if (!sha) throw new Error(`${fullName}#${number} does not merge cleanly`);
      settleMerged(p, sha, method);
      return sha;
    },
    commentOnGitHub(fullName, number, comment) {
      const p = repos.get(fullName)?.pulls.find((x) => x.number === number);
      if (!p) throw new Error(`${fullName}#${number} does not exist`);
      // GitHub's timestamps have whole seconds, so comments made together tie.
      const createdAt = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
      const id = nextCommentId++;
      if (comment.path && comment.line) {
        p.reviewComments.push({
          id,
          login: comment.login,
          body: comment.body,
          path: comment.path,
          line: comment.line,
          createdAt,
        });
      } else {
        p.issueComments.push({ id, login: comment.login, body: comment.body, createdAt });
      }
      p.updatedAt = createdAt;
    },
    branchCommit,
    async readFile(fullName, branch, file) {
      return git(bare(fullName), "show", `refs/heads/${branch}:${file}`).catch(() => undefined);
    },
    requests,
    violations,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          root.cleanup();
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
