import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { SamError } from "../errors";

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM; the result is base64 of iv | tag | ciphertext. `aad` binds it to where it is stored. */
export function encryptSecret(key: Buffer, plaintext: string, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
}

export function decryptSecret(key: Buffer, stored: string, aad: string): string {
  const raw = Buffer.from(stored, "base64");
  if (raw.length < IV_BYTES + TAG_BYTES) throw new SamError("internal", "A stored secret is damaged");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    throw new SamError("internal", "A stored secret cannot be decrypted: was SAM_SECRET_KEY changed?");
  }
}
