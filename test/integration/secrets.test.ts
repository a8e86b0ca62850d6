import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { Db } from "@/db/client";
import { authSecret, secretKey } from "@/lib/instance-secrets";
import { addMember, createProject } from "@/lib/projects/projects";
import { deleteSecret, listSecrets, revealSecret, setSecret } from "@/lib/secrets/store";
import { createLocalUser, ensureInstanceOwner, type User } from "@/lib/users";
import { makeTestDb } from "../helpers/db";
import { makeGitRepo } from "../helpers/git";
import { makeTempDir } from "../helpers/temp-dir";

const PLAINTEXT = "sk-ant-api03-very-secret-value-1234";

let db: Db;
let tmp: string;
let cleanups: (() => void)[];
let owner: User;
let projectId: string;
let key: Buffer;

beforeEach(async () => {
  const testDb = await makeTestDb();
  const dir = makeTempDir("sam-secrets-");
  db = testDb.db;
  tmp = dir.dir;
  cleanups = [testDb.cleanup, dir.cleanup];
  owner = await ensureInstanceOwner(db);
  projectId = (await createProject(db, owner.id, { repo: makeGitRepo(path.join(tmp, "repo")) })).id;
  key = randomBytes(32);
});
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
});

async function storeApiKey(value = PLAINTEXT) {
  return setSecret(db, key, owner.id, projectId, { name: "ANTHROPIC_API_KEY", kind: "model_api_key", value });
}

/** Every column of every stored secret, as the database holds it. */
async function rawSecretRows(): Promise<string> {
  const result = await db.$client.execute("SELECT * FROM secrets");
  return JSON.stringify(result.rows);
}

describe("stored secrets", () => {
  test("the database holds neither the plaintext nor an encoding of it, and revealSecret gets it back", async () => {
    await storeApiKey();

    const raw = await rawSecretRows();
    expect(raw).toContain("ANTHROPIC_API_KEY");
    expect(raw).not.toContain(PLAINTEXT);
    expect(raw).not.toContain(Buffer.from(PLAINTEXT).toString("base64"));
    expect(raw).not.toContain(Buffer.from(PLAINTEXT).toString("base64url"));
    expect(raw).not.toContain(Buffer.from(PLAINTEXT).toString("hex"));
    // A long substring would mean part of the value leaked; the hint keeps only the last four characters.
    expect(raw).not.toContain(PLAINTEXT.slice(0, 12));

    expect(await revealSecret(db, key, projectId, "ANTHROPIC_API_KEY")).toBe(PLAINTEXT);
    expect(await revealSecret(db, key, projectId, "NO_SUCH_SECRET")).toBeUndefined();
  });

  test("encrypting the same value twice gives different ciphertexts", async () => {
    await storeApiKey();
    const first = await rawSecretRows();
    await storeApiKey();
    const second = await rawSecretRows();
    const ciphertextOf = (raw: string) => JSON.parse(raw)[0].ciphertext as string;
    expect(ciphertextOf(first)).not.toBe(ciphertextOf(second));
    expect(await revealSecret(db, key, projectId, "ANTHROPIC_API_KEY")).toBe(PLAINTEXT);
  });

  test("setSecret and listSecrets never return the value, only a masked hint", async () => {
    const summary = await storeApiKey();
    const listed = await listSecrets(db, owner.id, projectId);

    for (const shown of [summary, ...listed]) {
      expect(JSON.stringify(shown)).not.toContain(PLAINTEXT);
      expect(Object.keys(shown).sort()).toEqual(["id", "kind", "last4", "masked", "name", "updatedAt"]);
    }
    expect(listed).toEqual([expect.objectContaining({ name: "ANTHROPIC_API_KEY", masked: "••••1234", last4: "1234" })]);

    // A short value shows no characters at all.
    await setSecret(db, key, owner.id, projectId, { name: "PIN", kind: "other", value: "4321" });
    expect((await listSecrets(db, owner.id, projectId)).find((s) => s.name === "PIN")).toMatchObject({
      masked: "••••",
      last4: null,
    });
  });

  test("a different key cannot decrypt, and says so clearly", async () => {
    await storeApiKey();
    await expect(revealSecret(db, randomBytes(32), projectId, "ANTHROPIC_API_KEY")).rejects.toThrow(
      /cannot be decrypted: was SAM_SECRET_KEY changed\?/,
    );
  });

  test("a ciphertext copied to another secret's name does not decrypt there", async () => {
    await storeApiKey();
    await db.$client.execute("UPDATE secrets SET name = 'OTHER_KEY'");
    await expect(revealSecret(db, key, projectId, "OTHER_KEY")).rejects.toThrow(/cannot be decrypted/);
  });

  test("invalid names and empty values are refused with the field named", async () => {
    await expect(
      setSecret(db, key, owner.id, projectId, { name: "lower case", kind: "other", value: "x" }),
    ).rejects.toMatchObject({ code: "invalid_input", details: { fields: [{ field: "name" }] } });
    await expect(
      setSecret(db, key, owner.id, projectId, { name: "EMPTY", kind: "other", value: "" }),
    ).rejects.toMatchObject({ code: "invalid_input", details: { fields: [{ field: "value" }] } });
  });

  test("only owners change secrets; non-members cannot see they exist", async () => {
    await storeApiKey();
    const member = await createLocalUser(db, { email: "member@example.com" });
    const stranger = await createLocalUser(db, { email: "stranger@example.com" });
    await addMember(db, owner.id, projectId, { email: "member@example.com" });

    await expect(
      setSecret(db, key, member.id, projectId, { name: "X", kind: "other", value: "y" }),
    ).rejects.toMatchObject({ code: "forbidden" });
    await expect(deleteSecret(db, member.id, projectId, "ANTHROPIC_API_KEY")).rejects.toMatchObject({
      code: "forbidden",
    });
    await expect(listSecrets(db, stranger.id, projectId)).rejects.toMatchObject({ code: "not_found" });

    await deleteSecret(db, owner.id, projectId, "ANTHROPIC_API_KEY");
    expect(await listSecrets(db, owner.id, projectId)).toEqual([]);
  });
});

describe("instance keys", () => {
  test("a generated secret key is 32 bytes in a file of mode 0600, and the same key is read back", () => {
    const dataDir = path.join(tmp, "data");
    const generated = secretKey(dataDir, undefined);
    const file = path.join(dataDir, "secret.key");

    expect(generated).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(secretKey(dataDir, undefined).equals(generated)).toBe(true);
  });

  test("the generated Auth.js secret is a file of mode 0600 too", () => {
    const dataDir = path.join(tmp, "data");
    const secret = authSecret(dataDir, undefined);
    expect(secret.length).toBeGreaterThanOrEqual(43);
    expect(fs.statSync(path.join(dataDir, "auth-secret")).mode & 0o777).toBe(0o600);
    expect(authSecret(dataDir, undefined)).toBe(secret);
  });

  test("SAM_SECRET_KEY is used as given (hex or base64), and a wrong length is refused naming it", () => {
    const dataDir = path.join(tmp, "data");
    const raw = randomBytes(32);
    expect(secretKey(dataDir, raw.toString("hex")).equals(raw)).toBe(true);
    expect(secretKey(dataDir, raw.toString("base64")).equals(raw)).toBe(true);
    expect(fs.existsSync(path.join(dataDir, "secret.key"))).toBe(false);
    expect(() => secretKey(dataDir, "too-short")).toThrow(/SAM_SECRET_KEY must be 32 bytes/);
  });
});
