"use server";

import { AuthError } from "next-auth";
import { z } from "zod";
import { LOGIN_LINK_PROVIDER, signIn } from "@/app/auth";
import type { ActionState } from "@/components/forms/action-state";

const tokenSchema = z.string().regex(/^[A-Za-z0-9_-]{20,100}$/);

export async function signInWithLink(_prev: ActionState, formData: FormData): Promise<ActionState> {
  const token = tokenSchema.safeParse(formData.get("token"));
  if (!token.success) return { error: "This sign-in link is malformed." };
  try {
    await signIn(LOGIN_LINK_PROVIDER, { token: token.data, redirectTo: "/projects" });
  } catch (err) {
    // signIn redirects by throwing; only Auth.js's own failures are a refused link.
    if (err instanceof AuthError) {
      return {
        error: "This sign-in link is invalid, expired or already used. Run `npx sam login-link` for a new one.",
      };
    }
    throw err;
  }
  return {};
}
