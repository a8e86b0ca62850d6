"use server";

import { revalidatePath } from "next/cache";
import { actionError } from "@/app/action-error";
import { currentUser, requireApiUser } from "@/app/current-user";
import type { NewTokenState } from "@/components/account/NewTokenForm";
import type { ActionState } from "@/components/forms/action-state";
import { getDb } from "@/db/client";
import { mintPersonalToken, revokePersonalToken } from "@/lib/auth/personal-tokens";
import { SamError } from "@/lib/errors";

/**
 * Mints a personal token for the signed-in user and shows it once. Only a browser session may: a
 * token must not be able to mint its own successor and outlive its expiry.
 */
export async function mintTokenAction(_prev: NewTokenState, formData: FormData): Promise<NewTokenState> {
  try {
    const user = await currentUser();
    if (!user) throw new SamError("unauthenticated", "Sign in first");
    const minted = await mintPersonalToken(getDb(), user.id, {
      name: String(formData.get("name") ?? ""),
      days: formData.get("days") ?? undefined,
    });
    revalidatePath("/account");
    return { ok: true, token: minted.token, message: `Expires ${minted.expiresAt.toISOString().slice(0, 10)}.` };
  } catch (err) {
    return actionError(err, formData);
  }
}

export async function revokeTokenAction(
  tokenId: string,
  _prev: ActionState,
  _formData: FormData,
): Promise<ActionState> {
  try {
    const user = await requireApiUser();
    await revokePersonalToken(getDb(), { userId: user.id }, tokenId);
    revalidatePath("/account");
    return { ok: true, message: "Token revoked." };
  } catch (err) {
    return actionError(err);
  }
}
