import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { authenticatePersonalToken } from "@/lib/auth/personal-tokens";
import { SamError } from "@/lib/errors";
import { getUser, type User } from "@/lib/users";
import { auth } from "./auth";

/** The signed-in user, or undefined. A session whose user no longer exists counts as signed out. */
export async function currentUser(): Promise<User | undefined> {
  const session = await auth();
  const id = session?.user?.id;
  return id ? getUser(getDb(), id) : undefined;
}

/** For pages: the signed-in user, or a redirect to the sign-in page. */
export async function requireUser(): Promise<User> {
  const user = await currentUser();
  if (!user) redirect("/signin");
  return user;
}

/**
 * For route handlers and server actions: the signed-in user, or the user of a personal token
 * (Authorization: Bearer samp_…), or an `unauthenticated` error.
 */
export async function requireApiUser(): Promise<User> {
  const bearer = /^Bearer\s+(samp_\S+)$/i.exec((await headers()).get("authorization") ?? "")?.[1];
  const user = bearer ? await getUser(getDb(), await authenticatePersonalToken(getDb(), bearer)) : await currentUser();
  if (!user) throw new SamError("unauthenticated", "Sign in first");
  return user;
}
