"use server";

import { requireApiUser } from "@/app/current-user";
import { getDb } from "@/db/client";
import { setChatMode } from "@/lib/chat/send";

/** Remembers the composer's Conversation / Task choice for the signed-in user. */
export async function saveChatModeAction(mode: unknown): Promise<void> {
  const user = await requireApiUser();
  await setChatMode(getDb(), user.id, mode);
}
