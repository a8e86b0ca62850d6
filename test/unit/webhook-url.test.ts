import { describe, expect, test } from "vitest";
import { SamError } from "@/lib/errors";
import { isForbiddenAddress, judgeWebhookUrl, MAX_WEBHOOK_URL_LENGTH, urlHintOf } from "@/lib/webhooks/url";

/** The judgement's refusal message, or undefined when the URL is accepted. */
function refusal(url: string): string | undefined {
  try {
    judgeWebhookUrl(url);
    return undefined;
  } catch (err) {
    expect(SamError.is(err) && err.code === "invalid_input").toBe(true);
    return (err as Error).message;
  }
}

describe("the webhook URL judgement", () => {
  test("http and https URLs to public hosts, loopback and private networks are accepted", () => {
    for (const url of [
      "https://hooks.slack.com/services/T000/B000/XXXX",
      "https://discord.com/api/webhooks/1/abc",
      "http://127.0.0.1:8080/hook",
      "http://localhost:9000/",
      "http://[::1]:3000/x",
      "http://10.0.0.5/hook",
      "http://192.168.1.20:8123/api/webhook/sam",
      "http://172.16.0.1/",
    ]) {
      expect(refusal(url), url).toBeUndefined();
    }
  });

  test("other schemes, credentials, relative and empty URLs are refused", () => {
    expect(refusal("ftp://example.com/hook")).toMatch(/http or https/);
    expect(refusal("file:///etc/passwd")).toMatch(/http or https/);
    expect(refusal("javascript:alert(1)")).toMatch(/http or https/);
    expect(refusal("https://user:pass@example.com/hook")).toMatch(/user name or password/);
    expect(refusal("https://token@example.com/hook")).toMatch(/user name or password/);
    expect(refusal("/api/hook")).toMatch(/absolute URL/);
    expect(refusal("   ")).toMatch(/required/);
  });

  test("a URL longer than the limit is refused", () => {
    const long = `https://example.com/${"a".repeat(MAX_WEBHOOK_URL_LENGTH)}`;
    expect(refusal(long)).toMatch(/longer than 2048/);
  });

  test("link-local and cloud-metadata addresses are refused however they are written", () => {
    for (const url of [
      "http://169.254.169.254/latest/meta-data/",
      "http://169.254.0.1/",
      "http://2852039166/", // 169.254.169.254 as one number
      "http://0xa9.0xfe.0xa9.0xfe/", // in hex
      "http://0251.0376.0251.0376/", // in octal
      "http://[::ffff:169.254.169.254]/", // IPv4-mapped IPv6
      "http://[fe80::1]/",
      "http://[febf::1]/",
      "http://[fd00:ec2::254]/", // AWS's IPv6 metadata endpoint
    ]) {
      expect(refusal(url), url).toMatch(/link-local or cloud-metadata/);
    }
  });

  test("refusals never repeat the URL, which is a secret", () => {
    const secretPath = "/services/T0SECRET/B0SECRET/tokentokentoken";
    for (const url of [
      `ftp://hooks.example.com${secretPath}`,
      `https://u:p@hooks.example.com${secretPath}`,
      `http://169.254.169.254${secretPath}`,
    ]) {
      expect(refusal(url)).not.toContain("SECRET");
    }
  });

  test("the hint shows scheme and host only", () => {
    expect(urlHintOf(judgeWebhookUrl("https://hooks.slack.com/services/T0/B0/XYZ?x=1"))).toBe(
      "https://hooks.slack.com/…",
    );
    expect(urlHintOf(judgeWebhookUrl("http://127.0.0.1:8080/hook"))).toBe("http://127.0.0.1:8080/…");
  });

  test("resolved addresses are judged by the same rule", () => {
    expect(isForbiddenAddress("169.254.169.254")).toBe(true);
    expect(isForbiddenAddress("::ffff:169.254.1.1")).toBe(true);
    expect(isForbiddenAddress("fe80::abcd")).toBe(true);
    expect(isForbiddenAddress("127.0.0.1")).toBe(false);
    expect(isForbiddenAddress("10.1.2.3")).toBe(false);
    expect(isForbiddenAddress("fec0::1")).toBe(false);
    expect(isForbiddenAddress("2606:4700::1111")).toBe(false);
  });
});
