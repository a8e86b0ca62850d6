import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { secrets } from "@/db/schema";
import { SamError } from "../errors";
import { newId } from "../ids";
import { getProjectForUser } from "../projects/projects";
import { parseInput } from "../validation";
import { decryptSecret, encryptSecret } from "./crypto";

export const SECRET_KINDS = ["model_api_key", "git_token", "other"] as const;

export const setSecretSchema = z
  .object({
    name: z
      .string()
      .trim()
      .regex(/^[A-Z][A-Z0-9_]{0,63}$/, { message: "Name must be UPPER_SNAKE_CASE, up to 64 characters" }),
    kind: z.enum(SECRET_KINDS, { message: `Kind must be one of ${SECRET_KINDS.join(", ")}` }),
    value: z.string().min(1, { message: "Value is required" }).max(16_384, { message: "Value is too long" }),
  })
  .strict();

/** What the browser may see of a secret: never the value, only a hint of its last characters. */
export interface SecretSummary {
  id: string;
  name: string;
  kind: (typeof SECRET_KINDS)[number];
  masked: string;
  /** The value's last four characters; null for a value too short (under 12) to show any of. */
  last4: string | null;
  updatedAt: Date;
}

function hintOf(value: string): string {
  return value.length >= 12 ? value.slice(-4) : "";
}

function aadOf(projectId: string, name: string): string {
  return `sam-secret:${projectId}:${name}`;
}

/** Stores (or replaces) a project secret, encrypted; only owners may. */
export async function setSecret(
  db: Db,
  key: Buffer,
  userId: string,
  projectId: string,
  input: unknown,
): Promise<SecretSummary> {
  const { name, kind, value } = parseInput(setSecretSchema, input);
  const project = await getProjectForUser(db, userId, projectId);
  if (project.role !== "owner") throw new SamError("forbidden", "Only a project owner can change secrets");
  const ciphertext = encryptSecret(key, value, aadOf(projectId, name));
  const hint = hintOf(value);
  const [row] = await db
    .insert(secrets)
    .values({ id: newId(), projectId, name, kind, ciphertext, hint, createdByUserId: userId })
    .onConflictDoUpdate({
      target: [secrets.projectId, secrets.name],
      set: { kind, ciphertext, hint, updatedAt: new Date() },
    })
    .returning();
  if (!row) throw new SamError("internal", "The secret was not stored");
  return summarize(row);
}

function summarize(row: typeof secrets.$inferSelect): SecretSummary {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    masked: row.hint ? `••••${row.hint}` : "••••",
    last4: row.hint || null,
    updatedAt: row.updatedAt,
  };
}

export async function listSecrets(db: Db, userId: string, projectId: string): Promise<SecretSummary[]> {
  await getProjectForUser(db, userId, projectId);
  const rows = await db.query.secrets.findMany({
    where: eq(secrets.projectId, projectId),
    orderBy: secrets.name,
  });
  return rows.map(summarize);
}

export async function deleteSecret(db: Db, userId: string, projectId: string, name: string): Promise<void> {
  const project = await getProjectForUser(db, userId, projectId);
  if (project.role !== "owner") throw new SamError("forbidden", "Only a project owner can change secrets");
  const deleted = await db
    .delete(secrets)
    .where(and(eq(secrets.projectId, projectId), eq(secrets.name, name)))
    .returning({ id: secrets.id });
  if (deleted.length === 0) throw new SamError("not_found", `No secret named ${name}`);
}

/** The plaintext of a secret, for server-side use only (starting a harness); never for a browser. */
export async function revealSecret(db: Db, key: Buffer, projectId: string, name: string): Promise<string | undefined> {
  const row = await db.query.secrets.findFirst({
    where: and(eq(secrets.projectId, projectId), eq(secrets.name, name)),
  });
  return row ? decryptSecret(key, row.ciphertext, aadOf(projectId, row.name)) : undefined;
}
