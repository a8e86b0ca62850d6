import { handle } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { revokeInvitation } from "@/lib/projects/invitations";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string; invitationId: string }>;
}

/** Withdraws an invitation that has not been used yet, as one of the project's owners. */
export async function DELETE(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id, invitationId } = await params;
    await revokeInvitation(getDb(), user.id, id, invitationId);
    return new Response(null, { status: 204 });
  });
}
