"use server";

import { revalidatePath } from "next/cache";
import { actionError } from "@/app/action-error";
import { requireApiUser } from "@/app/current-user";
import type { ActionState } from "@/components/forms/action-state";
import { getDb } from "@/db/client";
import { drainNode, removeNode } from "@/lib/nodes/manage";

export async function drainNodeAction(nodeId: string, _prev: ActionState, _formData: FormData): Promise<ActionState> {
  try {
    const user = await requireApiUser();
    const node = await drainNode(getDb(), { userId: user.id }, nodeId);
    revalidatePath("/admin/nodes");
    return { ok: true, message: `${node.name} is draining.` };
  } catch (err) {
    return actionError(err);
  }
}

export async function removeNodeAction(nodeId: string, _prev: ActionState, _formData: FormData): Promise<ActionState> {
  try {
    const user = await requireApiUser();
    const node = await removeNode(getDb(), { userId: user.id }, nodeId);
    revalidatePath("/admin/nodes");
    return { ok: true, message: `${node.name} was removed.` };
  } catch (err) {
    return actionError(err);
  }
}
