import { redirect } from "next/navigation";
import { githubSignInEnabled, signIn } from "@/app/auth";
import { currentUser } from "@/app/current-user";

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string }> }) {
  if (await currentUser()) redirect("/projects");
  const { error } = await searchParams;
  const github = githubSignInEnabled();
  return (
    <main className="mx-auto max-w-md px-6 py-24">
      <h1 className="text-3xl font-semibold tracking-tight">Sign in to SAM</h1>
      {error ? (
        <p
          role="alert"
          className="mt-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
        >
          Sign-in failed ({error}). Try again.
        </p>
      ) : null}
      <p className="mt-4 text-zinc-600 dark:text-zinc-400">
        Open the one-time link the server printed when it started, or print a new one on the server host:
      </p>
      <pre className="mt-3 rounded-md bg-zinc-100 px-3 py-2 font-mono text-sm dark:bg-zinc-900">npx sam login-link</pre>
      {github ? (
        <form
          className="mt-8"
          action={async () => {
            "use server";
            await signIn("github", { redirectTo: "/projects" });
          }}
        >
          <button
            type="submit"
            className="w-full rounded-md bg-zinc-900 px-4 py-2 font-medium text-white hover:bg-zinc-700 dark:bg-zinc-100 dark:text-zinc-900"
          >
            Sign in with GitHub
          </button>
        </form>
      ) : null}
    </main>
  );
}
