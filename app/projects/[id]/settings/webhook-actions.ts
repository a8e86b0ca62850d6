"use server";

import { revalidatePath } from "next/cache";
import { actionError } from "@/app/action-error";
import { requireApiUser } from "@/app/current-user";
import type { ActionState } from "@/components/forms/action-state";
import { getDb } from "@/db/client";
import { instanceSecretKey } from "@/lib/secrets/instance-key";
import { kickWebhooks } from "@/lib/webhooks/boot";
import { addWebhook, removeWebhook, replayDelivery } from "@/lib/webhooks/store";

async function run(projectId: string, fn: (userId: string) => Promise<string>, formData?: FormData) {
  try {
    const user = await requireApiUser();
    const message = await fn(user.id);
    revalidatePath(`/projects/${projectId}/settings`);
    return { ok: true, message } satisfies ActionState;
  } catch (err) {
    return actionError(err, formData);
  }
}

export async function addWebhookAction(projectId: string, _prev: ActionState, formData: FormData) {
  return run(
    projectId,
    async (userId) => {
      const secret = String(formData.get("secret") ?? "");
      const webhook = await addWebhook(getDb(), instanceSecretKey(), userId, projectId, {
        url: formData.get("url"),
        format: formData.get("format") ?? undefined,
        ...(secret === "" ? {} : { secret }),
        kinds: formData.getAll("kinds"),
      });
      return `Webhook to ${webhook.urlHint} added.`;
    },
    formData,
  );
}

export async function removeWebhookAction(projectId: string, webhookId: string, _prev: ActionState, _form: FormData) {
  return run(projectId, async (userId) => {
    await removeWebhook(getDb(), userId, webhookId);
    return "Webhook removed.";
  });
}

export async function replayDeliveryAction(projectId: string, deliveryId: string, _prev: ActionState, _form: FormData) {
  return run(projectId, async (userId) => {
    await replayDelivery(getDb(), userId, deliveryId);
    kickWebhooks();
    return "Sent again.";
  });
}
