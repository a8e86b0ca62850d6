import { createPrivateKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";

/**
 * Authentication for a self-hosted libSQL server (sqld): an Ed25519 key pair whose public half sqld
 * checks tokens with (`--auth-jwt-key-file`), and tokens (EdDSA JWTs) signed with the private half
 * that clients send as DATABASE_AUTH_TOKEN. Without it any local process can write the database.
 */
export interface SqldKeyPair {
  /** The public key as sqld reads it from its key file: the raw 32 bytes, URL-safe base64. */
  publicKey: string;
  /** The private key, PKCS#8 PEM: keep it private, it mints tokens. */
  privateKeyPem: string;
}

export function makeSqldKeyPair(): SqldKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  if (!jwk.x) throw new Error("Ed25519 public key without its x coordinate");
  return { publicKey: jwk.x, privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString() };
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A token sqld accepts for reads and writes (`a: "rw"`); without `expiresAt` it does not expire. */
export function signSqldToken(privateKey: string | KeyObject, opts: { expiresAt?: Date } = {}): string {
  const key = typeof privateKey === "string" ? createPrivateKey(privateKey) : privateKey;
  const claims = {
    a: "rw",
    iat: Math.floor(Date.now() / 1000),
    ...(opts.expiresAt ? { exp: Math.floor(opts.expiresAt.getTime() / 1000) } : {}),
  };
  const signingInput = `${base64url({ alg: "EdDSA", typ: "JWT" })}.${base64url(claims)}`;
  const signature = sign(null, Buffer.from(signingInput), key).toString("base64url");
  return `${signingInput}.${signature}`;
}
