import { describe, expect, it } from "vitest";
import { githubRepository } from "@/lib/pulls/github/remote";

const remote = (repo: string, githubUrl: string | null = null) =>
  githubRepository({ repo, repoKind: "remote", githubUrl });

describe("a project's GitHub repository", () => {
  it("is recognised on github.com in git's https, ssh and scp-like forms, with or without .git", () => {
    const expected = { owner: "octo", name: "demo", fullName: "octo/demo", apiUrl: "https://api.github.com" };
    for (const repo of [
      "https://github.com/octo/demo",
      "https://github.com/octo/demo.git",
      "https://github.com/octo/demo/",
      "https://x-access-token@github.com/octo/demo.git",
      "ssh://git@github.com/octo/demo.git",
      "ssh://git@github.com:22/octo/demo.git",
      "git@github.com:octo/demo.git",
      "git@GitHub.com:octo/demo",
    ]) {
      expect(remote(repo), repo).toEqual(expected);
    }
  });

  it("is recognised on the project's GitHub Enterprise Server, whose API is under /api/v3", () => {
    const ghe = "https://ghe.example.com";
    const expected = { owner: "team", name: "app", fullName: "team/app", apiUrl: "https://ghe.example.com/api/v3" };
    expect(remote("https://ghe.example.com/team/app.git", ghe)).toEqual(expected);
    expect(remote("git@ghe.example.com:team/app.git", ghe)).toEqual(expected);
    expect(remote("ssh://git@ghe.example.com:2222/team/app.git", ghe)).toEqual(expected);
    expect(remote("http://127.0.0.1:8123/team/app.git", "http://127.0.0.1:8123")).toEqual({
      ...expected,
      apiUrl: "http://127.0.0.1:8123/api/v3",
    });
    // github.com stays github.com when an Enterprise URL is set for another host.
    expect(remote("https://github.com/octo/demo", ghe)?.apiUrl).toBe("https://api.github.com");
  });

  it("is none for other hosts, another port of the Enterprise host, deeper paths and local repositories", () => {
    expect(remote("https://gitlab.com/octo/demo.git")).toBeUndefined();
    expect(remote("https://ghe.example.com/team/app.git")).toBeUndefined();
    expect(remote("http://127.0.0.1:9000/team/app.git", "http://127.0.0.1:8123")).toBeUndefined();
    expect(remote("https://github.com/octo/demo/tree/main")).toBeUndefined();
    expect(remote("https://github.com/octo")).toBeUndefined();
    expect(
      githubRepository({ repo: "/srv/git/github.com/octo/demo", repoKind: "local", githubUrl: null }),
    ).toBeUndefined();
  });
});
