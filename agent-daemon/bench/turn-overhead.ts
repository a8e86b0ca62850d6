/**
 * SAM's own time per model turn (run by `npm run bench:agents`, or alone with tsx), with a scripted
 * OpenAI-compatible server answering instantly:
 * - the key endpoint: the same streamed chat completion sent straight to the server and through a
 *   session's key endpoint, alternately; the difference of the medians is what it adds per request;
 * - the ACP round trip: a turn of the built-in agent in the daemon's process with the offline
 *   `scripted` model saying one line (prompt → update → end of turn, through the daemon's ACP
 *   client); this includes the agent loop itself, so it bounds SAM's part from above.
 */
import { describe, fmt } from "../../bench/stats.ts";
import { startOpenAIFixture } from "../../test/helpers/openai-fixture.ts";
import { startHarness } from "../src/harness/start.ts";
import { startKeyProxy } from "../src/keys/key-proxy.ts";
import { makeTempDir } from "../test/temp-dir.ts";

const PROXY_REQUESTS = Number(process.env.BENCH_PROXY_REQUESTS ?? 300);
const ACP_TURNS = 100;
const MODEL = "bench-model";

async function main(): Promise<void> {
  const scratch = makeTempDir("sam-bench-turn-");
  const fixture = await startOpenAIFixture({ models: [MODEL] });
  // The key endpoint's added latency per model request.
  const proxy = await startKeyProxy({ provider: "openai-compatible", upstream: fixture.url, apiKey: fixture.apiKey });
  fixture.respond(() => ({ text: "hello" }));
  const body = JSON.stringify({ model: MODEL, stream: true, messages: [{ role: "user", content: "hi" }] });
  const stream = async (base: string, key: string) => {
    const t0 = performance.now();
    const res = await fetch(`${base}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body,
    });
    await res.text();
    return performance.now() - t0;
  };
  const direct: number[] = [];
  const proxied: number[] = [];
  for (let i = 0; i < 20; i++) {
    await stream(fixture.url, fixture.apiKey);
    await stream(proxy.baseUrl, proxy.dummyKey);
  }
  for (let i = 0; i < PROXY_REQUESTS; i++) {
    direct.push(await stream(fixture.url, fixture.apiKey));
    proxied.push(await stream(proxy.baseUrl, proxy.dummyKey));
  }
  await proxy.close();
  await fixture.close();
  const d = describe(direct);
  const p = describe(proxied);
  const proxyAdded = p.median - d.median;

  // The ACP round trip of one turn, daemon ↔ built-in agent (in-process, scripted model).
  const say = `turn\n\n\`\`\`sam-script\n${JSON.stringify([{ say: "ok" }])}\n\`\`\`\n`;
  const harness = await startHarness({
    kind: "builtin",
    cwd: scratch.dir,
    mode: "conversation",
    model: "scripted",
    // Nothing listens on port 1: no MCP server, which a turn that calls no tool does not need.
    mcpUrl: "http://127.0.0.1:1/api/mcp",
    taskToken: "bench-task-token-0123456789abcdef0123456789",
    onEvent: () => {},
    onCrash: () => {},
  });
  const turns: number[] = [];
  for (let i = 0; i < ACP_TURNS + 10; i++) {
    const t0 = performance.now();
    await harness.prompt(say);
    if (i >= 10) turns.push(performance.now() - t0);
  }
  await harness.close();
  scratch.cleanup();
  const acp = describe(turns);

  console.log("\nSAM's own time per model turn");
  console.log(
    `  key endpoint: streamed completion direct median ${fmt(d.median)} (p90 ${fmt(d.p90)}), through the endpoint ${fmt(p.median)} (p90 ${fmt(p.p90)}): +${fmt(proxyAdded)} per request (n=${PROXY_REQUESTS})`,
  );
  console.log(
    `  ACP round trip of a turn (prompt → update → end of turn, in-process built-in agent, scripted model): median ${fmt(acp.median)} (p90 ${fmt(acp.p90)}, n=${ACP_TURNS})`,
  );
  console.log(
    `  SAM adds about ${fmt(proxyAdded + acp.median)} per model turn (key endpoint + ACP); goal under 20 ms: ${proxyAdded + acp.median < 20 ? "met" : "NOT met"}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
