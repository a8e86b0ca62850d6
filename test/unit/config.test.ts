import path from "node:path";
import { describe, expect, test } from "vitest";
import { loadConfig } from "@/lib/config";
import { SamError } from "@/lib/errors";

function configError(env: Record<string, string>): SamError {
  try {
    loadConfig(env);
  } catch (err) {
    if (SamError.is(err)) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe("loadConfig", () => {
  test("the defaults: 127.0.0.1:3000, data in ./data, the database a file in it, links valid 15 minutes", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 3000,
      dataDir: path.resolve("data"),
      databaseUrl: `file:${path.resolve("data", "sam.db")}`,
      publicUrl: "http://127.0.0.1:3000",
      loginLinkTtlMs: 15 * 60_000,
    });
    expect(config.github).toBeUndefined();
  });

  test("variables override the defaults; the public URL loses its trailing slash", () => {
    const config = loadConfig({
      HOST: "0.0.0.0",
      PORT: "8080",
      SAM_DATA_DIR: "/srv/sam",
      DATABASE_URL: "libsql://sam-db.example.turso.io",
      DATABASE_AUTH_TOKEN: "tok",
      SAM_PUBLIC_URL: "https://sam.example.com/",
      SAM_LOGIN_LINK_TTL_MINUTES: "5",
    });
    expect(config).toMatchObject({
      host: "0.0.0.0",
      port: 8080,
      dataDir: "/srv/sam",
      databaseUrl: "libsql://sam-db.example.turso.io",
      databaseAuthToken: "tok",
      publicUrl: "https://sam.example.com",
      loginLinkTtlMs: 5 * 60_000,
    });
  });

  test("a wildcard HOST still gives a sign-in URL that a local browser can open", () => {
    const env = { HOST: "0.0.0.0", PORT: "4000" };
    expect(loadConfig(env).publicUrl).toBe("http://127.0.0.1:4000");
  });

  test("empty variables count as unset", () => {
    const config = loadConfig({ HOST: "", PORT: "", SAM_DATA_DIR: "", DATABASE_URL: " " });
    expect(config).toMatchObject({ host: "127.0.0.1", port: 3000, dataDir: path.resolve("data") });
    expect(config.databaseUrl).toMatch(/^file:/);
  });

  test("GitHub sign-in is configured only when both its id and secret are set", () => {
    expect(loadConfig({ AUTH_GITHUB_ID: "id" }).github).toBeUndefined();
    expect(loadConfig({ AUTH_GITHUB_ID: "id", AUTH_GITHUB_SECRET: "s" }).github).toEqual({
      clientId: "id",
      clientSecret: "s",
      enterpriseUrl: undefined,
      allowedUsers: [],
      allowedOrgs: [],
    });
  });

  test("GitHub allow-lists are comma-separated logins, lowercased; the base URL loses its trailing slash", () => {
    const github = loadConfig({
      AUTH_GITHUB_ID: "id",
      AUTH_GITHUB_SECRET: "s",
      AUTH_GITHUB_ALLOWED_USERS: " Octocat, mona-lisa ,",
      AUTH_GITHUB_ALLOWED_ORGS: "GitHub",
      AUTH_GITHUB_URL: "https://github.example.com/",
    }).github;
    expect(github).toMatchObject({
      allowedUsers: ["octocat", "mona-lisa"],
      allowedOrgs: ["github"],
      enterpriseUrl: "https://github.example.com",
    });
  });

  test.each([
    ["AUTH_GITHUB_ALLOWED_USERS", "octocat, not a login"],
    ["AUTH_GITHUB_ALLOWED_ORGS", "-leading-hyphen"],
    ["AUTH_GITHUB_URL", "github.example.com"],
    ["SAM_MAX_BODY_BYTES", "12"],
  ])("%s=%s is refused with the variable named", (name, value) => {
    expect(configError({ [name]: value }).details?.fields?.map((f) => f.field)).toEqual([name]);
  });

  test("request bodies are capped at 1 MiB unless SAM_MAX_BODY_BYTES says otherwise", () => {
    expect(loadConfig({}).maxBodyBytes).toBe(1024 * 1024);
    expect(loadConfig({ SAM_MAX_BODY_BYTES: "4096" }).maxBodyBytes).toBe(4096);
  });

  test.each(["abc", "70000", "-1", "80.5"])("PORT=%s is refused with the variable named", (port) => {
    const err = configError({ PORT: port });
    expect(err.code).toBe("invalid_input");
    expect(err.message).toBe("Invalid environment: PORT must be a port number (0-65535)");
    expect(err.details?.fields).toEqual([{ field: "PORT", message: "must be a port number (0-65535)" }]);
  });

  test.each(["postgres://db/sam", "sam.db", "mysql:x"])("DATABASE_URL=%s is refused with the variable named", (url) => {
    const err = configError({ DATABASE_URL: url });
    expect(err.details?.fields?.map((f) => f.field)).toEqual(["DATABASE_URL"]);
    expect(err.message).toMatch(
      /^Invalid environment: DATABASE_URL must start with file:, libsql:, http\(s\): or ws\(s\):/,
    );
  });

  test.each([
    "file:/data/sam.db",
    "http://127.0.0.1:8080",
    "https://db.example.com",
    "libsql://x.turso.io",
    "ws://h:1",
  ])("DATABASE_URL=%s is accepted", (url) => {
    expect(loadConfig({ DATABASE_URL: url }).databaseUrl).toBe(url);
  });

  test("several bad variables are all named at once", () => {
    const err = configError({
      PORT: "x",
      SAM_PUBLIC_URL: "ftp://sam",
      SAM_LOGIN_LINK_TTL_MINUTES: "0",
    });
    expect(err.details?.fields?.map((f) => f.field).sort()).toEqual([
      "PORT",
      "SAM_LOGIN_LINK_TTL_MINUTES",
      "SAM_PUBLIC_URL",
    ]);
  });
});
