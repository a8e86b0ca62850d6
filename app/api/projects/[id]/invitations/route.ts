import { handle, jsonBody } from "@/app/api/handle";
import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { inviteMember, listInvitations } from "@/lib/projects/invitations";

export const dynamic = "force-dynamic";

interface Params {
  params: Promise<{ id: string }>;
}

/** The project's open invitations; any member may see them. */
export async function GET(_req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    return Response.json(await listInvitations(getDb(), user.id, id));
  });
}

/**
 * Invites a person as one of the project's owners: {invitee: email or GitHub login, role?}. Someone
 * with an account becomes a member at once (200, {kind: "member"}); anyone else is invited until
 * their first sign-in (201, {kind: "invitation"}). The body is validated by `inviteSchema`.
 */
export async function POST(req: Request, { params }: Params) {
  return handle(async () => {
    const user = await requireApiUser();
    const { id } = await params;
    const result = await inviteMember(getDb(), user.id, id, await jsonBody(req));
    return Response.json(result, { status: result.kind === "invitation" ? 201 : 200 });
  });
}
