import { sql } from "drizzle-orm";
import { getDb } from "@/db/client";
import { errorResponse, SamError } from "@/lib/errors";

export const dynamic = "force-dynamic";

/** 200 with JSON when the app and its database answer; 503 otherwise. */
export async function GET() {
  const started = performance.now();
  try {
    await getDb().run(sql`SELECT 1`);
  } catch {
    return errorResponse(new SamError("unavailable", "The database does not answer"));
  }
  return Response.json({ status: "ok", database: "ok", latencyMs: Math.round(performance.now() - started) });
}
