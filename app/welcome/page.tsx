import { redirect } from "next/navigation";
import { requireUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { lastAcceptedProject } from "@/lib/projects/invitations";

/** Where a first sign-in lands: the project the person was invited to, or their project list. */
export default async function WelcomePage() {
  const user = await requireUser();
  const projectId = await lastAcceptedProject(getDb(), user.id);
  redirect(projectId ? `/projects/${projectId}` : "/projects");
}
