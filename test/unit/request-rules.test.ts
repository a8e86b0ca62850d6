import { describe, expect, test } from "vitest";
import { SamError } from "@/lib/errors";
import {
  assertDeclaredLengthWithin,
  assertJsonContentType,
  assertSameOrigin,
  changesState,
  readBodyText,
} from "@/lib/http/request-rules";

const PUBLIC = "http://127.0.0.1:3000";

function refusal(fn: () => void): SamError | undefined {
  try {
    fn();
  } catch (err) {
    if (SamError.is(err)) return err;
    throw err;
  }
  return undefined;
}

describe("the cross-origin rule for requests that change state", () => {
  test("GET, HEAD and OPTIONS change nothing; every other method may", () => {
    expect(["GET", "head", "OPTIONS"].map(changesState)).toEqual([false, false, false]);
    expect(["POST", "PUT", "PATCH", "DELETE"].map(changesState)).toEqual([true, true, true, true]);
  });

  test.each([
    ["another site", { origin: "https://evil.example", "sec-fetch-site": "cross-site" }],
    ["another port of the same host", { origin: "http://127.0.0.1:4000", "sec-fetch-site": "same-site" }],
    ["an opaque origin", { origin: "null" }],
    ["a same-site page that sends no Origin", { "sec-fetch-site": "same-site" }],
    [
      "a DNS-rebound name that the browser thinks is same-origin",
      { origin: "http://evil.example:3000", "sec-fetch-site": "same-origin" },
    ],
  ])("a request from %s is refused with 403 naming why", (_what, headers) => {
    const err = refusal(() => assertSameOrigin(new Headers(headers), PUBLIC));
    expect(err?.code).toBe("forbidden");
    expect(err?.message).toMatch(/^Cross-origin request refused/);
  });

  test("a request from SAM's own pages passes, by any loopback name of this machine", () => {
    for (const origin of ["http://127.0.0.1:3000", "http://localhost:3000", "http://[::1]:3000"]) {
      expect(refusal(() => assertSameOrigin(new Headers({ origin, "sec-fetch-site": "same-origin" }), PUBLIC))).toBe(
        undefined,
      );
    }
    expect(refusal(() => assertSameOrigin(new Headers({ origin: "http://localhost:3001" }), PUBLIC))?.code).toBe(
      "forbidden",
    );
  });

  test("a public URL that is not loopback admits exactly its own origin", () => {
    const publicUrl = "https://sam.example.com";
    expect(refusal(() => assertSameOrigin(new Headers({ origin: "https://sam.example.com" }), publicUrl))).toBe(
      undefined,
    );
    expect(refusal(() => assertSameOrigin(new Headers({ origin: "http://sam.example.com" }), publicUrl))?.code).toBe(
      "forbidden",
    );
  });

  test("a request that says nothing of its origin is not from a browser: its credentials alone decide", () => {
    expect(refusal(() => assertSameOrigin(new Headers({ authorization: "Bearer x" }), PUBLIC))).toBe(undefined);
  });
});

describe("request bodies", () => {
  test("only application/json is JSON; the refusal names what was sent", () => {
    expect(
      refusal(() => assertJsonContentType(new Headers({ "content-type": "application/json; charset=utf-8" }))),
    ).toBe(undefined);
    const plain = refusal(() => assertJsonContentType(new Headers({ "content-type": "text/plain" })));
    expect(plain?.code).toBe("unsupported_media_type");
    expect(plain?.message).toContain('"text/plain"');
    expect(refusal(() => assertJsonContentType(new Headers()))?.message).toContain("no Content-Type");
  });

  test("a declared length over the cap is refused before anything is read", () => {
    const err = refusal(() => assertDeclaredLengthWithin(new Headers({ "content-length": "2049" }), 2048));
    expect(err?.code).toBe("payload_too_large");
    expect(err?.message).toBe("The request body is larger than the 2 KiB limit");
  });

  test("a body that declares no length is read no further than the cap", async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
      },
    });
    const req = new Request("http://x/", { method: "POST", body: endless, duplex: "half" } as RequestInit);
    await expect(readBodyText(req, 4096)).rejects.toMatchObject({ code: "payload_too_large" });
    expect(pulled).toBeLessThan(10);
    const small = new Request("http://x/", { method: "POST", body: "{}" });
    expect(await readBodyText(small, 4096)).toBe("{}");
  });
});
