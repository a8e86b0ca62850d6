import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { launchBrowser } from "../helpers/browser";
import { mintLoginLink } from "../helpers/login-link";

describe("sign-in through a one-time link", () => {
  let app: AppServer;
  let browser: Browser;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startAppServer(), launchBrowser()]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("answers the health check with 200 and JSON", async () => {
    const res = await fetch(`${app.baseUrl}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", database: "ok" });
  });

  it("keeps signed-out visitors out of pages and APIs", async () => {
    const page = await fetch(`${app.baseUrl}/projects`, { redirect: "manual" });
    expect(page.status).toBe(307);
    expect(page.headers.get("location")).toContain("/signin");
    const api = await fetch(`${app.baseUrl}/api/projects`);
    expect(api.status).toBe(401);
    expect((await api.json()).error.code).toBe("unauthenticated");
  });

  it("signs in once with the printed link, and refuses the same link a second time", async () => {
    const first = await browser.newContext();
    const page = await first.newPage();
    await page.goto(app.signInLink);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${app.baseUrl}/projects`);
    await expect(page.getByRole("heading", { name: "Projects" }).isVisible()).resolves.toBe(true);
    expect(await page.getByTestId("current-user").textContent()).toBe("Owner");
    await first.close();

    const second = await browser.newContext();
    const again = await second.newPage();
    await again.goto(app.signInLink);
    await again.getByRole("alert").filter({ hasText: "already used" }).waitFor();
    expect(await again.getByRole("button", { name: "Sign in" }).count()).toBe(0);
    const projects = await again.goto(`${app.baseUrl}/projects`);
    expect(projects?.url()).toContain("/signin");
    await second.close();
  });

  it("refuses a link that was opened in two tabs and used in one of them", async () => {
    const link = await mintLoginLink(app);
    const context = await browser.newContext();
    const [a, b] = await Promise.all([context.newPage(), context.newPage()]);
    await Promise.all([a.goto(link), b.goto(link)]);
    await a.getByRole("button", { name: "Sign in" }).click();
    await a.waitForURL(`${app.baseUrl}/projects`);
    const other = await browser.newContext();
    const c = await other.newPage();
    await c.goto(link);
    expect(await c.getByRole("button", { name: "Sign in" }).count()).toBe(0);
    await context.close();
    await other.close();
  });
});
