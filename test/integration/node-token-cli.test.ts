import { afterAll, describe, expect, it } from "vitest";
import { runSam } from "../helpers/cli";
import { makeTempDir } from "../helpers/temp-dir";

describe("sam node token", () => {
  const data = makeTempDir("sam-node-token-");
  afterAll(() => data.cleanup());
  const env = { SAM_DATA_DIR: data.dir, SAM_PUBLIC_URL: "https://sam.example.com" };

  it("prints a one-use token and the command that joins a machine with it, labels included", async () => {
    const run = await runSam(["node", "token", "--labels", "gpu,eu", "--ttl-minutes", "5", "--json"], env);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { token: string; joinCommand: string; labels: string[]; expiresAt: string };
    expect(out.token).toMatch(/^samj_[A-Za-z0-9_-]{43}$/);
    expect(out.joinCommand).toBe(`npx sam daemon --join https://sam.example.com --token ${out.token} --labels eu,gpu`);
    expect(out.labels).toEqual(["eu", "gpu"]);
    expect(new Date(out.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(run.stderr).toBe("");
  });

  it("refuses a time to live or a label out of range, naming the option", async () => {
    const ttl = await runSam(["node", "token", "--ttl-minutes", "0"], env);
    expect(ttl.code).toBe(1);
    expect(ttl.stderr).toMatch(/--ttl-minutes: must be a whole number of minutes \(1-10080\)/);
    const label = await runSam(["node", "token", "--labels", "Not A Label"], env);
    expect(label.code).toBe(1);
    expect(label.stderr).toMatch(/--labels\.0: a label is 1-63 lowercase letters/);
  });

  it("says so when SAM_PUBLIC_URL is unset: the command then carries the server's own address", async () => {
    const run = await runSam(["node", "token", "--json"], { SAM_DATA_DIR: data.dir });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { joinCommand: string }).joinCommand).toMatch(
      /--join http:\/\/127\.0\.0\.1:3000 /,
    );
    expect(run.stderr).toMatch(/SAM_PUBLIC_URL is not set/);
  });
});
