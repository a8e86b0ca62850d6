import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";

/** What the app may never do in a browser: log an error, throw, or ask for an asset it does not have. */
export interface PageProblem {
  page: string;
  problem: string;
}

// The resources a page loads to show itself; a 4xx/5xx for one of them is a missing asset. Documents
// and API calls are left out: tests ask for pages that must 404 and for requests that must be refused.
const ASSETS = new Set(["script", "stylesheet", "image", "font", "manifest", "media"]);

// The pages open in this test file's browsers, to show what they held when a test fails.
const openPages = new Set<Page>();

/** Watches a page for console errors, uncaught exceptions and missing assets. */
function watch(page: Page, problems: PageProblem[]): void {
  openPages.add(page);
  page.on("close", () => openPages.delete(page));
  page.on("console", (message) => {
    // A refused API call is logged by Chromium as a failed load; the response check below judges
    // resources, and the tests judge API answers themselves.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push({ page: page.url(), problem: `console error: ${message.text()}` });
    }
  });
  page.on("pageerror", (error) => problems.push({ page: page.url(), problem: `uncaught: ${error.message}` }));
  page.on("response", (response) => {
    const request = response.request();
    if (response.status() >= 400 && ASSETS.has(request.resourceType())) {
      problems.push({
        page: page.url(),
        problem: `${response.status()} for ${request.resourceType()} ${request.url()}`,
      });
    }
  });
}

/**
 * Debian's Chromium, headless, with the flags this machine's closed network needs. Every page it
 * opens is watched: closing the browser fails if any page logged an error, threw, or missed an asset.
 */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
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
  const problems: PageProblem[] = [];
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.on("page", (page) => watch(page, problems));
    return context;
  };
  const newPage = browser.newPage.bind(browser);
  browser.newPage = async (options) => {
    const page = await newPage(options);
    watch(page, problems);
    return page;
  };
  const close = browser.close.bind(browser);
  browser.close = async (options) => {
    const pages = browser.contexts().flatMap((context) => context.pages());
    closedPages = [closedPages, await describe(pages)].filter(Boolean).join("\n");
    await close(options);
    if (problems.length > 0) {
      throw new Error(
        `Pages logged errors or missed assets:\n${problems.map((p) => `  ${p.page}: ${p.problem}`).join("\n")}`,
      );
    }
  };
  return browser;
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

// What the pages of browsers closed during the current test showed (tests close theirs in `finally`,
// before a failure is reported).
let closedPages = "";

async function describe(pages: Page[], maxChars = 2000): Promise<string> {
  const parts = await Promise.all(
    pages.map(async (page) => {
      const text = await page
        .locator("body")
        // biome-ignore lint/performance/useDomNodeTextContent: what the page showed, not its hidden text
        .innerText({ timeout: 2_000 })
        .catch((error: Error) => `(unreadable: ${error.message.split("\n")[0]})`);
      const shown = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
      return `--- ${page.url()}\n${shown}`;
    }),
  );
  return parts.join("\n");
}

/** Each page's address and visible text (shortened) during the current test, for its failure log. */
export async function describeTestPages(): Promise<string> {
  const open = await describe([...openPages]);
  const shown = [closedPages, open].filter(Boolean).join("\n");
  closedPages = "";
  return shown;
}
