import http from "node:http";

/**
 * A tools/call sent the way it reaches the web app in production: from the daemon's MCP bridge
 * (agent-daemon/src/sandbox/mcp-bridge.ts), a node:http client on a keep-alive connection, not from
 * `fetch`. Its answer is the tool's parsed result, or undefined for an error.
 */
export function bridgeToolCall(
  agent: http.Agent,
  baseUrl: string,
  token: string,
  name: string,
  args: unknown,
): Promise<unknown> {
  const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${baseUrl}/api/mcp`,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${token}`,
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          try {
            const answer = JSON.parse(Buffer.concat(chunks).toString("utf8"));
            const text = answer?.result?.content?.[0]?.text;
            resolve(res.statusCode === 200 && typeof text === "string" ? JSON.parse(text) : undefined);
          } catch (err) {
            reject(err);
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
