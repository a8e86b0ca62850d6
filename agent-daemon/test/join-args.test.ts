import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { joinedNodeConfig, NODE_FILE } from "../src/join.ts";
import { makeTempDir } from "./temp-dir.ts";

const TOKEN = `samj_${"t".repeat(40)}`;
// Nothing listens here: a case that got as far as joining would fail saying it cannot reach it.
const WEB = "http://127.0.0.1:9";

let temp: ReturnType<typeof makeTempDir>;
afterEach(() => temp?.cleanup());

describe("the join token on the command line or in a file", () => {
  it("is refused when given both ways", async () => {
    temp = makeTempDir();
    const file = path.join(temp.dir, "join-token");
    fs.writeFileSync(file, TOKEN);
    const result = await joinedNodeConfig(
      ["--join", WEB, "--token", TOKEN, "--token-file", file, "--dir", path.join(temp.dir, "node")],
      {},
    );
    expect(result).toEqual({ ok: false, usage: true, errors: ["give --token or --token-file, not both"] });
  });

  it("names a token file that cannot be read, or that holds no token", async () => {
    temp = makeTempDir();
    const dir = path.join(temp.dir, "node");
    const missing = path.join(temp.dir, "nowhere");
    const unreadable = await joinedNodeConfig(["--join", WEB, "--token-file", missing, "--dir", dir], {});
    expect(unreadable).toMatchObject({
      ok: false,
      usage: true,
      errors: [expect.stringContaining(`cannot read ${missing}`)],
    });

    const empty = path.join(temp.dir, "empty");
    fs.writeFileSync(empty, "\n");
    const noToken = await joinedNodeConfig(["--join", WEB, "--token-file", empty, "--dir", dir], {});
    expect(noToken).toMatchObject({
      ok: false,
      usage: true,
      errors: [expect.stringContaining(`${empty} holds no join token`)],
    });
  });

  it("is read from the file, without its newline, and spent at the web app", async () => {
    temp = makeTempDir();
    const file = path.join(temp.dir, "join-token");
    fs.writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const result = await joinedNodeConfig(
      ["--join", WEB, "--token-file", file, "--dir", path.join(temp.dir, "node")],
      {},
    );
    // It got as far as the web app; a join that fails keeps the file for the next try.
    expect(result).toMatchObject({
      ok: false,
      errors: [expect.stringContaining(`cannot reach the web app at ${WEB}`)],
    });
    expect(fs.readFileSync(file, "utf8")).toBe(`${TOKEN}\n`);
  });

  it("is not needed, nor read, by a node that joined before", async () => {
    temp = makeTempDir();
    const dir = path.join(temp.dir, "node");
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.writeFileSync(
      path.join(dir, NODE_FILE),
      JSON.stringify({ nodeId: "node-1", credential: "c".repeat(40), webUrl: WEB, capacity: 2 }),
      { mode: 0o600 },
    );
    const result = await joinedNodeConfig(["--token-file", path.join(temp.dir, "spent"), "--dir", dir], {});
    expect(result.ok && result.value.config.nodeId).toBe("node-1");
  });
});
