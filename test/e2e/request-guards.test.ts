import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiClient, ownerApi } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { mintLoginLink } from "../helpers/login-link";
import { makeTempDir } from "../helpers/temp-dir";

const MiB = 1024 * 1024;

/** A page on another port of the same host: cross-origin but same-site, so SameSite=Lax cookies ride along. */
async function startOtherSite(html: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The hidden fields React renders into the new-project form, so that it works before scripts run. */
async function newProjectFormFields(session: BrowserSession, baseUrl: string): Promise<[string, string][]> {
  const html = await (await session.context.request.get(`${baseUrl}/projects`)).text();
  const form = /<form[^>]*>(?:(?!<\/form>)[\s\S])*New project[\s\S]*?<\/form>/.exec(html)?.[0] ?? "";
  const fields = [...form.matchAll(/<input type="hidden" name="([^"]+)"(?: value="([^"]*)")?\/>/g)].map(
    ([, name, value]) => [name!, (value ?? "").replaceAll("&quot;", '"')] as [string, string],
  );
  expect(fields.map(([name]) => name)).toContain("$ACTION_KEY");
  return fields;
}

function formHtml(action: string, fields: [string, string][]): string {
  const inputs = fields.map(([n, v]) => `<input type="hidden" name="${n}" value='${v}'>`).join("");
  return `<form method="POST" enctype="multipart/form-data" action="${action}">${inputs}</form>`;
}

