import { createHmac, timingSafeEqual } from "node:crypto";

export const SIGNATURE_HEADER = "X-SAM-Signature-256";

/** `sha256=<hex HMAC-SHA256 of the exact body bytes>`, the value of X-SAM-Signature-256. */
export function signBody(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/** What a receiver does: recompute the signature over the bytes received and compare in constant time. */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
