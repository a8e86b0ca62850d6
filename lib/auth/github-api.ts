import { z } from "zod";
import { SamError } from "../errors";

/** GitHub's REST API root: api.github.com, or `<base>/api/v3` on a GitHub Enterprise Server. */
export function githubApiUrl(enterpriseUrl: string | undefined): string {
  return enterpriseUrl ? `${enterpriseUrl}/api/v3` : "https://api.github.com";
}

// Only the fields SAM reads; GitHub sends many more.
const emailsSchema = z.array(z.object({ email: z.string(), verified: z.boolean() }));
const orgsSchema = z.array(z.object({ login: z.string() }));

const PAGE_SIZE = 100;
// Enough for anyone's organizations or addresses; a runaway paging loop is not.
const MAX_PAGES = 10;

/** One list endpoint of the signed-in user's, every page, as GitHub documents it. */
async function listAll<T>(apiUrl: string, path: string, accessToken: string, schema: z.ZodType<T[]>): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const url = `${apiUrl}${path}?per_page=${PAGE_SIZE}&page=${page}`;
    let res: Response;
    try {
      res = await fetch(url, {
        headers: {
          accept: "application/vnd.github+json",
          authorization: `Bearer ${accessToken}`,
          "user-agent": "SAM",
          "x-github-api-version": "2022-11-28",
        },
        signal: AbortSignal.timeout(15_000),
      });
    } catch {
      throw new SamError("unavailable", `GitHub did not answer ${apiUrl}${path}`);
    }
    if (!res.ok) throw new SamError("unavailable", `GitHub answered ${res.status} to ${apiUrl}${path}`);
    const parsed = schema.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success)
      throw new SamError("unavailable", `GitHub's answer to ${apiUrl}${path} is not what it documents`);
    items.push(...parsed.data);
    if (parsed.data.length < PAGE_SIZE) break;
  }
  return items;
}

/** The signed-in user's verified email addresses, lowercased (needs the `user:email` scope). */
export async function verifiedEmails(apiUrl: string, accessToken: string): Promise<string[]> {
  const emails = await listAll(apiUrl, "/user/emails", accessToken, emailsSchema);
  return emails.filter((e) => e.verified).map((e) => e.email.toLowerCase());
}

/** The logins of the organizations the signed-in user belongs to, lowercased (needs `read:org`). */
export async function organizationLogins(apiUrl: string, accessToken: string): Promise<string[]> {
  const orgs = await listAll(apiUrl, "/user/orgs", accessToken, orgsSchema);
  return orgs.map((o) => o.login.toLowerCase());
}
