import http from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { makeTempDir } from "../temp-dir.ts";
import { openHarness, results, script, TASK_TOKEN, trace } from "./helpers.ts";

/**
 * A minimal MCP server standing in for the web app at the protocol level: Streamable HTTP,
 * stateless, bearer-token checked, one `echo` tool and one that reports an error.
 */
async function startMcpServer(token: string) {
  const calls: Array<{ tool: string; args: unknown; authorization: string | undefined }> = [];
  const server = http.createServer(async (req, res) => {
    const authorization = req.headers.authorization;
    if (authorization !== `Bearer ${token}`) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"error":"unauthorized"}');
      return;
    }
    const mcp = new McpServer({ name: "test-web-app", version: "1.0.0" });
    mcp.registerTool(
      "echo",
      { description: "Echoes its text.", inputSchema: { text: z.string() } },
      async ({ text }) => {
        calls.push({ tool: "echo", args: { text }, authorization });
        return { content: [{ type: "text", text: `echo: ${text}` }] };
      },
    );
    mcp.registerTool("refuse", { description: "Always refuses." }, async () => {
      calls.push({ tool: "refuse", args: {}, authorization });
      return { content: [{ type: "text", text: "not allowed" }], isError: true };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/mcp`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe("the web app's MCP tools", () => {
  let mcp: Awaited<ReturnType<typeof startMcpServer>>;
  beforeAll(async () => {
    mcp = await startMcpServer(TASK_TOKEN);
  });
  afterAll(async () => {
    await mcp.close();
  });

  it("are called with the task token as bearer and their results come back as tool results", async () => {
    const temp = makeTempDir("sam-harness-mcp-");
    try {
      const h = await openHarness({ kind: "builtin", cwd: temp.dir, mcpUrl: mcp.url });
      expect(h.startEvents).toEqual([]);
      const stop = await h.harness.prompt(
        script([
          { tool: "echo", args: { text: "hello web app" } },
          { tool: "refuse", args: {} },
          { tool: "echo", args: { text: 42 } },
          { say: "MCP works." },
        ]),
      );
      await h.harness.close();

      expect(stop).toBe("end_turn");
      expect(mcp.calls).toEqual([
        { tool: "echo", args: { text: "hello web app" }, authorization: `Bearer ${TASK_TOKEN}` },
        { tool: "refuse", args: {}, authorization: `Bearer ${TASK_TOKEN}` },
      ]);
      expect(trace(h.events)).toEqual([
        "call echo",
        "completed echo",
        "call refuse",
        "failed refuse",
        "call echo",
        "failed echo",
        "text: MCP works.",
      ]);
      const [echo, refused, invalid] = results(h.events);
      expect(echo?.output).toMatchObject({ content: [{ type: "text", text: "echo: hello web app" }] });
      expect(refused?.output).toMatchObject({ isError: true, content: [{ type: "text", text: "not allowed" }] });
      // The server validates arguments; the model reads what was wrong.
      expect(JSON.stringify(invalid?.output)).toContain("text");
    } finally {
      temp.cleanup();
    }
  });

  it("are unavailable with a wrong token, which is reported as an agent error", async () => {
    const temp = makeTempDir("sam-harness-mcp-");
    try {
      const h = await openHarness({
        kind: "builtin",
        cwd: temp.dir,
        mcpUrl: mcp.url,
        taskToken: "wrong-token-0123456789abcdef0123456789",
      });
      await h.harness.close();
      expect(trace(h.startEvents)).toEqual([
        expect.stringMatching(/^error: MCP server "sam" .* cannot be used.*HTTP 401/),
      ]);
    } finally {
      temp.cleanup();
    }
  });
});
