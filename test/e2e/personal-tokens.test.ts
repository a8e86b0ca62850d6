import { eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokens } from "@/db/schema";
import { mintPersonalToken } from "@/lib/auth/personal-tokens";
import { ensureInstanceOwner } from "@/lib/users";
import { openAppDb } from "../helpers/api";
import { type AppServer, startAppServer } from "../helpers/app-server";
import { type BrowserSession, launchBrowser, signInWithLink } from "../helpers/browser";
import { runSam } from "../helpers/cli";
import { AccountPage } from "../pages/account-page";

interface ListedToken {
  id: string;
  name: string;
  status: string;
  expiresAt: string;
}

describe("personal tokens expire, are listed and can be revoked", () => {
  let app: AppServer;
  let browser: Browser;
  let owner: BrowserSession;
  let env: Record<string, string>;

  const getProjects = (token: string) =>
    fetch(`${app.baseUrl}/api/projects`, { headers: { authorization: `Bearer ${token}` } });
  const listTokens = async () => {
    const run = await runSam(["token", "list", "--json"], env);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as ListedToken[];
  };

  async function expectRefusedWithChallenge(res: Response) {
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    expect((await res.json()).error.code).toBe("unauthenticated");
  }

  beforeAll(async () => {
    [app, browser] = await Promise.all([startAppServer({ env: { SAM_SCHEDULER: "off" } }), launchBrowser()]);
    env = { SAM_DATA_DIR: app.dataDir };
    owner = await signInWithLink(browser, app.signInLink, app.baseUrl);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("a token made on the account page works, expires in 90 days by default, and stops working once revoked there", async () => {
    const account = new AccountPage(owner.page, app.baseUrl);
    await account.open();
    const token = await account.createToken("deploy script");
    expect(token).toMatch(/^samp_/);
    expect((await getProjects(token)).status).toBe(200);

    const [listed] = (await listTokens()).filter((t) => t.name === "deploy script");
    expect(listed?.status).toBe("active");
    const days = (Date.parse(listed!.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);

    await account.revoke("deploy script");
    expect(await account.tokens()).toEqual([{ name: "deploy script", status: "revoked" }]);
    await expectRefusedWithChallenge(await getProjects(token));
    expect((await listTokens()).find((t) => t.name === "deploy script")?.status).toBe("revoked");
  });

  it("an expired token gets 401 with WWW-Authenticate: Bearer, and sam token list shows it expired", async () => {
    const db = openAppDb(app);
    let minted: { id: string; token: string };
    try {
      minted = await mintPersonalToken(db, (await ensureInstanceOwner(db)).id, { name: "short-lived", days: 1 });
      expect((await getProjects(minted.token)).status).toBe(200);
      await db
        .update(tokens)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(tokens.id, minted.id));
    } finally {
      db.$client.close();
    }
    await expectRefusedWithChallenge(await getProjects(minted.token));
    expect((await listTokens()).find((t) => t.id === minted.id)?.status).toBe("expired");
  });

  it("sam token revoke takes a unique id prefix of at least 8 characters, and the token gets 401 at once", async () => {
    const minted = await runSam(["token", "personal", "--name", "cli-made", "--days", "7", "--json"], env);
    expect(minted.code, minted.stderr).toBe(0);
    const { id, token } = JSON.parse(minted.stdout) as { id: string; token: string };
    expect((await getProjects(token)).status).toBe(200);

    const short = await runSam(["token", "revoke", id.slice(0, 7)], env);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain("a unique prefix of at least 8 characters");

    const revoked = await runSam(["token", "revoke", id.slice(0, 8)], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Revoked personal token cli-made (${id})`);
    await expectRefusedWithChallenge(await getProjects(token));

    const table = await runSam(["token", "list"], env);
    expect(table.stdout).toMatch(new RegExp(`${id}\\s+cli-made\\s+revoked`));
  });

  it("MCP refuses a bearer token it does not know with 401 and WWW-Authenticate: Bearer too", async () => {
    const res = await fetch(`${app.baseUrl}/api/mcp`, {
      method: "POST",
      headers: {
        authorization: "Bearer samt_not-a-task-token-not-a-task-token",
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    await expectRefusedWithChallenge(res);
  });
});
