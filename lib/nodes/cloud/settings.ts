import { nodeLabelsSchema } from "@sam/agent-daemon/contract";
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { cloudSettings, nodes } from "@/db/schema";
import { SamError } from "../../errors";
import { newId } from "../../ids";
import { getProjectForUser } from "../../projects/projects";
import { decryptSecret, encryptSecret } from "../../secrets/crypto";
import { revealSecret } from "../../secrets/store";
import { requireAdmin } from "../../users";
import { parseInput } from "../../validation";

export type CloudSettingsRow = typeof cloudSettings.$inferSelect;

/** Where settings apply: one project, or the whole instance (projects without settings of their own). */
export type CloudScope = { projectId: string } | "instance";

/** A Hetzner name (server type `cx22`, location `fsn1`, image `debian-12`) or an image's numeric id. */
const hetznerName = (what: string) =>
  z
    .string()
    .trim()
    .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, `${what} is a Hetzner name such as the API lists (lowercase, digits, . _ -)`);

/** A whole number in a range, with one message for every way a value can miss it. */
const count = (min: number, max: number, fallback: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.number({ message }).int({ message }).min(min, { message }).max(max, { message }).default(fallback);
};

/**
 * Every field of cloud settings, as the API, the CLI and the settings panel give them. The token is
 * write-only: for a project, the name of one of its secrets; for the instance, the token itself,
 * stored encrypted. What is not given keeps its stored value.
 */
export const cloudSettingsSchema = z
  .object({
    provider: z.literal("hetzner", { message: "the only provider is hetzner" }).default("hetzner"),
    token: z.string().trim().min(20, "a Hetzner API token is 64 characters").max(200).optional(),
    tokenSecret: z
      .string()
      .trim()
      .regex(/^[A-Z][A-Z0-9_]{0,63}$/, "a project secret's name, UPPER_SNAKE_CASE")
      .optional(),
    serverType: hetznerName("the server type"),
    location: hetznerName("the location"),
    image: hetznerName("the image").default("debian-12"),
    labels: nodeLabelsSchema.default([]),
    capacity: count(1, 64, 4),
    maxVms: count(1, 100, 3),
    warmMinutes: count(0, 24 * 60, 30),
    warmPool: count(0, 100, 0),
    enabled: z.boolean({ message: "must be true or false" }).default(true),
  })
  .strict()
  .refine((s) => s.warmPool <= s.maxVms, {
    message: "the warm pool cannot be larger than max VMs",
    path: ["warmPool"],
  });

/** What anyone allowed to see the settings sees: never the token, only whether one is set. */
export interface CloudSettingsView {
  id: string;
  scope: "project" | "instance";
  projectId: string | null;
  provider: "hetzner";
  tokenSecret: string | null;
  tokenSet: boolean;
  serverType: string;
  location: string;
  image: string;
  labels: string[];
  capacity: number;
  maxVms: number;
  warmMinutes: number;
  warmPool: number;
  enabled: boolean;
  failures: number;
  backoffUntil: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
  /** VMs that exist now (being created, ready, warm or draining). */
  vms: number;
}

const LIVE = ["provisioning", "ready", "warm", "draining"] as const;
const tokenAad = (id: string) => `sam-cloud-token:${id}`;

export function labelsOf(row: { labels: string }): string[] {
  const parsed = nodeLabelsSchema.safeParse(JSON.parse(row.labels));
  return parsed.success ? parsed.data : [];
}

function whereScope(scope: CloudScope) {
  return scope === "instance" ? isNull(cloudSettings.projectId) : eq(cloudSettings.projectId, scope.projectId);
}

async function authorize(db: Db, userId: string, scope: CloudScope, change: boolean): Promise<void> {
  if (scope === "instance") {
    if (change) await requireAdmin(db, { userId }, "change the instance's cloud settings");
    return;
  }
  const project = await getProjectForUser(db, userId, scope.projectId);
  if (change && project.role !== "owner")
    throw new SamError("forbidden", "Only a project owner can change cloud settings");
}

