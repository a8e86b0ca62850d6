import path from "node:path";
import { eq, or } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { accounts, projectMembers, users } from "@/db/schema";
import { type ApiClient, openAppDb, ownerApi } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { makeGitRepo } from "../helpers/git";
import { type GitHubFixture, type GitHubPerson, startGitHubFixture } from "../helpers/github-fixture";
import { makeTempDir } from "../helpers/temp-dir";
import { MembersSettings } from "../pages/members-settings";
import { SignInPage } from "../pages/sign-in-page";

let nextId = 5000;
function person(login: string, opts: Partial<GitHubPerson> = {}): GitHubPerson {
  return {
    id: nextId++,
    login,
    name: login.replace(/-/g, " "),
    publicEmail: null,
    emails: [{ email: `${login}@users.example.com`, verified: true, primary: true }],
    orgs: [],
    ...opts,
  };
}

describe("GitHub sign-in admits the allowed and the invited, and no one else", () => {
  let github: GitHubFixture;
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let api: ApiClient;
  const repos = makeTempDir("sam-github-repos-");
  let projectId: string;

  /** Signs in with GitHub as `who` in a fresh browser; resolves with the page where it ended. */
  async function signInWithGitHub(who: GitHubPerson): Promise<BrowserSession> {
    github.signInAs(who);
    const context = await browser.newContext();
    const page = await context.newPage();
    await new SignInPage(page, app.baseUrl).signInWithGitHub();
    await page.waitForURL((url) => !url.pathname.startsWith("/api/auth") && url.pathname !== "/signin");
    return { context, page };
  }

  async function storedUsers(login: string, email: string) {
    const db = openAppDb(app);
    try {
      return await db
        .select({ id: users.id })
        .from(users)
        .where(or(eq(users.githubLogin, login), eq(users.email, email)));
    } finally {
      db.$client.close();
    }
  }

  async function membershipOf(userLogin: string) {
    const db = openAppDb(app);
    try {
      return await db
        .select({ projectId: projectMembers.projectId, role: projectMembers.role })
        .from(projectMembers)
        .innerJoin(users, eq(users.id, projectMembers.userId))
        .where(eq(users.githubLogin, userLogin));
    } finally {
      db.$client.close();
    }
  }

  beforeAll(async () => {
    github = await startGitHubFixture();
    [app, browser] = await Promise.all([
      startAppServer({
        env: {
          SAM_SCHEDULER: "off",
          AUTH_GITHUB_ID: github.clientId,
          AUTH_GITHUB_SECRET: github.clientSecret,
          AUTH_GITHUB_URL: github.url,
          AUTH_GITHUB_ALLOWED_USERS: "Allowed-Alice",
          AUTH_GITHUB_ALLOWED_ORGS: "acme",
        },
      }),
      launchBrowser(),
    ]);
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
    api = await ownerApi(app);
    const created = await api.post<{ id: string }>("/api/projects", {
      repo: makeGitRepo(path.join(repos.dir, "invited-to")),
      name: "invited-to",
    });
    projectId = created.body.id;
  });
  afterEach(() => {
    // Every request SAM made had the shape GitHub documents.
    expect(github.violations).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
    await github?.stop();
    repos.cleanup();
  });

  it("refuses someone neither allowed nor invited with a clear page, and stores nothing of them", async () => {
    const stranger = person("stranger-sam", { orgs: ["other-org"] });
    const { context, page } = await signInWithGitHub(stranger);
    try {
      const refusal = await new SignInPage(page, app.baseUrl).refusal();
      expect(refusal).toContain("GitHub says you are @stranger-sam");
      expect(refusal).toContain("Ask a project owner to invite @stranger-sam");
      expect(await storedUsers("stranger-sam", "stranger-sam@users.example.com")).toEqual([]);
      const db = openAppDb(app);
      try {
        expect(
          await db
            .select()
            .from(accounts)
            .where(eq(accounts.providerAccountId, String(stranger.id))),
        ).toEqual([]);
      } finally {
        db.$client.close();
      }
      const projects = await page.goto(`${app.baseUrl}/projects`);
      expect(projects?.url()).toContain("/signin");
      // The refusal asked for the organizations it was allowed to read, and read them.
      expect(github.requests).toContain("GET /api/v3/user/orgs");
    } finally {
      await context.close();
    }
  });

  it("lets in a login on AUTH_GITHUB_ALLOWED_USERS (case-insensitively)", async () => {
    const { context, page } = await signInWithGitHub(person("allowed-alice"));
    try {
      expect(new URL(page.url()).pathname).toBe("/projects");
      expect(await page.getByTestId("current-user").textContent()).toBe("allowed alice");
    } finally {
      await context.close();
    }
  });

  it("lets in a member of an organization on AUTH_GITHUB_ALLOWED_ORGS", async () => {
    const { context, page } = await signInWithGitHub(person("acme-dev", { orgs: ["somewhere", "ACME"] }));
    try {
      expect(new URL(page.url()).pathname).toBe("/projects");
    } finally {
      await context.close();
    }
  });

  it("someone invited by GitHub login in the members settings lands in the project at their first sign-in", async () => {
    const settings = new MembersSettings(owner.page, app.baseUrl);
    await settings.open(projectId);
    expect(await settings.invite("@Invited-Bob", "owner")).toBe(
      "Invited @invited-bob as owner: they join at their first sign-in.",
    );
    expect(await settings.invitations()).toEqual([expect.stringContaining("@invited-bob")]);

    const bob = person("invited-bob");
    const first = await signInWithGitHub(bob);
    try {
      expect(new URL(first.page.url()).pathname).toBe(`/projects/${projectId}`);
      await first.page.getByRole("heading", { name: "invited-to" }).waitFor();
    } finally {
      await first.context.close();
    }
    expect(await membershipOf("invited-bob")).toEqual([{ projectId, role: "owner" }]);
    await settings.open(projectId);
    expect(await settings.invitations()).toEqual([]);

    // The invitation is used up; Bob still gets in as a member of the project.
    const again = await signInWithGitHub(bob);
    try {
      expect(new URL(again.page.url()).pathname).toBe("/projects");
      expect(await again.page.getByTestId("project-list").textContent()).toContain("invited-to");
    } finally {
      await again.context.close();
    }
  });

  it("someone invited by email through the API lands in the project; an unverified address admits no one", async () => {
    const invited = await api.post<{ kind: string }>(`/api/projects/${projectId}/invitations`, {
      invitee: "Carol@Example.com",
    });
    expect(invited.status).toBe(201);
    expect(invited.body.kind).toBe("invitation");

    // Dave claims the invited address, but GitHub has not verified it for him.
    const dave = person("dave-claims", { emails: [{ email: "carol@example.com", verified: false, primary: true }] });
    const refused = await signInWithGitHub(dave);
    try {
      expect(await new SignInPage(refused.page, app.baseUrl).refusal()).toContain("@dave-claims");
    } finally {
      await refused.context.close();
    }

    const carol = person("carol-gh", {
      emails: [
        { email: "carol@users.example.com", verified: true, primary: true },
        { email: "carol@example.com", verified: true, primary: false },
      ],
    });
    const { context, page } = await signInWithGitHub(carol);
    try {
      expect(new URL(page.url()).pathname).toBe(`/projects/${projectId}`);
    } finally {
      await context.close();
    }
    expect(await membershipOf("carol-gh")).toEqual([{ projectId, role: "member" }]);
  });
});
