import { SignInWithLinkForm } from "@/components/auth/SignInWithLinkForm";
import { getDb } from "@/db/client";
import { isLoginLinkUsable } from "@/lib/auth/login-links";
import { signInWithLink } from "./actions";

/**
 * Opening the link only shows a button: link previewers and prefetchers issue GETs, and must not
 * use up a one-time link.
 */
export default async function LoginLinkPage({ params }: { params: Promise<{ token: string }> }) {
  const { token } = await params;
  const usable = await isLoginLinkUsable(getDb(), token);
  return (
    <main className="mx-auto max-w-md px-6 py-24">
      <h1 className="text-3xl font-semibold tracking-tight">Sign in to SAM</h1>
      {usable ? (
        <SignInWithLinkForm token={token} signIn={signInWithLink} />
      ) : (
        <p
          role="alert"
          className="mt-6 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
        >
          This sign-in link is invalid, expired or already used. Run <code>npx sam login-link</code> on the server host
          for a new one.
        </p>
      )}
    </main>
  );
}
