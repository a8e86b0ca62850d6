import path from "node:path";
import { openDb } from "@/db/client";
import { createLoginLink } from "@/lib/auth/login-links";
import { createLocalUser, ensureInstanceOwner } from "@/lib/users";
import type { AppServer } from "./app-server";

/** A fresh sign-in link for the owner, or for a new local user when `email` is given. */
export async function mintLoginLink(app: AppServer, email?: string): Promise<string> {
  const db = openDb({ url: `file:${path.join(app.dataDir, "sam.db")}` });
  try {
    const user = email ? await createLocalUser(db, { email }) : await ensureInstanceOwner(db);
    const link = await createLoginLink(db, { userId: user.id, baseUrl: app.baseUrl, ttlMs: 15 * 60_000 });
    return link.url;
  } finally {
    db.$client.close();
  }
}
