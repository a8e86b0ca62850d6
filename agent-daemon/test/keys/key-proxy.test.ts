import http from "node:http";
import type { AddressInfo } from "node:net";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText } from "ai";
import { afterEach, describe, expect, it } from "vitest";
import { type OpenAIFixture, startOpenAIFixture } from "../../../test/helpers/openai-fixture.ts";
import { type KeyProxy, startKeyProxy } from "../../src/keys/key-proxy.ts";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fixture(): Promise<OpenAIFixture> {
  const f = await startOpenAIFixture();
  cleanups.push(() => f.close());
  return f;
}

async function proxy(options: Parameters<typeof startKeyProxy>[0]): Promise<KeyProxy> {
  const p = await startKeyProxy(options);
  cleanups.push(() => p.close());
  return p;
}

/** A server that records the headers it gets and answers 200, standing in for Anthropic or Google. */
async function recorder(): Promise<{ url: string; headers: http.IncomingHttpHeaders[] }> {
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    headers.push(req.headers);
    req.resume();
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, headers };
}

const chat = (stream: boolean) =>
  JSON.stringify({ model: "fixture-model", stream, messages: [{ role: "user", content: "hi" }] });

describe("the key endpoint", () => {
  it("forwards an agent's request with the real key in place of the dummy one, through a real AI SDK provider", async () => {
    const f = await fixture();
    f.respond(() => ({ text: "Hello through the key endpoint." }));
    const p = await proxy({ provider: "openai-compatible", upstream: f.url, apiKey: f.apiKey });
    const model = createOpenAICompatible({ name: "agent", baseURL: p.baseUrl, apiKey: p.dummyKey })("fixture-model");
    const { text } = await generateText({ model, prompt: "hi" });
    expect(text).toBe("Hello through the key endpoint.");
    const [request] = f.completions();
    expect(request?.headers.authorization).toBe(`Bearer ${f.apiKey}`);
    expect(JSON.stringify(f.requests)).not.toContain(p.dummyKey);
  });

  it("streams a response through as it comes: the first chunk arrives while the server still holds the rest", async () => {
    const f = await fixture();
    let release!: () => void;
    const hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    f.respond(() => ({ text: "held text", hold }));
    const p = await proxy({ provider: "openai-compatible", upstream: f.url, apiKey: f.apiKey });
    const res = await fetch(`${p.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${p.dummyKey}`, "content-type": "application/json" },
      body: chat(true),
    });
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('"role":"assistant"');
    release();
    let rest = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      rest += new TextDecoder().decode(chunk.value);
    }
    expect(rest).toContain(`"content":"text"`);
    expect(rest).toContain("[DONE]");
  });

  it("refuses (401, in the provider's format) a request without this session's dummy key, and forwards nothing", async () => {
    const f = await fixture();
    const p = await proxy({ provider: "openai-compatible", upstream: f.url, apiKey: f.apiKey });
    const other = await proxy({ provider: "openai-compatible", upstream: f.url, apiKey: f.apiKey });
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer not-the-key" },
      // Another session's dummy key is no key here.
      { authorization: `Bearer ${other.dummyKey}` },
      { authorization: `Bearer ${f.apiKey}` },
    ];
    for (const headers of attempts) {
      const res = await fetch(`${p.baseUrl}/chat/completions`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: chat(false),
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { message: string } };
      expect(body.error.message).toMatch(/did not carry this session's key/);
    }
    expect(f.requests).toHaveLength(0);
  });

  it("never shows the real key: not in responses, not in the fixture's 401, not on stdout or stderr", async () => {
    const f = await fixture();
    // The real key is wrong for this server: its 401 comes back to the agent.
    const realKey = "sk-real-secret-0123456789abcdef";
    const p = await proxy({ provider: "openai-compatible", upstream: f.url, apiKey: realKey });
    const written: string[] = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const capture =
      (write: typeof out) =>
      (chunk: string | Uint8Array, ...rest: never[]): boolean => {
        written.push(String(chunk));
        return write(chunk, ...rest);
      };
    process.stdout.write = capture(out) as typeof process.stdout.write;
    process.stderr.write = capture(err) as typeof process.stderr.write;
    try {
      const res = await fetch(`${p.baseUrl}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${p.dummyKey}`, "content-type": "application/json" },
        body: chat(false),
      });
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(text).toContain("Incorrect API key");
      expect(text + JSON.stringify([...res.headers])).not.toContain(realKey);
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    expect(f.requests[0]?.headers.authorization).toBe(`Bearer ${realKey}`);
    expect(written.join("")).not.toContain(realKey);
  });

  it("answers an unreachable server with an error in the provider's format naming the base URL and the cause", async () => {
    const gone = await recorder();
    // Nothing listens there once it is closed.
    await cleanups.pop()?.();
    const upstream = `${gone.url}/v1`;
    const openai = await proxy({ provider: "openai-compatible", upstream, apiKey: "k" });
    const res = await fetch(`${openai.baseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${openai.dummyKey}`, "content-type": "application/json" },
      body: chat(false),
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toBe(
      `the model server at ${upstream} cannot be reached (ECONNREFUSED: connect ECONNREFUSED ${new URL(upstream).host})`,
    );
    // Through the AI SDK, that message is what the agent shows.
    const model = createOpenAICompatible({ name: "agent", baseURL: openai.baseUrl, apiKey: openai.dummyKey })("m");
    await expect(generateText({ model, prompt: "hi", maxRetries: 0 })).rejects.toThrow(
      `the model server at ${upstream} cannot be reached`,
    );

    const anthropic = await proxy({ provider: "anthropic", upstream, apiKey: "k" });
    const answer = await fetch(`${anthropic.baseUrl}/messages`, {
      method: "POST",
      headers: { "x-api-key": anthropic.dummyKey, "content-type": "application/json" },
      body: "{}",
    });
    expect(await answer.json()).toMatchObject({
      type: "error",
      error: { type: "api_error", message: expect.stringContaining(upstream) },
    });
  });

  it("gives up on a model server that cannot be reached three times in a row; an answer between starts the count again", async () => {
    // A model server that comes and goes on one port.
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const down = () => new Promise<void>((resolve) => server.close(() => resolve()));
    const up = () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    cleanups.push(async () => server.listening && (await down()));
    const upstream = `http://127.0.0.1:${port}/v1`;
    const givenUp: string[] = [];
    const openai = await proxy({ provider: "openai-compatible", upstream, onUnreachable: (m) => givenUp.push(m) });
    const ask = async () =>
      (
        await fetch(`${openai.baseUrl}/chat/completions`, {
          method: "POST",
          headers: { authorization: `Bearer ${openai.dummyKey}`, "content-type": "application/json" },
          body: chat(false),
        })
      ).status;

    await down();
    expect([await ask(), await ask()]).toEqual([502, 502]);
    await up();
    expect(await ask()).toBe(200);
    await down();
    expect([await ask(), await ask()]).toEqual([502, 502]);
    expect(givenUp).toEqual([]);
    expect(await ask()).toBe(502);
    expect(givenUp).toEqual([
      expect.stringContaining(`the model server at ${upstream} cannot be reached (ECONNREFUSED`),
    ]);
  });

  it("puts the real key where each provider expects it and strips every dummy", async () => {
    const server = await recorder();
    const anthropic = await proxy({ provider: "anthropic", upstream: `${server.url}/v1`, apiKey: "real-a" });
    await fetch(`${anthropic.baseUrl}/messages`, {
      method: "POST",
      headers: { "x-api-key": anthropic.dummyKey, authorization: `Bearer ${anthropic.dummyKey}` },
      body: "{}",
    });
    const google = await proxy({ provider: "google", upstream: `${server.url}/v1beta`, apiKey: "real-g" });
    await fetch(`${google.baseUrl}/models/m:generateContent?key=${google.dummyKey}`, { method: "POST", body: "{}" });
    const [a, g] = server.headers;
    expect(a?.["x-api-key"]).toBe("real-a");
    expect(a?.authorization).toBeUndefined();
    expect(g?.["x-goog-api-key"]).toBe("real-g");
    expect(JSON.stringify(server.headers)).not.toContain("sam-dummy-");
  });

  it("forwards only requests under the provider's base path", async () => {
    const f = await fixture();
    const p = await proxy({ provider: "openai-compatible", upstream: f.url, apiKey: f.apiKey });
    const res = await fetch(`${new URL(p.baseUrl).origin}/admin`, {
      headers: { authorization: `Bearer ${p.dummyKey}` },
    });
    expect(res.status).toBe(404);
    expect(f.requests).toHaveLength(0);
  });
});
