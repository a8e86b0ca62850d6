import { describe, expect, it } from "vitest";
import { isLocalRepo, repoLocationProblem } from "../src/contract.ts";
import { redactCredentials } from "../src/redact.ts";

describe("repository locations", () => {
  it.each([
    "/srv/git/project",
    "file:///srv/git/project.git",
    "https://github.com/acme/app.git",
    "http://git.local/app.git",
    "ssh://git@github.com/acme/app.git",
    "git@github.com:acme/app.git",
  ])("accepts %s", (repo) => {
    expect(repoLocationProblem(repo)).toBeUndefined();
  });

  it.each([
    ["ftp://x/y", /unsupported scheme ftp:\/\//],
    ["ext::sh -c 'touch /tmp/pwned'", /not a supported repository location/],
    ["relative/path", /not a supported repository location/],
    ["--upload-pack=touch /tmp/pwned", /not a supported repository location/],
    [" /srv/git/project", /whitespace/],
    ["git://example.com/app.git", /unsupported scheme git:\/\//],
    ["https://github.com", /needs a host and a repository path/],
    ["https://exa mple.com/a.git", /malformed URL/],
  ])("refuses %s", (repo, reason) => {
    expect(repoLocationProblem(repo)?.message).toMatch(reason);
  });

  it.each([
    ["/srv/git/project", true],
    ["file:///srv/git/project.git", true],
    ["https://github.com/acme/app.git", false],
    ["git@github.com:acme/app.git", false],
  ])("%s is on this machine: %s", (repo, local) => {
    expect(isLocalRepo(repo)).toBe(local);
  });

  it("removes credentials from URLs in any text", () => {
    expect(redactCredentials("fatal: unable to access 'https://bot:ghp_secret@github.com/a/b.git/'")).toBe(
      "fatal: unable to access 'https://***@github.com/a/b.git/'",
    );
    expect(redactCredentials("ssh://git@host/x and /local/path")).toBe("ssh://***@host/x and /local/path");
  });
});