describe("who may change state: same-origin requests, JSON bodies, capped sizes, security headers", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let api: ApiClient;
  const repos = makeTempDir("sam-guard-repos-");
  let projectId: string;
  let taskId: string;

  const cookieHeader = async () =>
    (await owner.context.cookies(app.baseUrl)).map((c) => `${c.name}=${c.value}`).join("; ");
  const projectCount = async () => (await api.get<unknown[]>("/api/projects")).body.length;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startAppServer({ env: { SAM_SCHEDULER: "off" } }), launchBrowser()]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    const created = await api.post<{ id: string }>("/api/projects", {
      repo: makeGitRepo(path.join(repos.dir, "guarded")),
    });
    projectId = created.body.id;
    const task = await api.post<{ id: string }>("/api/tasks", { projectId, prompt: "Look around" });
    taskId = task.body.id;
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    repos.cleanup();
  });

  it("a cross-origin POST with a valid cookie changes nothing: a route handler answers 403 naming the origin", async () => {
    const cookie = await cookieHeader();
    const send = (origin: string, site: string) =>
      fetch(`${app.baseUrl}/api/projects/${projectId}`, {
        method: "PATCH",
        headers: { cookie, origin, "sec-fetch-site": site, "content-type": "application/json" },
        body: JSON.stringify({ maxDepth: 9 }),
      });

    const refused = await send("http://127.0.0.1:1", "same-site");
    expect(refused.status).toBe(403);
    const body = await refused.json();
    expect(body.error.code).toBe("forbidden");
    expect(body.error.message).toContain("Cross-origin request refused: it comes from http://127.0.0.1:1");
    expect((await api.get<{ maxDepth: number }>(`/api/projects/${projectId}`)).body.maxDepth).toBe(3);

    // The same request from SAM's own origin goes through: the cookie was valid all along.
    const allowed = await send(new URL(app.baseUrl).origin, "same-origin");
    expect(allowed.status).toBe(200);
    expect((await api.get<{ maxDepth: number }>(`/api/projects/${projectId}`)).body.maxDepth).toBe(9);
  });

  it("a cross-origin POST with a valid cookie changes nothing: a server action answers 403", async () => {
    const fields = await newProjectFormFields(owner, app.baseUrl);
    const before = await projectCount();
    const attack = formHtml(`${app.baseUrl}/projects`, [...fields, ["repo", makeGitRepo(path.join(repos.dir, "a"))]]);
    const other = await startOtherSite(`${attack}<script>document.forms[0].submit()</script>`);
    const page = await owner.context.newPage();
    try {
      const response = page.waitForResponse(
        (r) => r.url() === `${app.baseUrl}/projects` && r.request().method() === "POST",
      );
      await page.goto(other.url);
      const answer = await response;
      expect(answer.status()).toBe(403);
      expect((await answer.json()).error.message).toMatch(/^Cross-origin request refused/);
      expect(await projectCount()).toBe(before);
    } finally {
      await page.close();
      await other.stop();
    }

    // The same form posted from SAM's own page creates the project: only its origin was wrong.
    const own = await owner.context.newPage();
    try {
      await own.goto(`${app.baseUrl}/projects`);
      const repo = makeGitRepo(path.join(repos.dir, "b"));
      await own.evaluate(
        ([html]) => {
          const holder = document.createElement("div");
          holder.innerHTML = html!;
          document.body.append(holder);
          holder.querySelector("form")!.submit();
        },
        [formHtml("/projects", [...fields, ["repo", repo]])],
      );
      await own.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
      expect(await projectCount()).toBe(before + 1);
    } finally {
      await own.close();
    }
  });

  it("a JSON route answers a body that is not declared as JSON with 415 naming what was sent", async () => {
    const before = await projectCount();
    const res = await fetch(`${app.baseUrl}/api/projects`, {
      method: "POST",
      headers: { cookie: await cookieHeader(), "content-type": "text/plain" },
      body: JSON.stringify({ repo: makeGitRepo(path.join(repos.dir, "plain")) }),
    });
    expect(res.status).toBe(415);
    const { error } = await res.json();
    expect(error.code).toBe("unsupported_media_type");
    expect(error.message).toBe(
      'The request body must be JSON sent as Content-Type: application/json (got "text/plain")',
    );
    expect(await projectCount()).toBe(before);
  });

  it("a body over the 1 MiB cap gets 413 naming the limit, whether its length is declared or streamed", async () => {
    const cookie = await cookieHeader();
    const oversized = JSON.stringify({ projectId, prompt: "x".repeat(MiB) });
    const declared = await fetch(`${app.baseUrl}/api/tasks`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: oversized,
    });
    expect(declared.status).toBe(413);
    expect((await declared.json()).error).toMatchObject({
      code: "payload_too_large",
      message: "The request body is larger than the 1 MiB limit",
    });

    const chunks = [oversized.slice(0, MiB / 2), oversized.slice(MiB / 2)];
    const streamed = await fetch(`${app.baseUrl}/api/tasks`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      }),
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).error.code).toBe("payload_too_large");

    const tasks = await api.get<unknown[]>(`/api/projects/${projectId}/tasks`);
    expect(JSON.stringify(tasks.body)).not.toContain("xxxxxxxx");
  });

  it("GET and DELETE on /api/mcp answer 405 with Allow: POST (SAM's MCP is stateless)", async () => {
    for (const method of ["GET", "DELETE"]) {
      const res = await fetch(`${app.baseUrl}/api/mcp`, { method, headers: { accept: "text/event-stream" } });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow"), method).toBe("POST");
      expect((await res.json()).error.code).toBe("method_not_allowed");
    }
  });

  it("every page and API answer carries the security headers, with a fresh nonce on Next's scripts", async () => {
    const cookie = await cookieHeader();
    const nonces = new Set<string>();
    for (const route of ["/signin", "/projects", `/projects/${projectId}/settings`, "/account", "/api/health"]) {
      const res = await fetch(`${app.baseUrl}${route}`, { headers: { cookie } });
      expect(res.status, route).toBe(200);
      expect(res.headers.get("x-frame-options"), route).toBe("DENY");
      expect(res.headers.get("x-content-type-options"), route).toBe("nosniff");
      expect(res.headers.get("referrer-policy"), route).toBe("same-origin");
      const policy = res.headers.get("content-security-policy") ?? "";
      expect(policy, route).toContain("frame-ancestors 'none'");
      expect(policy, route).toContain("object-src 'none'");
      const nonce = /'nonce-([^']+)'/.exec(policy)?.[1];
      expect(nonce, route).toBeDefined();
      nonces.add(nonce!);
      if (!route.startsWith("/api/")) {
        const html = await res.text();
        const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag);
        expect(scripts.length, route).toBeGreaterThan(0);
        for (const tag of scripts) expect(tag, route).toContain(`nonce="${nonce}"`);
      }
    }
    expect(nonces.size).toBe(5);
  });

  it("no page logs a content security policy violation in Chromium while it loads and runs", async () => {
    const violations: string[] = [];
    const watch = (page: Page) => {
      page.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(`${page.url()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => violations.push(`${page.url()}: ${e.message}`));
    };
    // Also counted in the page itself: a violation fires this event even when nothing is logged.
    const countViolations = async (context: BrowserSession["context"]) =>
      context.addInitScript(() => {
        document.addEventListener("securitypolicyviolation", (e) => {
          (window as unknown as { cspViolations: string[] }).cspViolations ??= [];
          (window as unknown as { cspViolations: string[] }).cspViolations.push(
            `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`,
          );
        });
      });
    const visit = async (page: Page, route: string, ready: (p: Page) => Promise<unknown>) => {
      await page.goto(`${app.baseUrl}${route}`);
      await ready(page);
      // Next's client runtime announces itself once its scripts have run.
      await page.waitForFunction(() => (window as unknown as { next?: { version?: string } }).next?.version);
      const seen = await page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? []);
      violations.push(...seen.map((v) => `${route}: ${v}`));
    };

    const visitor = await browser.newContext();
    await countViolations(visitor);
    const signedOut = await visitor.newPage();
    watch(signedOut);
    await visit(signedOut, "/signin", (p) => p.getByRole("heading", { name: "Sign in to SAM" }).waitFor());
    const link = new URL(await mintLoginLink(app, "csp@example.com")).pathname;
    await visit(signedOut, link, (p) => p.getByRole("button", { name: "Sign in" }).waitFor());
    await visitor.close();

    await countViolations(owner.context);
    const page = await owner.context.newPage();
    watch(page);
    try {
      await visit(page, "/projects", (p) => p.getByRole("heading", { name: "Projects" }).waitFor());
      await visit(page, `/projects/${projectId}`, (p) => p.getByRole("textbox").first().waitFor());
      await visit(page, `/projects/${projectId}/ideas`, (p) => p.getByRole("heading").first().waitFor());
      await visit(page, `/projects/${projectId}/settings`, (p) => p.getByRole("form", { name: "Invite" }).waitFor());
      await visit(page, `/projects/${projectId}/tasks/${taskId}`, (p) => p.getByText("Look around").first().waitFor());
      await visit(page, "/account", (p) => p.getByRole("form", { name: "New token" }).waitFor());
    } finally {
      await page.close();
    }
    expect(violations).toEqual([]);
  });
});
