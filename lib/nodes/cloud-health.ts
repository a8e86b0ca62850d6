import { asc, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { cloudSettings, projects } from "@/db/schema";

/** How one cloud setting's VM creation fares: its failures in a row, back-off and last error. */
export interface CloudHealth {
  id: string;
  provider: string;
  /** The project it serves, or null for the instance's own setting. */
  project: { id: string; name: string } | null;
  serverType: string;
  location: string;
  enabled: boolean;
  failures: number;
  backoffUntil: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** Every cloud setting's creation health, for the Nodes page (never its token). */
export async function listCloudHealth(db: Db): Promise<CloudHealth[]> {
  const rows = await db
    .select({ setting: cloudSettings, projectName: projects.name })
    .from(cloudSettings)
    .leftJoin(projects, eq(projects.id, cloudSettings.projectId))
    .orderBy(asc(cloudSettings.createdAt));
  return rows.map(({ setting, projectName }) => ({
    id: setting.id,
    provider: setting.provider,
    project: setting.projectId ? { id: setting.projectId, name: projectName ?? setting.projectId } : null,
    serverType: setting.serverType,
    location: setting.location,
    enabled: setting.enabled,
    failures: setting.failures,
    backoffUntil: setting.backoffUntil?.toISOString() ?? null,
    lastError: setting.lastError,
    lastErrorAt: setting.lastErrorAt?.toISOString() ?? null,
  }));
}
