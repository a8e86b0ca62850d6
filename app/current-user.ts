import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
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

/** For route handlers and server actions: the signed-in user, or an `unauthenticated` error. */
export async function requireApiUser(): Promise<User> {
  const user = await currentUser();
  if (!user) throw new SamError("unauthenticated", "Sign in first");
  return user;
}
