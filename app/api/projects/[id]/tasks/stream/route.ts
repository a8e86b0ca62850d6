import { z } from "zod";
import { handle } from "@/app/api/handle";
import { sseResponse } from "@/app/api/sse-response";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { getProjectForUser } from "@/lib/projects/projects";
import type { SidebarChanges } from "@/lib/sidebar/types";
import { watchSidebar } from "@/lib/sidebar/watch-sidebar";
import { parseInput } from "@/lib/validation";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

const cursor = z
  .string()
  .trim()
  .regex(/^\d{1,15}$/, { message: "must be a change cursor (a whole number of 0 or more)" });

/** Where the caller is up to: `Last-Event-ID` (set by EventSource on reconnect) and `?after`. */
const resumeSchema = z.object({ "Last-Event-ID": cursor.optional(), after: cursor.optional() }).strict();

/**
 * The project's sidebar as Server-Sent Events: each `changes` event holds fresh groups, child rows
 * and filter counts to patch in; its id is the change cursor, so a reconnecting EventSource
 * (Last-Event-ID) or a caller with `?after=<cursor>` (a page's changesAfter) resumes without losing
 * a change. The stream runs until the client leaves or loses access to the project.
 */
export async function GET(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const db = getDb();
    const project = await getProjectForUser(db, user.id, id);
    const after = resumePoint(req);

    return sseResponse(
      req,
      (signal) => watchSidebar(db, user.id, project.id, { after, signal }),
      frame,
      `sidebar of project ${project.id}`,
    );
  });
}

function frame(changes: SidebarChanges): string {
  return `id: ${changes.cursor}\nevent: changes\ndata: ${JSON.stringify(changes)}\n\n`;
}

/** The later of the two resume points the caller gave; 0 (everything) when it gave none. */
function resumePoint(req: Request): number {
  const header = req.headers.get("last-event-id");
  const query = new URL(req.url).searchParams.get("after");
  const given = parseInput(resumeSchema, {
    ...(header === null || header.trim() === "" ? {} : { "Last-Event-ID": header }),
    ...(query === null || query.trim() === "" ? {} : { after: query }),
  });
  return Math.max(Number(given["Last-Event-ID"] ?? 0), Number(given.after ?? 0));
}
