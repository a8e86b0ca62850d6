import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cloudInitUserData, setupScriptOf } from "@/lib/nodes/cloud/cloud-init";
import { makeTempDir } from "../helpers/temp-dir";

const temp = makeTempDir("sam-cloud-init-");
afterAll(() => temp.cleanup());

const input = {
  webUrl: "https://sam.example.com",
  bundleSha256: "ab".repeat(32),
  joinToken: "samj_it's-a-token",
  nodeName: "sam-1234abcd",
  capacity: 3,
  labels: ["eu", "gpu"],
};

/** Debian's cloud-init validates the file against its schema, as the VM's cloud-init will. */
function cloudInitSchema(userData: string): { status: number | null; output: string } {
  const file = path.join(temp.dir, `user-data-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, userData);
  const run = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe("the user data a cloud VM boots with", () => {
  it("is a valid #cloud-config by cloud-init's own schema check", () => {
    const userData = cloudInitUserData(input);
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    const { status, output } = cloudInitSchema(userData);
    expect(output).toMatch(/Valid schema|Valid cloud-config/);
    expect(status).toBe(0);
  });

  it("the schema check does catch a broken config (the test above means something)", () => {
    const { status, output } = cloudInitSchema('#cloud-config\n{"runcmd": 5}\n');
    expect(status).not.toBe(0);
    expect(output).toMatch(/runcmd/);
  });

  it("holds a POSIX shell script that installs what is missing, checks the bundle's hash and joins with the token from a file", () => {
    const script = setupScriptOf(cloudInitUserData(input));
    execFileSync("sh", ["-n"], { input: script });
    expect(script).toContain("BUNDLE_URL='https://sam.example.com/api/daemon/bundle'");
    expect(script).toContain(`BUNDLE_SHA256='${"ab".repeat(32)}'`);
    // A quote in a value stays inside its word.
    expect(script).toContain(`JOIN_TOKEN='samj_it'"'"'s-a-token'`);
    // The token goes in a 0600 file, never on the daemon's command line (or its service's unit file).
    expect(script).toMatch(/--join "\$WEB_URL" --token-file "\$NODE_DIR\/join-token"/);
    expect(script).toContain(`(umask 077 && printf '%s\\n' "$JOIN_TOKEN" > "$NODE_DIR/join-token")`);
    expect(script).not.toMatch(/--token "/);
    expect(script).toContain("LABELS='eu,gpu'");
    for (const tool of ["bwrap", "git", "setpriv"]) expect(script).toContain(`command -v ${tool}`);
  });

  it("carries no secret but the one-use join token", () => {
    const userData = cloudInitUserData(input);
    expect(userData).not.toMatch(/HCLOUD|API_KEY|SAM_SECRET_KEY|AUTH_SECRET/);
  });
});
