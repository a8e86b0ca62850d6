"use server";

import { revalidatePath } from "next/cache";
import { actionError } from "@/app/action-error";
import { requireApiUser } from "@/app/current-user";
import type { ActionState } from "@/components/forms/action-state";
import { getDb } from "@/db/client";
import { SamError } from "@/lib/errors";
import { inviteMember, revokeInvitation } from "@/lib/projects/invitations";
import { removeMember, setProjectArchived, updateProjectSettings } from "@/lib/projects/projects";
import { instanceSecretKey } from "@/lib/secrets/instance-key";
import { deleteSecret, setSecret } from "@/lib/secrets/store";

const SETTINGS_FIELDS = [
  "maxDepth",
  "maxChildren",
  "maxActiveDispatched",
  "maxRetries",
  "stopGraceSeconds",
  "harness",
  "agentCommand",
  "permissionPolicy",
  "network",
  "deleteBranches",
  "githubUrl",
  "modelBaseUrl",
  "nodeLabels",
];

/**
 * The `model` setting from the form's provider and model fields; what is said about `model` is
 * said next to the model field.
 */
function modelOf(formData: FormData): string | undefined {
  const provider = formData.get("provider");
  if (typeof provider !== "string") return undefined;
  if (provider === "scripted") return "scripted";
  const id = String(formData.get("modelId") ?? "").trim();
  if (!id) {
    const message = "Choose a model, or type its name";
    throw new SamError("invalid_input", message, { fields: [{ field: "modelId", message }] });
  }
  return `${provider}:${id}`;
}

function onModelField(err: unknown): unknown {
  if (!SamError.is(err) || !err.details?.fields) return err;
  const fields = err.details.fields.map((f) => (f.field === "model" ? { ...f, field: "modelId" } : f));
  return new SamError(err.code, err.message, { ...err.details, fields });
}

async function run(
  projectId: string,
  fn: (userId: string) => Promise<string>,
  formData?: FormData,
): Promise<ActionState> {
  try {
    const user = await requireApiUser();
    const message = await fn(user.id);
    revalidatePath(`/projects/${projectId}`, "layout");
    return { ok: true, message };
  } catch (err) {
    return actionError(err, formData);
  }
}

export async function updateSettingsAction(projectId: string, _prev: ActionState, formData: FormData) {
  return run(
    projectId,
    async (userId) => {
      const input: Record<string, unknown> = {};
      for (const field of SETTINGS_FIELDS) {
        const value = formData.get(field);
        if (value !== null) input[field] = value;
      }
      try {
        const model = modelOf(formData);
        if (model !== undefined) input.model = model;
        await updateProjectSettings(getDb(), userId, projectId, input);
      } catch (err) {
        throw onModelField(err);
      }
      return "Settings saved.";
    },
    formData,
  );
}

export async function setSecretAction(projectId: string, _prev: ActionState, formData: FormData) {
  return run(
    projectId,
    async (userId) => {
      const saved = await setSecret(getDb(), instanceSecretKey(), userId, projectId, {
        name: formData.get("name"),
        kind: formData.get("kind"),
        value: formData.get("value"),
      });
      return `Secret ${saved.name} saved.`;
    },
    formData,
  );
}

export async function deleteSecretAction(projectId: string, name: string, _prev: ActionState, _formData: FormData) {
  return run(projectId, async (userId) => {
    await deleteSecret(getDb(), userId, projectId, name);
    return `Secret ${name} deleted.`;
  });
}

export async function inviteAction(projectId: string, _prev: ActionState, formData: FormData) {
  return run(
    projectId,
    async (userId) => {
      const result = await inviteMember(getDb(), userId, projectId, {
        invitee: formData.get("invitee"),
        role: formData.get("role") ?? undefined,
      });
      if (result.kind === "member") {
        const { member } = result;
        return `${member.email ?? (member.githubLogin ? `@${member.githubLogin}` : member.name)} is now a ${member.role}.`;
      }
      const { invitation } = result;
      const who = invitation.inviteeKind === "github" ? `@${invitation.invitee}` : invitation.invitee;
      return `Invited ${who} as ${invitation.role}: they join at their first sign-in.`;
    },
    formData,
  );
}

export async function withdrawInvitationAction(
  projectId: string,
  invitationId: string,
  _prev: ActionState,
  _formData: FormData,
) {
  return run(projectId, async (userId) => {
    await revokeInvitation(getDb(), userId, projectId, invitationId);
    return "Invitation withdrawn.";
  });
}

export async function removeMemberAction(projectId: string, memberId: string, _prev: ActionState, _formData: FormData) {
  return run(projectId, async (userId) => {
    await removeMember(getDb(), userId, projectId, memberId);
    return "Member removed.";
  });
}

export async function setArchivedAction(projectId: string, archived: boolean, _prev: ActionState, _formData: FormData) {
  return run(projectId, async (userId) => {
    await setProjectArchived(getDb(), userId, projectId, archived);
    return archived ? "Project archived." : "Project restored.";
  });
}
