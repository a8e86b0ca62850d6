import { afterAll, describe, expect, it } from "vitest";
import { runSam } from "../helpers/cli";
import { makeTempDir } from "../helpers/temp-dir";

const data = makeTempDir("sam-cloud-cli-");
afterAll(() => data.cleanup());
const sam = (args: string[], input = "") => runSam(args, { SAM_DATA_DIR: data.dir }, undefined, input);
const TOKEN = "hcloud-cli-test-token-0123456789abcdef0123456789abcdef012345678";

describe("sam cloud", () => {
  it("sets the instance's settings with the token from standard input, shows them without it, refuses bad values naming them, and clears them", async () => {
    const set = await sam(
      ["cloud", "set", "--token-stdin", "--server-type", "cx22", "--location", "fsn1", "--labels", "eu,big", "--json"],
      `${TOKEN}\n`,
    );
    expect(set.stderr).toBe("");
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      scope: "instance",
      tokenSet: true,
      serverType: "cx22",
      location: "fsn1",
      image: "debian-12",
      labels: ["eu", "big"],
      capacity: 4,
      maxVms: 3,
      warmMinutes: 30,
      warmPool: 0,
      enabled: true,
      failures: 0,
      vms: 0,
    });

    const show = await sam(["cloud", "show"]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/token\s+set \(encrypted\)/);
    for (const out of [set.stdout, show.stdout]) expect(out).not.toContain(TOKEN);

    const bad = await sam(["cloud", "set", "--capacity", "many", "--enabled", "maybe"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/capacity: must be a whole number from 1 to 64; enabled: must be true or false/);
    const pool = await sam(["cloud", "set", "--warm-pool", "9"]);
    expect(pool.stderr).toMatch(/warmPool: the warm pool cannot be larger than max VMs/);

    const unknown = await sam(["cloud", "set", "--colour", "red"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option --colour/);

    expect((await sam(["cloud", "clear"])).code).toBe(0);
    const none = await sam(["cloud", "show", "--json"]);
    expect(JSON.parse(none.stdout)).toBeNull();
  });
});
