/** The web app's address for one of its daemon routes; a base path in `webUrl` is kept. */
export function webEndpoint(webUrl: string, route: string): string {
  return `${webUrl.replace(/\/+$/, "")}${route}`;
}

/**
 * POSTs JSON to the web app with the node token. Resolves with why it failed (a status or a network
 * error), or undefined on a 2xx; never rejects, since every caller retries.
 */
export async function postToWeb(
  endpoint: string,
  nodeToken: string,
  body: unknown,
  signal: AbortSignal,
): Promise<string | undefined> {
  try {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { authorization: `Bearer ${nodeToken}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal,
    });
    // Read to the end so the connection goes back to the pool.
    await res.arrayBuffer();
    return res.ok ? undefined : `HTTP ${res.status}`;
  } catch (err) {
    if (!(err instanceof Error)) return String(err);
    // fetch's own message is a bare "fetch failed"; the cause says what happened (ECONNREFUSED, ...).
    return err.cause instanceof Error ? err.cause.message : err.message;
  }
}