async function liveVms(db: Db, settingsId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)` })
    .from(nodes)
    .where(and(eq(nodes.cloudSettingsId, settingsId), inArray(nodes.status, [...LIVE])));
  return Number(row?.n ?? 0);
}

async function view(db: Db, row: CloudSettingsRow): Promise<CloudSettingsView> {
  return {
    id: row.id,
    scope: row.projectId ? "project" : "instance",
    projectId: row.projectId,
    provider: row.provider,
    tokenSecret: row.tokenSecretName,
    tokenSet: row.tokenCiphertext !== null || row.tokenSecretName !== null,
    serverType: row.serverType,
    location: row.location,
    image: row.image,
    labels: labelsOf(row),
    capacity: row.capacity,
    maxVms: row.maxVms,
    warmMinutes: row.warmMinutes,
    warmPool: row.warmPool,
    enabled: row.enabled,
    failures: row.failures,
    backoffUntil: row.backoffUntil,
    lastError: row.lastError,
    lastErrorAt: row.lastErrorAt,
    vms: await liveVms(db, row.id),
  };
}

async function findRow(db: Db, scope: CloudScope): Promise<CloudSettingsRow | undefined> {
  return db.query.cloudSettings.findFirst({ where: whereScope(scope) });
}

/** The settings of a scope, or undefined when there are none. Members may read a project's. */
export async function getCloudSettings(
  db: Db,
  userId: string,
  scope: CloudScope,
): Promise<CloudSettingsView | undefined> {
  await authorize(db, userId, scope, false);
  const row = await findRow(db, scope);
  return row ? view(db, row) : undefined;
}

/**
 * Stores settings for a scope (project owners; the instance admin for the instance), merged over
 * what is stored. A project names its token secret (default HCLOUD_TOKEN), which must exist; the
 * instance gives the token itself.
 */
export async function setCloudSettings(
  db: Db,
  key: Buffer,
  userId: string,
  scope: CloudScope,
  input: unknown,
): Promise<CloudSettingsView> {
  await authorize(db, userId, scope, true);
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new SamError("invalid_input", "Cloud settings must be a JSON object");
  }
  const existing = await findRow(db, scope);
  const stored = existing
    ? {
        serverType: existing.serverType,
        location: existing.location,
        image: existing.image,
        labels: labelsOf(existing),
        capacity: existing.capacity,
        maxVms: existing.maxVms,
        warmMinutes: existing.warmMinutes,
        warmPool: existing.warmPool,
        enabled: existing.enabled,
        ...(existing.tokenSecretName ? { tokenSecret: existing.tokenSecretName } : {}),
      }
    : {};
  const settings = parseInput(cloudSettingsSchema, { ...stored, ...input });
  const id = existing?.id ?? newId();
  let token: { tokenSecretName: string | null; tokenCiphertext: string | null };
  if (scope === "instance") {
    if (settings.tokenSecret !== undefined) {
      throw new SamError("invalid_input", "The instance has no secrets to name: give the token itself (token)", {
        fields: [{ field: "tokenSecret", message: "is for project settings; give token" }],
      });
    }
    const ciphertext = settings.token ? encryptSecret(key, settings.token, tokenAad(id)) : existing?.tokenCiphertext;
    if (!ciphertext) {
      throw new SamError("invalid_input", "A Hetzner API token is required", {
        fields: [{ field: "token", message: "is required" }],
      });
    }
    token = { tokenSecretName: null, tokenCiphertext: ciphertext };
  } else {
    if (settings.token !== undefined) {
      throw new SamError(
        "invalid_input",
        "A project's Hetzner token is one of its secrets: store it (sam secret set) and give its name (tokenSecret)",
        { fields: [{ field: "token", message: "is for instance settings; give tokenSecret" }] },
      );
    }
    const name = settings.tokenSecret ?? "HCLOUD_TOKEN";
    if ((await revealSecret(db, key, scope.projectId, name)) === undefined) {
      throw new SamError(
        "invalid_input",
        `The project has no secret named ${name}: store the Hetzner API token first`,
        {
          fields: [{ field: "tokenSecret", message: `no secret named ${name}` }],
        },
      );
    }
    token = { tokenSecretName: name, tokenCiphertext: null };
  }
  const values = {
    provider: settings.provider,
    ...token,
    serverType: settings.serverType,
    location: settings.location,
    image: settings.image,
    labels: JSON.stringify(settings.labels),
    capacity: settings.capacity,
    maxVms: settings.maxVms,
    warmMinutes: settings.warmMinutes,
    warmPool: settings.warmPool,
    enabled: settings.enabled,
    updatedAt: new Date(),
  };
  if (existing) {
    // Saving settings is a new start: a backoff from the old ones does not hold the new ones back.
    await db
      .update(cloudSettings)
      .set({ ...values, failures: 0, backoffUntil: null })
      .where(eq(cloudSettings.id, id));
  } else {
    // Invariant: one row per scope (SQLite's unique index lets several NULL project ids through).
    const projectId = scope === "instance" ? null : scope.projectId;
    const inserted = await db.run(sql`
      INSERT INTO cloud_settings (id, project_id, provider, token_secret_name, token_ciphertext, server_type, location,
        image, labels, capacity, max_vms, warm_minutes, warm_pool, enabled)
      SELECT ${id}, ${projectId}, ${values.provider}, ${values.tokenSecretName}, ${values.tokenCiphertext},
        ${values.serverType}, ${values.location}, ${values.image}, ${values.labels}, ${values.capacity}, ${values.maxVms},
        ${values.warmMinutes}, ${values.warmPool}, ${values.enabled ? 1 : 0}
      WHERE NOT EXISTS (SELECT 1 FROM cloud_settings WHERE project_id IS ${projectId})`);
    if (inserted.rowsAffected === 0)
      throw new SamError("conflict", "Cloud settings were saved at the same time; try again");
  }
  const row = await findRow(db, scope);
  if (!row) throw new SamError("internal", "The cloud settings were not stored");
  return view(db, row);
}

/** Removes a scope's settings; refused while VMs made with them still exist (their token deletes them). */
export async function clearCloudSettings(db: Db, userId: string, scope: CloudScope): Promise<void> {
  await authorize(db, userId, scope, true);
  const row = await findRow(db, scope);
  if (!row) throw new SamError("not_found", "There are no cloud settings to clear");
  const vms = await liveVms(db, row.id);
  if (vms > 0) {
    throw new SamError(
      "conflict",
      `${vms} VM(s) made with these settings still exist: disable the settings (enabled: false), which deletes idle VMs, and clear them once they are gone`,
    );
  }
  await db.delete(cloudSettings).where(eq(cloudSettings.id, row.id));
}

/** The API token of settings, for the provider calls only. */
export async function cloudTokenOf(db: Db, key: Buffer, row: CloudSettingsRow): Promise<string> {
  if (row.tokenCiphertext) return decryptSecret(key, row.tokenCiphertext, tokenAad(row.id));
  if (row.projectId && row.tokenSecretName) {
    const token = await revealSecret(db, key, row.projectId, row.tokenSecretName);
    if (token) return token;
    throw new SamError("invalid_input", `The project's secret ${row.tokenSecretName} (the Hetzner API token) is gone`);
  }
  throw new SamError("invalid_input", "These cloud settings have no API token");
}
