import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** Debian's Chromium, headless, with the flags this machine's closed network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
}

/** A fresh browser context signed in through a one-time link, on the projects page. */
export async function signInWithLink(browser: Browser, link: string, baseUrl: string): Promise<BrowserSession> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${baseUrl}/projects`);
  return { context, page };
}
